package finetune

import (
	"strings"
	"testing"

	"ft/graph"
	"ft/tensor"
)

func params(names ...string) []*graph.Param {
	var ps []*graph.Param
	for _, n := range names {
		ps = append(ps, &graph.Param{Name: n, Value: tensor.Zeros(tensor.Float32, 2)})
	}
	return ps
}

func TestSelection(t *testing.T) {
	ps := params(
		"bert.embeddings.word_embeddings.weight",
		"bert.embeddings.LayerNorm.weight",
		"bert.encoder.layer.0.attention.self.query.weight",
		"bert.encoder.layer.1.attention.self.query.weight",
		"bert.encoder.layer.1.output.dense.bias",
		"bert.pooler.dense.weight",
		"classifier.weight",
	)
	cases := []struct {
		name string
		sel  Selection
		want string
		err  string
	}{
		{"all", Selection{}, "0123456", ""},
		{"top layer", Selection{TrainTopLayers: 1}, "3456", ""},
		{"freeze embeddings", Selection{FreezeEmbeddings: true}, "23456", ""},
		{"train glob", Selection{Train: []string{"bert.encoder.layer.1.*", "classifier.*"}}, "346", ""},
		{"freeze substring", Selection{Freeze: []string{"query"}}, "01456", ""},
		{"train and freeze", Selection{Train: []string{"encoder"}, Freeze: []string{"*.bias"}}, "23", ""},
		{"no match", Selection{Freeze: []string{"decoder"}}, "", `"decoder" matches no parameter`},
		{"bad glob", Selection{Train: []string{"[x"}}, "", "bad pattern"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.sel.Select(ps)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := ""
			for _, p := range got {
				for i, q := range ps {
					if p == q {
						s += string(rune('0' + i))
					}
				}
			}
			if s != c.want {
				t.Fatalf("selected %s, want %s", s, c.want)
			}
		})
	}
}

func TestLayerIndex(t *testing.T) {
	for name, want := range map[string]int{
		"bert.encoder.layer.11.output.dense.weight":                       11,
		"model.layers.3.attn.Wqkv.weight":                                 3,
		"albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight": 0,
		"classifier.weight":                                               -1,
		"distilbert.transformer.layer.5.ffn.lin2.bias":                    5,
	} {
		if got := LayerIndex(name); got != want {
			t.Errorf("LayerIndex(%s) = %d, want %d", name, got, want)
		}
	}
}
