package graph

import (
	"fmt"

	"ft/onnx"
	"ft/ops"
)

// checkRequiredInputs refuses a node that leaves out, or names as empty,
// an input its op's schema requires (ONNX allows an empty name only for
// an optional input), so the op never receives nil in its place.
func checkRequiredInputs(np *onnx.NodeProto, name, domain string, opset int) error {
	req, known := ops.RequiredInputs(domain, np.GetOpType(), opset, len(np.Input))
	if !known {
		return nil
	}
	if len(np.Input) < req {
		return fmt.Errorf("node %q (%s) has %d inputs, and %s (opset %d) requires %d", name, np.GetOpType(), len(np.Input), np.GetOpType(), opset, req)
	}
	for k, in := range np.Input[:req] {
		if in == "" {
			return fmt.Errorf("node %q (%s): input %d has an empty name, but %s requires it (only optional inputs may be left empty)", name, np.GetOpType(), k, np.GetOpType())
		}
	}
	return nil
}
