package embed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
)

// normEps is F.normalize's eps: rows are divided by max(|x|, 1e-12).
const normEps = 1e-12

// Normalize scales each row to unit L2 length, as ST's Normalize module and
// torch.nn.functional.normalize(p=2, dim=1): x / max(|x|, 1e-12).
func Normalize(x Matrix) Matrix {
	y := NewMatrix(x.Rows, x.Cols)
	for i := 0; i < x.Rows; i++ {
		r := x.Row(i)
		n := math.Max(math.Sqrt(dot(r, r)), normEps)
		o := y.Row(i)
		for j := range r {
			o[j] = r[j] / n
		}
	}
	return y
}

// NormalizeBackward returns d loss / d x given x and grad = d loss / d Normalize(x).
func NormalizeBackward(x, grad Matrix) (Matrix, error) {
	if err := sameShape("normalize backward", x, grad); err != nil {
		return Matrix{}, err
	}
	dx := NewMatrix(x.Rows, x.Cols)
	for i := 0; i < x.Rows; i++ {
		normalizeRowBackward(x.Row(i), grad.Row(i), dx.Row(i))
	}
	return dx, nil
}

// normalizeRowBackward adds to dx the gradient through x/max(|x|, eps).
func normalizeRowBackward(x, g, dx []float64) {
	n := math.Sqrt(dot(x, x))
	if n <= normEps {
		for j := range g {
			dx[j] += g[j] / normEps
		}
		return
	}
	yg := dot(x, g) / n // y·g with y = x/n
	for j := range g {
		dx[j] += (g[j] - x[j]/n*yg) / n
	}
}

// Truncate keeps the first dim columns (Matryoshka truncation, ST's
// truncate_dim). It does not renormalise; call Normalize after it where ST does.
func Truncate(x Matrix, dim int) (Matrix, error) {
	if err := x.check("truncate"); err != nil {
		return Matrix{}, err
	}
	if dim <= 0 || dim > x.Cols {
		return Matrix{}, fmt.Errorf("embed: truncate to %d dimensions: want 1..%d", dim, x.Cols)
	}
	y := NewMatrix(x.Rows, dim)
	for i := 0; i < x.Rows; i++ {
		copy(y.Row(i), x.Row(i)[:dim])
	}
	return y, nil
}

// TruncateBackward widens grad (rows × dim) back to rows × cols with zeros.
func TruncateBackward(grad Matrix, cols int) (Matrix, error) {
	if err := grad.check("truncate backward"); err != nil {
		return Matrix{}, err
	}
	if cols < grad.Cols {
		return Matrix{}, fmt.Errorf("embed: truncate backward: %d columns is fewer than the gradient's %d", cols, grad.Cols)
	}
	dx := NewMatrix(grad.Rows, cols)
	for i := 0; i < grad.Rows; i++ {
		copy(dx.Row(i), grad.Row(i))
	}
	return dx, nil
}

// Activation names of ST's Dense module as its config.json writes them.
const (
	ActivationTanh     = "torch.nn.modules.activation.Tanh"
	ActivationIdentity = "torch.nn.modules.linear.Identity"
)

// Dense is ST's Dense module: y = activation(x Wᵀ + b), W stored as
// nn.Linear does, [Out][In] row-major. Activation is ActivationTanh (ST's
// default) or ActivationIdentity.
type Dense struct {
	In, Out    int
	Weight     []float64 // Out*In
	Bias       []float64 // Out, or nil for bias=False
	Activation string
}

// DenseConfig is the content of ST's 2_Dense/config.json.
type DenseConfig struct {
	InFeatures         int    `json:"in_features"`
	OutFeatures        int    `json:"out_features"`
	Bias               bool   `json:"bias"`
	ActivationFunction string `json:"activation_function"`
}

// ReadDenseConfig reads a Dense module's config.json (its weights are read by
// the caller, from the module's model.safetensors).
func ReadDenseConfig(path string) (DenseConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return DenseConfig{}, fmt.Errorf("embed: dense config: %w", err)
	}
	c := DenseConfig{Bias: true, ActivationFunction: ActivationTanh}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return DenseConfig{}, fmt.Errorf("embed: %s: %v (want in_features, out_features, bias, activation_function)", path, err)
	}
	if c.InFeatures <= 0 || c.OutFeatures <= 0 {
		return DenseConfig{}, fmt.Errorf("embed: %s: in_features %d and out_features %d must be positive", path, c.InFeatures, c.OutFeatures)
	}
	if c.ActivationFunction != ActivationTanh && c.ActivationFunction != ActivationIdentity {
		return DenseConfig{}, fmt.Errorf("embed: %s: activation_function %q is not supported; want %s or %s", path, c.ActivationFunction, ActivationTanh, ActivationIdentity)
	}
	return c, nil
}

func (d *Dense) check(x Matrix) error {
	if err := x.check("dense input"); err != nil {
		return err
	}
	if len(d.Weight) != d.In*d.Out || (d.Bias != nil && len(d.Bias) != d.Out) {
		return fmt.Errorf("embed: dense %d→%d holds %d weights and %d biases", d.In, d.Out, len(d.Weight), len(d.Bias))
	}
	if x.Cols != d.In {
		return fmt.Errorf("embed: dense input has %d columns, the layer takes %d", x.Cols, d.In)
	}
	if d.Activation != ActivationTanh && d.Activation != ActivationIdentity {
		return fmt.Errorf("embed: dense activation %q: want %s or %s", d.Activation, ActivationTanh, ActivationIdentity)
	}
	return nil
}

// Forward returns activation(x Wᵀ + b).
func (d *Dense) Forward(x Matrix) (Matrix, error) {
	if err := d.check(x); err != nil {
		return Matrix{}, err
	}
	y := NewMatrix(x.Rows, d.Out)
	for i := 0; i < x.Rows; i++ {
		xr, yr := x.Row(i), y.Row(i)
		for o := 0; o < d.Out; o++ {
			v := dot(xr, d.Weight[o*d.In:(o+1)*d.In])
			if d.Bias != nil {
				v += d.Bias[o]
			}
			if d.Activation == ActivationTanh {
				v = math.Tanh(v)
			}
			yr[o] = v
		}
	}
	return y, nil
}

// Backward returns d loss / d x, d loss / d W ([Out][In]) and d loss / d b
// (nil without bias), given x, y = d.Forward(x) and grad = d loss / d y.
func (d *Dense) Backward(x, y, grad Matrix) (dx Matrix, dW, dB []float64, err error) {
	if err := d.check(x); err != nil {
		return Matrix{}, nil, nil, err
	}
	if err := sameShape("dense backward", y, grad); err != nil {
		return Matrix{}, nil, nil, err
	}
	if y.Rows != x.Rows || y.Cols != d.Out {
		return Matrix{}, nil, nil, fmt.Errorf("embed: dense backward: output is %d×%d, want %d×%d", y.Rows, y.Cols, x.Rows, d.Out)
	}
	dx = NewMatrix(x.Rows, d.In)
	dW = make([]float64, d.Out*d.In)
	if d.Bias != nil {
		dB = make([]float64, d.Out)
	}
	for i := 0; i < x.Rows; i++ {
		xr, dxr := x.Row(i), dx.Row(i)
		for o := 0; o < d.Out; o++ {
			g := grad.Data[i*d.Out+o]
			if d.Activation == ActivationTanh {
				yv := y.Data[i*d.Out+o]
				g *= 1 - yv*yv
			}
			if dB != nil {
				dB[o] += g
			}
			w, dw := d.Weight[o*d.In:(o+1)*d.In], dW[o*d.In:(o+1)*d.In]
			for j := range w {
				dxr[j] += g * w[j]
				dw[j] += g * xr[j]
			}
		}
	}
	return dx, dW, dB, nil
}
