package finetune

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"ft/graph"
)

// Selection says which parameters train. Patterns are shell globs over the
// readable parameter names (path.Match, where * does not cross a '.'-free
// boundary... it matches any run of characters except '/', so
// "bert.encoder.layer.1*" works), or plain substrings when they contain no
// glob character.
type Selection struct {
	Train            []string // only these (default: all)
	Freeze           []string // never these
	TrainTopLayers   int      // train only the top N encoder layers (+ the head)
	FreezeEmbeddings bool
}

var layerRe = regexp.MustCompile(`(?:^|\.)(?:layer|layers|albert_layer_groups|block|blocks|h)\.(\d+)\.`)

// LayerIndex returns the encoder layer number in a parameter name, or -1.
func LayerIndex(name string) int {
	m := layerRe.FindStringSubmatch(name)
	if m == nil {
		return -1
	}
	i, _ := strconv.Atoi(m[1])
	return i
}

// IsEmbedding reports whether a parameter belongs to the embeddings.
func IsEmbedding(name string) bool {
	return strings.Contains(name, "embeddings.") || strings.Contains(name, "embed_tokens") || strings.HasPrefix(name, "embeddings")
}

// matchAny reports whether any pattern selects a parameter name: a glob
// (isGlob) matches the whole name, any other pattern a substring of it.
func matchAny(name string, pats []string) (bool, error) {
	for _, p := range pats {
		if !isGlob(p) {
			if strings.Contains(name, p) {
				return true, nil
			}
			continue
		}
		if ok, err := globMatch("pattern", p, name); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// isGlob reports whether a name pattern holds path.Match's wildcards.
func isGlob(pat string) bool { return strings.ContainsAny(pat, "*?[") }

// globMatch reports whether the glob pat (path.Match) matches any of names;
// what names the pattern in the error for a malformed one.
func globMatch(what, pat string, names ...string) (bool, error) {
	for _, s := range names {
		ok, err := path.Match(pat, s)
		if err != nil {
			return false, fmt.Errorf("bad %s %q: %w", what, pat, err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// Select returns the trainable parameters.
func (s Selection) Select(params []*graph.Param) ([]*graph.Param, error) {
	maxLayer := -1
	for _, p := range params {
		maxLayer = max(maxLayer, LayerIndex(p.Name))
	}
	var out []*graph.Param
	for _, p := range params {
		train := true
		if len(s.Train) > 0 {
			ok, err := matchAny(p.Name, s.Train)
			if err != nil {
				return nil, err
			}
			train = ok
		}
		if s.TrainTopLayers > 0 {
			l := LayerIndex(p.Name)
			if IsEmbedding(p.Name) || (l >= 0 && l <= maxLayer-s.TrainTopLayers) {
				train = false
			}
		}
		if s.FreezeEmbeddings && IsEmbedding(p.Name) {
			train = false
		}
		if ok, err := matchAny(p.Name, s.Freeze); err != nil {
			return nil, err
		} else if ok {
			train = false
		}
		if train {
			out = append(out, p)
		}
	}
	for _, pats := range [][]string{s.Train, s.Freeze} {
		for _, pat := range pats {
			hit := false
			for _, p := range params {
				if ok, _ := matchAny(p.Name, []string{pat}); ok {
					hit = true
				}
			}
			if !hit {
				return nil, fmt.Errorf("pattern %q matches no parameter (see the parameter table: ft run --dry-run)", pat)
			}
		}
	}
	return out, nil
}
