package ops

// Einsum (opset 12): Einstein summation over any number of operands.
//
//	equation "term,term,...->out" (or implicit: no "->", output = the labels
//	that occur once, in character order, after the ellipsis dimensions);
//	labels are letters, case-sensitive; "..." stands for the same (broadcast,
//	right-aligned) leading dimensions in every term. A label repeated in one
//	term reads a diagonal; a label absent from the output is summed.
//
// Plan (tinygrad-style: everything reduces to two primitives):
//
//	operands are folded left to right; each step contracts the running result
//	X with the next operand Y, keeping the labels still needed (in the output
//	or in later operands):
//	  batch = X∩Y kept,  m = X only kept,  k = X∩Y summed,  n = Y only kept
//	  A' [batch, m, k] or [batch, k, m] = strided map of X   (diagonals,
//	  B' [batch, k, n] or [batch, n, k] = strided map of Y    private sums,
//	                                                          broadcasts)
//	  C' [batch, m, n] = op(A')·op(B')                        (kernels.GemmBatch)
//	a strided map that is a plain view (the common "bfnd,ndh->bfh",
//	"bhqd,bhkd->bhqk" cases) costs no copy: A' and B' pick whichever
//	orientation matches the operand's layout. A final strided map takes the
//	result (or the single operand) to the output order.
//
//	backward: the adjoints in reverse: a strided map's adjoint scatters
//	(adds) into the operand's positions; the product's is laBMMGrads
//	(dA' = dC'·op(B')ᵀ, dB' = op(A')ᵀ·dC' with transposition flags).

import (
	"fmt"
	"slices"
	"strings"

	"ft/tensor"
)

type opEinsum struct {
	terms  [][]int // labels per input term; -1 marks the ellipsis
	output []int   // output labels (-1: ellipsis); nil when implicit
	eq     string
}

func init() {
	Register("", "Einsum", 12, func(n *Node) (Op, error) {
		eq := n.String("equation", "")
		o, err := parseEinsum(eq)
		if err != nil {
			return nil, n.Errorf("%v", err)
		}
		return o, nil
	})
}

const esEllipsis = 256 // label of the first ellipsis dimension

func parseEinsum(eq string) (*opEinsum, error) {
	eq = strings.ReplaceAll(eq, " ", "")
	if eq == "" {
		return nil, fmt.Errorf("Einsum: empty equation")
	}
	lhs, rhs, explicit := strings.Cut(eq, "->")
	parse := func(term string) ([]int, error) {
		var ls []int
		ell := false
		for i := 0; i < len(term); i++ {
			c := term[i]
			switch {
			case c == '.':
				if ell || !strings.HasPrefix(term[i:], "...") {
					return nil, fmt.Errorf("Einsum: bad ellipsis in %q of %q", term, eq)
				}
				ell = true
				ls = append(ls, -1)
				i += 2
			case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
				ls = append(ls, int(c))
			default:
				return nil, fmt.Errorf("Einsum: bad character %q in %q", c, eq)
			}
		}
		return ls, nil
	}
	o := &opEinsum{eq: eq}
	for _, t := range strings.Split(lhs, ",") {
		ls, err := parse(t)
		if err != nil {
			return nil, err
		}
		o.terms = append(o.terms, ls)
	}
	if explicit {
		ls, err := parse(rhs)
		if err != nil {
			return nil, err
		}
		seen := map[int]bool{}
		for _, l := range ls {
			if seen[l] {
				return nil, fmt.Errorf("Einsum: label %q repeated in the output of %q", rune(l), eq)
			}
			seen[l] = true
		}
		o.output = ls
		if o.output == nil {
			o.output = []int{}
		}
	}
	return o, nil
}

// esTerm is a tensor's labels (ellipsis expanded), one per dimension.
type esTerm struct {
	labels []int
	shape  []int
}

// esMap is a strided map from a tensor (of n elements) to a dense one.
type esMap struct {
	laStrided
	id bool // a plain view: no copy, the adjoint is the identity
	n  int  // elements of the source
}

// esStep contracts the running result (A side) with the next operand (B side).
type esStep struct {
	sa, sb esMap
	prod   laBMM
	out    esTerm // [batch, m, n] labels and sizes
}

type esPlan struct {
	steps []esStep
	final esMap
	out   []int // output shape
}

// plan expands the ellipsis for the given input shapes and lays out every step.
func (o *opEinsum) plan(shapes [][]int) (*esPlan, error) {
	if len(shapes) != len(o.terms) {
		return nil, fmt.Errorf("Einsum %q: %d terms for %d inputs", o.eq, len(o.terms), len(shapes))
	}
	// Ellipsis rank: the most dimensions any operand's "..." covers.
	ell := 0
	terms := make([]esTerm, len(shapes))
	for i, t := range o.terms {
		letters := len(t)
		hasEll := slices.Contains(t, -1)
		if hasEll {
			letters--
		}
		e := len(shapes[i]) - letters
		if e < 0 || (!hasEll && e != 0) {
			return nil, fmt.Errorf("Einsum %q: operand %d has shape %v", o.eq, i, shapes[i])
		}
		ell = max(ell, e)
	}
	for i, t := range o.terms {
		var ls []int
		e := len(shapes[i]) - (len(t) - 1)
		for _, l := range t {
			if l != -1 {
				ls = append(ls, l)
				continue
			}
			for j := 0; j < e; j++ {
				ls = append(ls, esEllipsis+ell-e+j)
			}
		}
		terms[i] = esTerm{labels: ls, shape: shapes[i]}
	}
	// Label sizes: equal or 1 (broadcast) across occurrences.
	size := map[int]int{}
	count := map[int]int{}
	for _, t := range terms {
		for p, l := range t.labels {
			d := t.shape[p]
			count[l]++
			s, ok := size[l]
			switch {
			case !ok || s == 1:
				size[l] = d
			case d != 1 && d != s:
				return nil, fmt.Errorf("Einsum %q: label %s has sizes %d and %d", o.eq, esName(l), s, d)
			}
		}
	}
	// Output labels.
	var out []int
	if o.output != nil {
		for _, l := range o.output {
			if l != -1 {
				if _, ok := size[l]; !ok {
					return nil, fmt.Errorf("Einsum %q: output label %s is in no input", o.eq, esName(l))
				}
				out = append(out, l)
				continue
			}
			for j := 0; j < ell; j++ {
				out = append(out, esEllipsis+j)
			}
		}
	} else {
		for j := 0; j < ell; j++ {
			out = append(out, esEllipsis+j)
		}
		var once []int
		for l, c := range count {
			if c == 1 && l < esEllipsis {
				once = append(once, l)
			}
		}
		slices.Sort(once)
		out = append(out, once...)
	}
	p := &esPlan{}
	for _, l := range out {
		p.out = append(p.out, size[l])
	}
	cur := terms[0]
	for i := 1; i < len(terms); i++ {
		keep := map[int]bool{}
		for _, l := range out {
			keep[l] = true
		}
		for _, t := range terms[i+1:] {
			for _, l := range t.labels {
				keep[l] = true
			}
		}
		st := esContract(cur, terms[i], keep, size)
		p.steps = append(p.steps, st)
		cur = st.out
	}
	// The final map: cur -> output order (diagonals and sums for one operand).
	p.final = esMapOf(cur, out, size)
	return p, nil
}

func esName(l int) string {
	if l >= esEllipsis {
		return fmt.Sprintf("...[%d]", l-esEllipsis)
	}
	return fmt.Sprintf("%q", rune(l))
}

// esMapOf builds the strided map that reads term t into the dense layout of
// the labels dims (sizes from size): repeated labels read diagonals, labels
// of size 1 in t broadcast, and t's labels not in dims are summed.
func esMapOf(t esTerm, dims []int, size map[int]int) esMap {
	st := tensor.Strides(t.shape)
	stride := func(l int) int {
		s := 0
		for p, x := range t.labels {
			if x == l && t.shape[p] != 1 {
				s += st[p]
			}
		}
		return s
	}
	m := esMap{n: tensor.Size(t.shape)}
	in := map[int]bool{}
	for _, l := range dims {
		in[l] = true
		m.shape = append(m.shape, size[l])
		m.strides = append(m.strides, stride(l))
	}
	done := map[int]bool{}
	for p, l := range t.labels {
		if in[l] || done[l] {
			continue
		}
		done[l] = true
		// A summed label private to t: its size is t's own.
		d := t.shape[p]
		for q, x := range t.labels {
			if x == l && t.shape[q] != 1 {
				d = t.shape[q]
			}
		}
		m.redShape = append(m.redShape, d)
		m.redStrides = append(m.redStrides, stride(l))
	}
	m.id = m.identity() && tensor.Size(m.shape) == m.n
	return m
}

// esContract lays out one pairwise contraction.
func esContract(x, y esTerm, keep map[int]bool, size map[int]int) esStep {
	inX, inY := map[int]bool{}, map[int]bool{}
	for _, l := range x.labels {
		inX[l] = true
	}
	for _, l := range y.labels {
		inY[l] = true
	}
	var batch, mm, kk, nn []int
	seen := map[int]bool{}
	for _, l := range x.labels { // batch, m and k in X's order
		if seen[l] {
			continue
		}
		seen[l] = true
		switch {
		case inY[l] && keep[l]:
			batch = append(batch, l)
		case inY[l]:
			kk = append(kk, l)
		case keep[l]:
			mm = append(mm, l)
		}
	}
	for _, l := range y.labels { // n in Y's order
		if !seen[l] && keep[l] {
			seen[l] = true
			nn = append(nn, l)
		}
	}
	prodOf := func(ls []int) int {
		n := 1
		for _, l := range ls {
			n *= size[l]
		}
		return n
	}
	cat := func(ls ...[]int) []int { return slices.Concat(ls...) }
	B, M, K, N := prodOf(batch), prodOf(mm), prodOf(kk), prodOf(nn)
	s := esStep{prod: laBMM{m: M, n: N, k: K}}
	// A' = [batch, m, k], or [batch, k, m] if that is X's own layout.
	s.sa = esMapOf(x, cat(batch, mm, kk), size)
	if !s.sa.id {
		if alt := esMapOf(x, cat(batch, kk, mm), size); alt.id {
			s.sa, s.prod.transA = alt, true
		}
	}
	s.sb = esMapOf(y, cat(batch, kk, nn), size)
	if !s.sb.id {
		if alt := esMapOf(y, cat(batch, nn, kk), size); alt.id {
			s.sb, s.prod.transB = alt, true
		}
	}
	s.prod.lenA, s.prod.lenB = B*M*K, B*K*N
	for i := 0; i < B; i++ {
		s.prod.aOff = append(s.prod.aOff, i*M*K)
		s.prod.bOff = append(s.prod.bOff, i*K*N)
		s.prod.cOff = append(s.prod.cOff, i*M*N)
	}
	s.out.labels = cat(batch, mm, nn)
	for _, l := range s.out.labels {
		s.out.shape = append(s.out.shape, size[l])
	}
	return s
}

// planFor is plan for the shapes of in.
func (o *opEinsum) planFor(in []*tensor.Tensor) (*esPlan, error) {
	shapes := make([][]int, len(in))
	for i, t := range in {
		shapes[i] = t.Shape
	}
	return o.plan(shapes)
}

func (o *opEinsum) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	dt, err := laFloatInputs("Einsum", in...)
	if err != nil {
		return nil, err
	}
	p, err := o.planFor(in)
	if err != nil {
		return nil, err
	}
	if dt == tensor.Float32 {
		y, _ := einsumForward[float32](p, in)
		return single(tensor.New(p.out, y))
	}
	y, _ := einsumForward[float64](p, in)
	return single(tensor.New(p.out, y))
}

// esApply maps src through m (no copy for a plain view).
func esApply[T laFloat](src []T, m *esMap) []T {
	if m.id {
		return src
	}
	return laGather(src, &m.laStrided)
}

// esAdjoint maps a gradient back through m to its source's layout.
func esAdjoint[T laFloat](g []T, m *esMap) []T {
	if m.id {
		return g
	}
	return laScatterAdd(g, &m.laStrided, m.n)
}

// einsumForward returns the output and the operands A', B' of every step.
func einsumForward[T laFloat](p *esPlan, in []*tensor.Tensor) ([]T, [][2][]T) {
	cur := tensor.Data[T](in[0])
	saved := make([][2][]T, len(p.steps))
	for i := range p.steps {
		s := &p.steps[i]
		a := esApply(cur, &s.sa)
		b := esApply(tensor.Data[T](in[i+1]), &s.sb)
		c := make([]T, len(s.prod.cOff)*s.prod.m*s.prod.n)
		laBMMForward(&s.prod, 1, a, b, 0, c)
		saved[i] = [2][]T{a, b}
		cur = c
	}
	out := esApply(cur, &p.final)
	if len(in) == 1 && p.final.id {
		out = append([]T(nil), out...) // never alias the input
	}
	return out, saved
}

func (o *opEinsum) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	dt, err := laFloatInputs("Einsum backward", in...)
	if err != nil {
		return nil, err
	}
	p, err := o.planFor(in)
	if err != nil {
		return nil, err
	}
	res := make([]*tensor.Tensor, len(in))
	if dout[0] == nil {
		for i, x := range in {
			if need[i] {
				res[i] = tensor.Zeros(x.DType(), x.Shape...)
			}
		}
		return res, nil
	}
	if dt == tensor.Float32 {
		einsumBackward[float32](p, in, dout[0], need, res)
	} else {
		einsumBackward[float64](p, in, dout[0], need, res)
	}
	return res, nil
}

func einsumBackward[T laFloat](p *esPlan, in []*tensor.Tensor, dy *tensor.Tensor, need []bool, res []*tensor.Tensor) {
	_, saved := einsumForward[T](p, in)
	g := esAdjoint(tensor.Data[T](dy), &p.final)
	// Walk the steps backwards; g is the gradient of the running result.
	for i := len(p.steps) - 1; i >= 0; i-- {
		s := &p.steps[i]
		needA := slices.Contains(need[:i+1], true)
		ga, gb := laBMMGrads(&s.prod, 1, saved[i][0], saved[i][1], g, needA, need[i+1])
		if need[i+1] {
			d := esAdjoint(gb, &s.sb)
			res[i+1] = tensor.New(in[i+1].Shape, d)
		}
		if !needA {
			return
		}
		g = esAdjoint(ga, &s.sa)
	}
	if need[0] {
		if len(p.steps) == 0 && p.final.id {
			g = append([]T(nil), g...) // never alias dout
		}
		res[0] = tensor.New(in[0].Shape, g)
	}
}
