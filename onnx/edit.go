package onnx

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"ft/tensor"
)

// Helpers for editing a graph in place of rebuilding it.

// ShallowCopy copies a message's fields; lists and sub-messages are
// shared (copy a model without copying its weights, then replace the
// lists that change).
func ShallowCopy[M proto.Message](m M) M {
	src := m.ProtoReflect()
	dst := src.New()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		dst.Set(fd, v)
		return true
	})
	return dst.Interface().(M)
}

// Initializers maps the names of g's initializers to them.
func Initializers(g *GraphProto) map[string]*TensorProto {
	m := make(map[string]*TensorProto, len(g.Initializer))
	for _, in := range g.Initializer {
		m[in.GetName()] = in
	}
	return m
}

// SetInitializer stores t as the initializer name, replacing one of that
// name or appending it.
func (m *Model) SetInitializer(name string, t *tensor.Tensor) error {
	p, err := FromTensor(name, t)
	if err != nil {
		return err
	}
	for i, in := range m.Proto.Graph.Initializer {
		if in.GetName() == name {
			m.Proto.Graph.Initializer[i] = p
			return nil
		}
	}
	m.Proto.Graph.Initializer = append(m.Proto.Graph.Initializer, p)
	return nil
}
