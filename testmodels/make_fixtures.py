#!/usr/bin/env python3
"""Make the committed oracle fixtures under testmodels/fixtures/.

Every fixture is a folder laid out like a Hugging Face ONNX export:

    fixtures/<name>/model.onnx            (+ model.onnx_data for external data)
    fixtures/<name>/config.json           (save_pretrained's config, with id2label)
    fixtures/<name>/test_data_set_0/input_j.pb, output_j.pb
                                           fixed inputs and ONNX Runtime's outputs
    fixtures/<name>/grads/                 PyTorch autograd oracle (classifiers, mlp):
        labels.pb, loss.json, names.json, <torch parameter name>.pb

The models are tiny, built from configs with seeded random weights (no hub
downloads). See README.md for what each fixture is and how to run this.

Usage (from the repository root):
    HF_HUB_OFFLINE=1 $FT_PYTHON testmodels/make_fixtures.py [NAME ...]
With no names every fixture is (re)made. --out DIR writes elsewhere.
"""
import argparse
import collections
import json
import os
import shutil
import sys
import tempfile
import warnings
import zlib

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper

torch.set_num_threads(1)
warnings.filterwarnings("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "fixtures")

LABELS = {0: "negative", 1: "neutral", 2: "positive"}
BATCH = 3
SEQ = 10
ROW_LENGTHS = [10, 6, 8]  # real tokens per row; the rest is padding
CE_LABELS = [2, 0, 1]
BCE_TARGETS = [[1.0], [0.0], [1.0]]

# Common sizes: hidden 32, 2 layers, intermediate 64, vocab 256, 64 positions.
V, H, L, I, P = 256, 32, 2, 64, 64


def hf_config(arch):
    """The transformers config (and model classes) of one architecture."""
    import transformers as tf

    common = dict(num_labels=3, id2label=dict(LABELS), label2id={v: k for k, v in LABELS.items()})
    if arch == "bert":
        cfg = tf.BertConfig(vocab_size=V, hidden_size=H, num_hidden_layers=L, num_attention_heads=4,
                            intermediate_size=I, max_position_embeddings=P, type_vocab_size=2,
                            pad_token_id=0, **common)
        return cfg, tf.BertForSequenceClassification
    if arch == "distilbert":
        cfg = tf.DistilBertConfig(vocab_size=V, dim=H, n_layers=L, n_heads=2, hidden_dim=I,
                                  max_position_embeddings=P, pad_token_id=0, **common)
        return cfg, tf.DistilBertForSequenceClassification
    if arch == "roberta":
        cfg = tf.RobertaConfig(vocab_size=V, hidden_size=H, num_hidden_layers=L, num_attention_heads=2,
                               intermediate_size=I, max_position_embeddings=P, type_vocab_size=1,
                               pad_token_id=1, bos_token_id=0, eos_token_id=2, **common)
        return cfg, tf.RobertaForSequenceClassification
    if arch == "xlm-roberta":
        cfg = tf.XLMRobertaConfig(vocab_size=V, hidden_size=H, num_hidden_layers=L, num_attention_heads=4,
                                  intermediate_size=I, max_position_embeddings=P, type_vocab_size=1,
                                  pad_token_id=1, bos_token_id=0, eos_token_id=2, **common)
        return cfg, tf.XLMRobertaForSequenceClassification
    if arch == "albert":
        # ALBERT: factorised embeddings (16 -> 32) and ONE layer group shared by both layers;
        # hidden_act gelu_new (tanh approximation) is ALBERT's default.
        cfg = tf.AlbertConfig(vocab_size=V, embedding_size=16, hidden_size=H, num_hidden_layers=L,
                              num_attention_heads=2, intermediate_size=I, max_position_embeddings=P,
                              type_vocab_size=2, pad_token_id=0, bos_token_id=2, eos_token_id=3, **common)
        return cfg, tf.AlbertForSequenceClassification
    if arch == "electra":
        # ELECTRA-small style: embedding_size 16 projected to hidden 32.
        cfg = tf.ElectraConfig(vocab_size=V, embedding_size=16, hidden_size=H, num_hidden_layers=L,
                               num_attention_heads=2, intermediate_size=I, max_position_embeddings=P,
                               type_vocab_size=2, pad_token_id=0, **common)
        return cfg, tf.ElectraForSequenceClassification
    if arch == "mpnet":
        cfg = tf.MPNetConfig(vocab_size=V, hidden_size=H, num_hidden_layers=L, num_attention_heads=2,
                             intermediate_size=I, max_position_embeddings=P, relative_attention_num_buckets=32,
                             pad_token_id=1, bos_token_id=0, eos_token_id=2, **common)
        return cfg, tf.MPNetForSequenceClassification
    if arch == "deberta-v2":
        # DeBERTa-v3 style: relative attention (c2p + p2c), shared keys, log buckets,
        # no absolute positions, no token types.
        cfg = tf.DebertaV2Config(vocab_size=V, hidden_size=H, num_hidden_layers=L, num_attention_heads=2,
                                 intermediate_size=I, max_position_embeddings=P, type_vocab_size=0,
                                 relative_attention=True, position_buckets=16, max_relative_positions=-1,
                                 pos_att_type=["p2c", "c2p"], norm_rel_ebd="layer_norm", share_att_key=True,
                                 position_biased_input=False, pad_token_id=0, **common)
        return cfg, tf.DebertaV2ForSequenceClassification
    if arch == "modernbert":
        # Layer 0 global attention, layer 1 local (sliding window of 8, i.e. +-4) with RoPE.
        cfg = tf.ModernBertConfig(vocab_size=V, hidden_size=H, num_hidden_layers=L, num_attention_heads=2,
                                  intermediate_size=I, max_position_embeddings=P, global_attn_every_n_layers=2,
                                  local_attention=8, pad_token_id=0, bos_token_id=1, cls_token_id=1,
                                  eos_token_id=2, sep_token_id=2, mask_token_id=3, **common)
        return cfg, tf.ModernBertForSequenceClassification
    raise KeyError(arch)


def seed_of(key):
    return zlib.crc32(key.encode()) & 0x7FFFFFFF


@torch.no_grad()
def randomize(model, seed):
    """Give every parameter distinct, non-trivial values.

    The transformers init leaves biases at 0 and norm weights at 1, and tiny weights give
    uniform attention; identical values would also make exporters deduplicate initializers
    and make matching ONNX initializers to torch parameters ambiguous.
    """
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        r = torch.randn(p.shape, generator=g, dtype=p.dtype)
        if p.dim() >= 2:
            p.copy_(r * 0.15)
        elif "norm" in name.lower() and name.endswith("weight"):
            p.copy_(1.0 + r * 0.1)
        else:
            p.copy_(r * 0.1)


def build_hf(arch):
    cfg, cls = hf_config(arch)
    torch.manual_seed(seed_of(arch))
    model = cls(cfg)
    randomize(model, seed_of(arch) + 1)
    model.eval()
    return model


def text_inputs(cfg, seed, with_token_types):
    """Fixed token batch: cls ... sep + padding, real padding on rows 1 and 2."""
    rng = np.random.default_rng(seed)
    pad = cfg.pad_token_id if cfg.pad_token_id is not None else 0
    specials = {pad, getattr(cfg, "bos_token_id", None), getattr(cfg, "eos_token_id", None),
                getattr(cfg, "cls_token_id", None), getattr(cfg, "sep_token_id", None)}
    cls_id = next(x for x in (getattr(cfg, "cls_token_id", None), getattr(cfg, "bos_token_id", None), 2)
                  if x is not None and x != pad)
    sep_id = next(x for x in (getattr(cfg, "sep_token_id", None), getattr(cfg, "eos_token_id", None), 3)
                  if x is not None and x != pad)
    ids = np.full((BATCH, SEQ), pad, dtype=np.int64)
    mask = np.zeros((BATCH, SEQ), dtype=np.int64)
    tt = np.zeros((BATCH, SEQ), dtype=np.int64)
    for b, n in enumerate(ROW_LENGTHS):
        body = []
        while len(body) < n - 2:
            t = int(rng.integers(5, cfg.vocab_size))
            if t not in specials:
                body.append(t)
        ids[b, :n] = [cls_id] + body + [sep_id]
        mask[b, :n] = 1
        tt[b, n // 2:n] = 1  # second segment
    out = {"input_ids": ids, "attention_mask": mask}
    if with_token_types:
        out["token_type_ids"] = tt
    return out


# ---------------------------------------------------------------- exporters


def export_optimum(model, out_dir, task):
    """optimum-onnx's exporter (what `optimum-cli export onnx --task TASK` runs)."""
    from optimum.exporters.onnx import main_export

    with tempfile.TemporaryDirectory() as src, tempfile.TemporaryDirectory() as dst:
        model.save_pretrained(src)
        main_export(src, output=dst, task=task, library_name="transformers", do_validation=True)
        for f in os.listdir(dst):
            shutil.copy(os.path.join(dst, f), os.path.join(out_dir, f))


def save_config(model, out_dir):
    """config.json exactly as model.save_pretrained writes it (architectures, dtype, id2label)."""
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        shutil.copy(os.path.join(tmp, "config.json"), os.path.join(out_dir, "config.json"))


def dyn_axes(input_names, output_names):
    d = {n: {0: "batch_size", 1: "sequence_length"} for n in input_names}
    for n in output_names:
        d[n] = {0: "batch_size"} if n == "logits" else {0: "batch_size", 1: "sequence_length"}
    return d


def export_torchscript(model, out_dir, opset, inputs):
    """torch.onnx.export with the settings optimum uses, at a chosen opset."""
    names = list(inputs)
    torch.onnx.export(
        model, ({k: torch.from_numpy(v) for k, v in inputs.items()},), os.path.join(out_dir, "model.onnx"),
        input_names=names, output_names=["logits"], dynamic_axes=dyn_axes(names, ["logits"]),
        do_constant_folding=True, opset_version=opset, dynamo=False)
    save_config(model, out_dir)


def export_dynamo(model, out_dir, opset, inputs):
    """torch.onnx.export(dynamo=True) saved with external data (model.onnx + model.onnx_data)."""
    names = list(inputs)
    batch = torch.export.Dim("batch_size", min=1, max=64)
    seq = torch.export.Dim("sequence_length", min=2, max=P)
    prog = torch.onnx.export(
        model, (), kwargs={k: torch.from_numpy(v) for k, v in inputs.items()}, dynamo=True,
        opset_version=opset, input_names=names, output_names=["logits"],
        dynamic_shapes={n: {0: batch, 1: seq} for n in names}, external_data=True)
    path = os.path.join(out_dir, "model.onnx")
    prog.save(path, external_data=True)
    # torch names the data file model.onnx.data; Hugging Face exports (optimum) use
    # model.onnx_data. Rename it and point the tensors there, keeping torch's layout
    # (which tensors are external, their offsets) untouched.
    m = onnx.load(path, load_external_data=False)
    for t in m.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = "model.onnx_data"
    os.replace(os.path.join(out_dir, "model.onnx.data"), os.path.join(out_dir, "model.onnx_data"))
    onnx.save(m, path)
    save_config(model, out_dir)


# ---------------------------------------------------------------- data, goldens, grads


def tensor_pb(arr, name, path):
    t = numpy_helper.from_array(np.ascontiguousarray(arr), name=name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def ort_session(model_path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])


def write_goldens(out_dir, inputs):
    """Feed the fixed inputs to ONNX Runtime; save inputs and outputs as TensorProtos."""
    sess = ort_session(os.path.join(out_dir, "model.onnx"))
    in_names = [i.name for i in sess.get_inputs()]
    missing = [n for n in in_names if n not in inputs]
    if missing:
        raise RuntimeError(f"{out_dir}: graph wants inputs {missing} we did not make")
    feed = {n: inputs[n] for n in in_names}
    outs = sess.run(None, feed)
    d = os.path.join(out_dir, "test_data_set_0")
    os.makedirs(d, exist_ok=True)
    for j, n in enumerate(in_names):
        tensor_pb(feed[n], n, os.path.join(d, f"input_{j}.pb"))
    for j, (o, v) in enumerate(zip(sess.get_outputs(), outs)):
        tensor_pb(v, o.name, os.path.join(d, f"output_{j}.pb"))
    return feed, {o.name: v for o, v in zip(sess.get_outputs(), outs)}


def check_dynamic(out_dir, feed):
    """Run ONNX Runtime on a different batch and sequence size: the axes must be dynamic."""
    sess = ort_session(os.path.join(out_dir, "model.onnx"))
    small = {k: v[1:, :7].copy() for k, v in feed.items()}
    sess.run(None, small)


def onnx_value_sources(model):
    """name -> float32 array for initializers, and for Constant node tensors (to explain misses)."""
    inits = {}
    for t in model.graph.initializer:
        if t.data_type == onnx.TensorProto.FLOAT:
            inits[t.name] = numpy_helper.to_array(t)
    consts = {}
    for n in model.graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value" and a.t.data_type == onnx.TensorProto.FLOAT:
                    consts[n.output[0]] = numpy_helper.to_array(a.t)
    return inits, consts


def match_names(onnx_path, params, grads):
    """Match ONNX initializers to torch parameters by value (exact, or the transpose)."""
    m = onnx.load(onnx_path)  # loads external data too
    inits, consts = onnx_value_sources(m)
    used = collections.Counter()
    for n in m.graph.node:
        for x in n.input:
            used[x] += 1
    matched, hit = [], set()
    for oname, ov in inits.items():
        for tname, tv in params.items():
            if ov.shape == tv.shape and np.array_equal(ov, tv):
                matched.append({"onnx": oname, "torch": tname, "transposed": False, "shape": list(ov.shape)})
                hit.add(tname)
            elif tv.ndim == 2 and ov.shape == tv.T.shape and tv.shape[0] != 1 and np.array_equal(ov, tv.T):
                matched.append({"onnx": oname, "torch": tname, "transposed": True, "shape": list(ov.shape)})
                hit.add(tname)
    unmatched = []
    for tname, tv in params.items():
        if tname in hit:
            continue
        reason = "no initializer holds its value or its transpose (folded by the exporter?)"
        if grads[tname] is None:
            reason = "not used by the forward pass (no gradient); the exporter dropped it"
        else:
            for cname, cv in consts.items():
                if cv.shape == tv.shape and np.array_equal(cv, tv):
                    reason = f"stored as Constant node output {cname}, not an initializer"
            for oname, ov in inits.items():
                if ov.shape == tv.shape and tv.size > 1:
                    r = ov.astype(np.float64) / np.where(tv == 0, np.nan, tv.astype(np.float64))
                    r = r[np.isfinite(r)]
                    if r.size and np.allclose(r, r[0], rtol=1e-5) and not np.isclose(r[0], 1.0):
                        reason = f"constant-folded: initializer {oname} holds it scaled by {r[0]:.6g}"
        unmatched.append({"torch": tname, "reason": reason})
    matched.sort(key=lambda e: (list(params).index(e["torch"]), e["onnx"]))
    return {"params": matched, "unmatched": unmatched,
            "initializers_not_params": sorted(set(inits) - {e["onnx"] for e in matched})}


def write_grads(out_dir, model, feed, loss_kind, torch_forward, golden):
    """PyTorch autograd gradients of a fixed loss w.r.t. every parameter (eval mode)."""
    model.eval()
    model.zero_grad(set_to_none=True)
    out = torch_forward(model, feed)
    diff = float(np.max(np.abs(out.detach().numpy() - golden)))
    if diff > 1e-4:
        raise RuntimeError(f"{out_dir}: torch and ONNX Runtime disagree by {diff}")
    d = os.path.join(out_dir, "grads")
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    if loss_kind == "cross_entropy":
        labels = np.array(CE_LABELS[: out.shape[0]], dtype=np.int64)
        loss = torch.nn.functional.cross_entropy(out, torch.from_numpy(labels), reduction="mean")
        desc = "torch.nn.functional.cross_entropy(logits, labels, reduction='mean')"
    else:
        labels = np.array(BCE_TARGETS[: out.shape[0]], dtype=np.float32)
        loss = torch.nn.BCELoss(reduction="mean")(out, torch.from_numpy(labels))
        desc = "torch.nn.BCELoss(reduction='mean')(output, targets)"
    loss.backward()
    tensor_pb(labels, "labels", os.path.join(d, "labels.pb"))
    params = collections.OrderedDict()
    grads = {}
    for name, p in model.named_parameters():
        params[name] = p.detach().numpy().copy()
        grads[name] = None if p.grad is None else p.grad.detach().numpy().copy()
        g = grads[name] if grads[name] is not None else np.zeros_like(params[name])
        tensor_pb(g.astype(np.float32), name, os.path.join(d, f"{name}.pb"))
    with open(os.path.join(d, "loss.json"), "w") as f:
        json.dump({"loss": float(loss.item()), "loss_fn": desc, "labels": labels.tolist(),
                   "mode": "eval (no dropout)", "max_abs_diff_torch_vs_ort": diff,
                   "no_grad": [n for n, g in grads.items() if g is None]}, f, indent=1)
        f.write("\n")
    names = match_names(os.path.join(out_dir, "model.onnx"), params, grads)
    with open(os.path.join(d, "names.json"), "w") as f:
        f.write(compact_json(names))
    return names


def compact_json(obj):
    """JSON with one list entry per line (readable diffs, small files)."""
    lines = ["{"]
    keys = list(obj)
    for i, k in enumerate(keys):
        v = obj[k]
        end = "," if i < len(keys) - 1 else ""
        if isinstance(v, list) and v:
            lines.append(f" {json.dumps(k)}: [")
            lines += [f"  {json.dumps(e)}" + ("," if j < len(v) - 1 else "") for j, e in enumerate(v)]
            lines.append(" ]" + end)
        else:
            lines.append(f" {json.dumps(k)}: {json.dumps(v)}{end}")
    return "\n".join(lines + ["}"]) + "\n"


def hf_forward(model, feed):
    kw = {k: torch.from_numpy(v) for k, v in feed.items()}
    return model(**kw).logits


# ---------------------------------------------------------------- fixtures


def make_classifier(name, arch, out_dir, exporter):
    model = build_hf(arch)
    if exporter == "optimum":
        export_optimum(model, out_dir, "text-classification")
    # Inputs: the names the model's forward takes among the three usual ones.
    want_tt = getattr(model.config, "type_vocab_size", 0) and arch not in ("roberta", "xlm-roberta")
    inputs = text_inputs(model.config, seed_of(arch) + 2, bool(want_tt))
    if exporter == "optimum":
        g = onnx.load(os.path.join(out_dir, "model.onnx"), load_external_data=False).graph
        inputs = {k: v for k, v in inputs.items() if k in [i.name for i in g.input]}
    elif exporter.startswith("torchscript"):
        export_torchscript(model, out_dir, int(exporter.split("-")[1]), inputs)
    elif exporter.startswith("dynamo"):
        export_dynamo(model, out_dir, int(exporter.split("-")[1]), inputs)
    feed, outs = write_goldens(out_dir, inputs)
    check_dynamic(out_dir, feed)
    write_grads(out_dir, model, feed, "cross_entropy", hf_forward, outs["logits"])


def make_bert_fe(out_dir):
    """Feature extraction: the bert fixture's encoder (BertModel, same weights)."""
    model = build_hf("bert").bert
    model.config.architectures = ["BertModel"]
    export_optimum(model, out_dir, "feature-extraction")
    inputs = text_inputs(model.config, seed_of("bert") + 2, True)
    feed, outs = write_goldens(out_dir, inputs)
    check_dynamic(out_dir, feed)
    with torch.no_grad():
        ref = model(**{k: torch.from_numpy(v) for k, v in feed.items()}).last_hidden_state.numpy()
    diff = float(np.max(np.abs(ref - outs["last_hidden_state"])))
    if diff > 1e-4:
        raise RuntimeError(f"bert-fe: torch and ONNX Runtime disagree by {diff}")


def make_mlp(out_dir):
    """The seed example: Dense(10->10, relu) -> Dense(1, sigmoid)."""
    torch.manual_seed(seed_of("mlp"))
    model = torch.nn.Sequential(torch.nn.Linear(10, 10), torch.nn.ReLU(), torch.nn.Linear(10, 1), torch.nn.Sigmoid())
    model.eval()
    x = torch.randn(BATCH, 10, generator=torch.Generator().manual_seed(seed_of("mlp") + 2))
    torch.onnx.export(model, (x,), os.path.join(out_dir, "model.onnx"), input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch_size"}, "output": {0: "batch_size"}},
                      do_constant_folding=True, opset_version=17, dynamo=False)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump({"architectures": ["Sequential"], "model_type": "ft-mlp",
                   "layers": [{"type": "Linear", "in": 10, "out": 10, "activation": "relu"},
                              {"type": "Linear", "in": 10, "out": 1, "activation": "sigmoid"}],
                   "input_names": ["input"], "output_names": ["output"]}, f, indent=2)
        f.write("\n")
    feed, outs = write_goldens(out_dir, {"input": x.numpy()})
    write_grads(out_dir, model, feed, "bce", lambda m, f: m(torch.from_numpy(f["input"])), outs["output"])


FIXTURES = collections.OrderedDict()
for _arch in ["bert", "distilbert", "roberta", "xlm-roberta", "albert", "electra", "mpnet", "deberta-v2",
              "modernbert"]:
    FIXTURES[_arch] = (lambda a: lambda d: make_classifier(a, a, d, "optimum"))(_arch)
FIXTURES["bert-fe"] = make_bert_fe
FIXTURES["bert-op14"] = lambda d: make_classifier("bert-op14", "bert", d, "torchscript-14")
FIXTURES["bert-op17"] = lambda d: make_classifier("bert-op17", "bert", d, "torchscript-17")
FIXTURES["bert-dynamo"] = lambda d: make_classifier("bert-dynamo", "bert", d, "dynamo-18")
FIXTURES["mlp"] = make_mlp


def op_histogram(path):
    """Counter of (domain, op_type) over every node, including If/Loop subgraphs."""
    m = onnx.load(path, load_external_data=False)
    c = collections.Counter()

    def walk(graph):
        for n in graph.node:
            c[(n.domain or "ai.onnx", n.op_type)] += 1
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
                for g in a.graphs:
                    walk(g)

    walk(m.graph)
    return c


def backward_op_types(fixture_dir):
    """Op types of the nodes that lie on a float path from a torch parameter's initializer
    to a graph output: the ops whose backward a fine-tune of this fixture needs."""
    names = json.load(open(os.path.join(fixture_dir, "grads", "names.json")))
    m = onnx.shape_inference.infer_shapes(onnx.load(os.path.join(fixture_dir, "model.onnx"),
                                                    load_external_data=False))
    g = m.graph
    types = {v.name: v.type.tensor_type.elem_type for v in list(g.value_info) + list(g.output) + list(g.input)}

    def inputs_of(n):  # its inputs and the outer-scope names its subgraphs read
        s = set(n.input)
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                for sn in a.g.node:
                    s |= set(sn.input)
        return s

    live = {e["onnx"] for e in names["params"]}
    on_path = []
    for n in g.node:  # ONNX graphs are topologically sorted
        if inputs_of(n) & live:
            floats = {o for o in n.output if types.get(o, onnx.TensorProto.FLOAT) == onnx.TensorProto.FLOAT}
            if floats:
                live |= floats
                on_path.append(n)
    need = {o.name for o in g.output}
    reaches = set()
    for n in reversed(g.node):
        if set(n.output) & need:
            need |= inputs_of(n)
            reaches.add(id(n))
    return collections.Counter(n.op_type for n in on_path if id(n) in reaches)


def collect_attributes(graph, seen):
    for n in graph.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                collect_attributes(a.g, seen)
                continue
            if n.op_type == "Constant":
                continue
            if a.type == onnx.AttributeProto.TENSOR:
                v = numpy_helper.to_array(a.t)
                v = f"{onnx.helper.tensor_dtype_to_np_dtype(a.t.data_type).name}{v.tolist()}"
            else:
                v = onnx.helper.get_attribute_value(a)
                if a.type == onnx.AttributeProto.FLOAT:
                    v = f"{v:.9g}"
                elif isinstance(v, bytes):
                    v = v.decode()
                elif isinstance(v, list):
                    v = tuple(v)
                if n.op_type == "Cast" and a.name == "to":
                    v = f"{v} ({onnx.helper.tensor_dtype_to_np_dtype(v).name})"
            seen[n.op_type].add(f"`{a.name}={v}`")


def print_ops_markdown(out):
    """Per-fixture op histograms and the combined (domain, op_type) set, for README.md."""
    combined = collections.Counter()
    users = collections.defaultdict(list)
    for n in FIXTURES:
        p = os.path.join(out, n, "model.onnx")
        if not os.path.exists(p):
            continue
        m = onnx.load(p, load_external_data=False)
        h = op_histogram(p)
        combined.update(h)
        for k in h:
            users[k].append(n)
        opsets = ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in m.opset_import)
        print(f"- **{n}** ({opsets}; {sum(h.values())} nodes): "
              + ", ".join(f"{op} {c}" if dom == "ai.onnx" else f"{dom}:{op} {c}"
                          for (dom, op), c in sorted(h.items(), key=lambda kv: (-kv[1], kv[0]))))
    print()
    print("| domain | op_type | nodes in all fixtures | fixtures |")
    print("|---|---|---|---|")
    for (dom, op), c in sorted(combined.items()):
        us = users[(dom, op)]
        who = "all" if len(us) == len([n for n in FIXTURES if os.path.exists(os.path.join(out, n))]) else ", ".join(us)
        print(f"| {dom} | {op} | {c} | {who} |")
    print()
    print("Attribute values seen (Constant's value and subgraph attributes left out):")
    print()
    seen = collections.defaultdict(set)
    for n in FIXTURES:
        p = os.path.join(out, n, "model.onnx")
        if os.path.exists(p):
            collect_attributes(onnx.load(p, load_external_data=False).graph, seen)
    for op in sorted(seen):
        print(f"- {op}: {', '.join(sorted(seen[op]))}")
    print()
    print("Ops on a trainable path (between a parameter and the output; their backward is needed):")
    print()
    bw = collections.defaultdict(list)
    for n in FIXTURES:
        if os.path.exists(os.path.join(out, n, "grads", "names.json")):
            for op in backward_op_types(os.path.join(out, n)):
                bw[op].append(n)
    for op in sorted(bw):
        print(f"- {op}: {', '.join(bw[op])}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="fixtures to make (default: all)")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--ops-markdown", action="store_true",
                    help="make nothing; print the op histograms of the fixtures in --out as markdown")
    args = ap.parse_args()
    if args.ops_markdown:
        print_ops_markdown(args.out)
        return
    names = args.names or list(FIXTURES)
    for n in names:
        if n not in FIXTURES:
            sys.exit(f"unknown fixture {n!r}; known: {', '.join(FIXTURES)}")
    os.makedirs(args.out, exist_ok=True)
    for n in names:
        d = os.path.join(args.out, n)
        if os.path.exists(d):
            shutil.rmtree(d)
        os.makedirs(d)
        FIXTURES[n](d)
        m = onnx.load(os.path.join(d, "model.onnx"), load_external_data=False)
        opsets = {o.domain or "ai.onnx": o.version for o in m.opset_import}
        print(f"{n}: opsets {opsets}, {len(m.graph.node)} nodes")
        print("   ", dict(sorted(op_histogram(os.path.join(d, "model.onnx")).items())))
    combined = set()
    for n in FIXTURES:
        p = os.path.join(args.out, n, "model.onnx")
        if os.path.exists(p):
            combined |= set(op_histogram(p))
    print("combined (domain, op_type):", sorted(combined))


if __name__ == "__main__":
    main()
