package graph

import "testing"

// TestOptionsFromEnv: each of ft's switches sets its option and nothing
// else; unset, the options are the zero Options.
func TestOptionsFromEnv(t *testing.T) {
	cases := []struct {
		env                   map[string]string
		nofuse, off, backward bool
	}{
		{env: map[string]string{}},
		{env: map[string]string{"FT_NOFUSE": "1"}, nofuse: true},
		{env: map[string]string{"FT_NOPOOL": "1"}, off: true},
		{env: map[string]string{"FT_POOL_BACKWARD": "1"}, backward: true},
		{env: map[string]string{"FT_NOFUSE": "yes", "FT_NOPOOL": "1", "FT_POOL_BACKWARD": "1"}, nofuse: true, off: true, backward: true},
	}
	for _, c := range cases {
		for _, k := range []string{"FT_NOFUSE", "FT_NOPOOL", "FT_POOL_BACKWARD"} {
			t.Setenv(k, c.env[k])
		}
		o := OptionsFromEnv()
		off := o.Pool != nil && o.Pool.Off
		if o.DisableFusion != c.nofuse || off != c.off || o.PoolBackward != c.backward || o.NoFold || o.AllowUnsupported {
			t.Errorf("%v: got %+v (pool off %v)", c.env, o, off)
		}
		if !c.off && o.Pool != nil {
			t.Errorf("%v: a pool %+v, want the default (nil)", c.env, o.Pool)
		}
	}
}
