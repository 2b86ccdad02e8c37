package ops

import (
	"reflect"
	"strings"
	"testing"

	"ft/tensor"
)

func quantNode(op string, attrs map[string]int64) Node {
	n := Node{Name: "q", OpType: op, Opset: 21, Attrs: map[string]Attr{}}
	for k, v := range attrs {
		n.Attrs[k] = Attr{Kind: AttrInt, I: v}
	}
	return n
}

func runNode(t *testing.T, n Node, in ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	t.Helper()
	op, err := Build(&n)
	if err != nil {
		t.Fatal(err)
	}
	return op.(Op).Forward(in)
}

// Values derived by hand from the ONNX definitions (rint: half to even).
func TestQuantizeDequantizeLinear(t *testing.T) {
	x := tensor.New([]int{2, 3}, []float32{0.5, 1.5, 2.5, -3, 300, -300})
	cases := []struct {
		name  string
		op    string
		attrs map[string]int64
		in    []*tensor.Tensor
		want  any
	}{
		{"per tensor uint8, half to even", "QuantizeLinear", nil,
			[]*tensor.Tensor{x, tensor.Scalar(float32(1)), tensor.Scalar(uint8(10))},
			[]uint8{10, 12, 12, 7, 255, 0}},
		{"no zero point: uint8 at 0", "QuantizeLinear", nil,
			[]*tensor.Tensor{x, tensor.Scalar(float32(0.5))},
			[]uint8{1, 3, 5, 0, 255, 0}},
		{"per axis 1 int8", "QuantizeLinear", map[string]int64{"axis": 1},
			[]*tensor.Tensor{x, tensor.New([]int{3}, []float32{1, 0.5, 2}), tensor.New([]int{3}, []int8{0, -1, 1})},
			[]int8{0, 2, 2, -3, 127, -128}},
		{"per axis -2 (rows)", "QuantizeLinear", map[string]int64{"axis": -2},
			[]*tensor.Tensor{x, tensor.New([]int{2}, []float32{1, 4}), tensor.New([]int{2}, []int8{0, 0})},
			[]int8{0, 2, 2, -1, 75, -75}},
		{"output_dtype int8", "QuantizeLinear", map[string]int64{"output_dtype": 3},
			[]*tensor.Tensor{x, tensor.Scalar(float32(1))},
			[]int8{0, 2, 2, -3, 127, -128}},
		{"output_dtype int16 in int32", "QuantizeLinear", map[string]int64{"output_dtype": 5},
			[]*tensor.Tensor{x, tensor.Scalar(float32(0.005))},
			[]int32{100, 300, 500, -600, 32767, -32768}},
		{"blocks of 2 along axis 1", "QuantizeLinear", map[string]int64{"axis": 1, "block_size": 2},
			[]*tensor.Tensor{x, tensor.New([]int{2, 2}, []float32{1, 2, 1, 3})},
			[]uint8{0, 2, 1, 0, 255, 0}},
		{"dequantize per tensor", "DequantizeLinear", nil,
			[]*tensor.Tensor{tensor.New([]int{4}, []uint8{0, 3, 128, 255}), tensor.Scalar(float32(2)), tensor.Scalar(uint8(128))},
			[]float32{-256, -250, 0, 254}},
		{"dequantize per axis int8", "DequantizeLinear", map[string]int64{"axis": 0},
			[]*tensor.Tensor{tensor.New([]int{2, 2}, []int8{-128, 127, 3, -3}), tensor.New([]int{2}, []float32{0.5, 2}), tensor.New([]int{2}, []int8{0, -3})},
			[]float32{-64, 63.5, 12, 0}},
		{"dequantize int32 (a bias)", "DequantizeLinear", nil,
			[]*tensor.Tensor{tensor.New([]int{2}, []int32{-1000000, 7}), tensor.Scalar(float32(0.25))},
			[]float32{-250000, 1.75}},
	}
	for _, c := range cases {
		out, err := runNode(t, quantNode(c.op, c.attrs), c.in...)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(out[0].Data, c.want) || !reflect.DeepEqual(out[0].Shape, c.in[0].Shape) {
			t.Errorf("%s: got %v %v, want %v", c.name, out[0].Shape, out[0].Data, c.want)
		}
	}
}

func TestQuantizeLinearErrors(t *testing.T) {
	x := tensor.New([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	cases := []struct {
		name  string
		attrs map[string]int64
		in    []*tensor.Tensor
		want  string
	}{
		{"scale length", map[string]int64{"axis": 1}, []*tensor.Tensor{x, tensor.New([]int{2}, []float32{1, 1})}, "want one value or 3"},
		{"zp shape", nil, []*tensor.Tensor{x, tensor.Scalar(float32(1)), tensor.New([]int{2}, []uint8{1, 1})}, "zero point of shape"},
		{"int32 zp", nil, []*tensor.Tensor{x, tensor.Scalar(float32(1)), tensor.Scalar(int32(1))}, "16-bit"},
		{"axis", map[string]int64{"axis": 2}, []*tensor.Tensor{x, tensor.New([]int{3}, []float32{1, 1, 1})}, "out of range"},
		{"block shape", map[string]int64{"block_size": 2}, []*tensor.Tensor{x, tensor.New([]int{2, 3}, []float32{1, 1, 1, 1, 1, 1})}, "want [2 2]"},
	}
	for _, c := range cases {
		_, err := runNode(t, quantNode("QuantizeLinear", c.attrs), c.in...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.want)
		}
	}
	n := quantNode("QuantizeLinear", map[string]int64{"output_dtype": 17})
	if _, err := Build(&n); err == nil || !strings.Contains(err.Error(), "FLOAT8E4M3FN") {
		t.Errorf("output_dtype float8: error %v", err)
	}
}

// DynamicQuantizeLinear: the values ONNX Runtime 1.32 gives (CPU), including
// its scale of 1 for an all-zero input (ONNX's reference gives 1/255 there).
func TestDynamicQuantizeLinear(t *testing.T) {
	cases := []struct {
		x     []float32
		y     []uint8
		scale float32
		zp    uint8
	}{
		{[]float32{0, 0, 0}, []uint8{0, 0, 0}, 1, 0},
		{[]float32{1, 2, 3}, []uint8{85, 170, 255}, 3.0 / 255, 0},
		{[]float32{-1, -2}, []uint8{128, 0}, 2.0 / 255, 255},
		{[]float32{0.5, -0.25, 1e-8, 2.5, 1.5}, []uint8{69, 0, 23, 255, 162}, float32(2.75) / 255, 23},
	}
	for _, c := range cases {
		out, err := runNode(t, quantNode("DynamicQuantizeLinear", nil), tensor.New([]int{len(c.x)}, c.x))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out[0].Data, c.y) || out[1].F32()[0] != c.scale || out[2].Data.([]uint8)[0] != c.zp {
			t.Errorf("%v: got %v %v %v, want %v %v %v", c.x, out[0].Data, out[1].Data, out[2].Data, c.y, c.scale, c.zp)
		}
	}
}

// MatMulInteger and QLinearMatMul against the definition computed here in
// int64 for shapes the batch plan handles (3-D A by 2-D B, batched B,
// per-row and per-column zero points, every type pair).
func TestMatMulInteger(t *testing.T) {
	a8 := tensor.New([]int{2, 2, 3}, []int8{-128, 127, 5, 0, -1, 2, 3, 4, -5, 6, 7, 8})
	au := tensor.New([]int{2, 2, 3}, []uint8{255, 0, 5, 1, 2, 200, 3, 4, 5, 6, 7, 8})
	b8 := tensor.New([]int{3, 2}, []int8{-128, 127, 1, -1, 2, 3})
	bu := tensor.New([]int{3, 2}, []uint8{255, 0, 1, 128, 2, 3})
	bb := tensor.New([]int{2, 3, 2}, []int8{-128, 127, 1, -1, 2, 3, 4, 5, 6, 7, 8, 9})
	ref := func(a, b *tensor.Tensor, za, zb []int64) []int32 {
		av, bv := a.Float64s(), b.Float64s()
		batchB := b.Rank() == 3
		var c []int32
		for bt := 0; bt < 2; bt++ {
			for i := 0; i < 2; i++ {
				for j := 0; j < 2; j++ {
					var s int64
					for k := 0; k < 3; k++ {
						bo := 0
						if batchB {
							bo = bt * 6
						}
						zai, zbj := za[0], zb[0]
						if len(za) > 1 {
							zai = za[i]
						}
						if len(zb) > 1 {
							zbj = zb[j]
						}
						s += (int64(av[bt*6+i*3+k]) - zai) * (int64(bv[bo+k*2+j]) - zbj)
					}
					c = append(c, int32(s))
				}
			}
		}
		return c
	}
	zt := func(dt tensor.DType, v ...int64) *tensor.Tensor {
		if len(v) == 0 {
			return nil
		}
		shape := []int{len(v)}
		if dt == tensor.Int8 {
			d := make([]int8, len(v))
			for i := range v {
				d[i] = int8(v[i])
			}
			return tensor.New(shape, d)
		}
		d := make([]uint8, len(v))
		for i := range v {
			d[i] = uint8(v[i])
		}
		return tensor.New(shape, d)
	}
	for _, a := range []*tensor.Tensor{a8, au} {
		for _, b := range []*tensor.Tensor{b8, bu, bb} {
			for _, z := range [][2][]int64{{nil, nil}, {{3}, {0}}, {{7}, {-2, 5}}, {{1, 2}, {4}}} {
				za, zb := z[0], z[1]
				if a.DType() == tensor.Uint8 && len(za) > 0 {
					za = []int64{za[0] + 100}
					if len(z[0]) > 1 {
						za = []int64{z[0][0] + 100, z[0][1] + 100}
					}
				}
				if b.DType() == tensor.Uint8 && len(zb) > 0 {
					zb = append([]int64{}, zb...)
					for i := range zb {
						zb[i] += 128
					}
				}
				out, err := runNode(t, quantNode("MatMulInteger", nil), a, b, zt(a.DType(), za...), zt(b.DType(), zb...))
				if err != nil {
					t.Fatal(err)
				}
				rza, rzb := za, zb
				if rza == nil {
					rza = []int64{0}
				}
				if rzb == nil {
					rzb = []int64{0}
				}
				want := ref(a, b, rza, rzb)
				if !reflect.DeepEqual(out[0].I32(), want) || !reflect.DeepEqual(out[0].Shape, []int{2, 2, 2}) {
					t.Errorf("%s·%s (batched B %v) za %v zb %v: got %v %v, want %v", a.DType(), b.DType(), b.Rank() == 3, za, zb, out[0].Shape, out[0].I32(), want)
				}
			}
		}
	}
	// QLinearMatMul: requantized (u8 out), per-column b_scale.
	out, err := runNode(t, quantNode("QLinearMatMul", nil), au, tensor.Scalar(float32(0.5)), tensor.Scalar(uint8(100)),
		b8, tensor.New([]int{2}, []float32{0.25, 1}), tensor.Scalar(int8(0)), tensor.Scalar(float32(4)), tensor.Scalar(uint8(128)))
	if err != nil {
		t.Fatal(err)
	}
	c := ref(au, b8, []int64{100}, []int64{0})
	want := make([]uint8, len(c))
	for i, v := range c {
		m := []float64{0.5 * 0.25 / 4, 0.5 * 1 / 4}[i%2]
		r := float64(v)*m + 128
		// round half to even by hand: no product here lands on .5 except exact ties
		want[i] = uint8(max(0, min(255, roundHalfEven(r))))
	}
	if !reflect.DeepEqual(out[0].Data, want) {
		t.Errorf("QLinearMatMul: got %v, want %v", out[0].Data, want)
	}
	if _, err := runNode(t, quantNode("MatMulInteger", nil), au, b8, tensor.Scalar(int8(1))); err == nil {
		t.Error("a_zero_point of another type than A: no error")
	}
	if _, err := runNode(t, quantNode("MatMulInteger", nil), au, b8, nil, tensor.New([]int{3}, []int8{1, 2, 3})); err == nil {
		t.Error("3 b zero points for 2 columns: no error")
	}
}

func roundHalfEven(x float64) float64 {
	f := float64(int64(x))
	if x < 0 && f != x {
		f--
	}
	d := x - f
	switch {
	case d > 0.5, d == 0.5 && int64(f)%2 != 0:
		return f + 1
	}
	return f
}

// BenchmarkMatMulInteger: a MiniLM-sized product as ONNX Runtime's dynamic
// quantization runs it (compare testmodels/bench_int8.py; B is packed on
// every call).
func BenchmarkMatMulInteger(b *testing.B) {
	m, k, n := 4096, 384, 1536
	a, w := make([]uint8, m*k), make([]int8, k*n)
	for i := range a {
		a[i] = uint8(i * 7)
	}
	for i := range w {
		w[i] = int8(i * 13)
	}
	in := []*tensor.Tensor{tensor.New([]int{m, k}, a), tensor.New([]int{k, n}, w), tensor.Scalar(uint8(128)), nil}
	op := matMulInteger{}
	cpu0 := cpuSeconds()
	for b.Loop() {
		if _, err := op.Forward(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuSeconds()-cpu0)*1e3/float64(b.N), "cpu-ms/op")
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
}
