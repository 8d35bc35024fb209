"""nn.MultiheadAttention and the Transformer layers held against PyTorch's.

PyTorch's module, seeded by PyTorch, hands its ``state_dict()`` to ours; then the outputs,
the attention weights and the gradients of every input and parameter must be PyTorch's
(float64 to 1e-10, float32 to 1e-5 of the largest value): batch first, sequence first and
unbatched, each kind of mask, with and without the weights, self- and cross-attention,
``kdim``/``vdim``, dropout in eval mode, an empty batch, and NaN where PyTorch gives NaN.
PyTorch computes with gradients on, so it takes its general path, as ours always does;
``test_pytorchs_inference_path_differs_only_at_padded_positions`` shows its fused one.
Skipped without torch (``test_transformer.py`` checks the modules on their own).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from torch_compare import assert_same, assert_same_runs

import tensorgrad

torch = pytest.importorskip("torch")

TOL = {"float64": 1e-10, "float32": 1e-5}
L, S, N, E, H = 4, 3, 2, 8, 2  # queries, keys, batch, embedding, heads
LAYOUTS = ["batch_first", "sequence_first", "unbatched"]


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def twin(build: Callable, dtype: str):
    """PyTorch's module and ours, each ``build(library)`` in ``dtype``, ours with PyTorch's
    weights."""
    torch.manual_seed(0)
    reference = build(torch).to(getattr(torch, dtype))
    module = build(tensorgrad).to(getattr(tensorgrad, dtype))
    assert [(k, tuple(v.shape)) for k, v in module.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in reference.state_dict().items()]
    result = module.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    return module, reference


def shaped(layout: str, length: int, width: int) -> tuple[int, ...]:
    return {"batch_first": (N, length, width), "sequence_first": (length, N, width),
            "unbatched": (length, width)}[layout]


def compare(build: Callable, dtype: str, call: Callable, inputs: list[np.ndarray],
            masks: dict[str, np.ndarray] | None = None, options: dict | None = None,
            mask_grads: bool = False, case: str = "") -> list:
    """``call(module, *inputs, **masks, **options)`` on both, then the backward pass of one
    random weighting of its results: the results, and the gradients of the inputs, of every
    parameter (and of the float masks, with ``mask_grads``), must be PyTorch's (a failure
    names ``case``). Returns PyTorch's results."""
    module, reference = twin(build, dtype)
    tol = TOL[dtype]
    runs = []
    for model, lib in ((module, tensorgrad), (reference, torch)):
        xs = [lib.tensor(a.astype(dtype), requires_grad=True) for a in inputs]
        given = {name: lib.tensor(m.astype(dtype) if m.dtype.kind == "f" else m,
                                  requires_grad=mask_grads and m.dtype.kind == "f")
                 for name, m in (masks or {}).items()}
        results = call(model, *xs, **given, **(options or {}))
        results = [r for r in (results if isinstance(results, tuple) else (results,))
                   if r is not None]
        rng = np.random.default_rng(1)
        loss = sum((r * lib.tensor(rng.standard_normal(tuple(r.shape)).astype(dtype))).sum()
                   for r in results)
        loss.backward()
        grads = [x.grad for x in xs] + [m.grad for m in given.values() if m.requires_grad]
        params = {name: p.grad for name, p in model.named_parameters()}
        runs.append((results, grads, params))
    assert_same_runs(*runs, tol, case)
    return runs[1][0]


def mask_set(kind: str, layout: str, queries: int, keys: int, seed: int = 2
             ) -> dict[str, np.ndarray]:
    """Masks of one kind, none of which leaves a query nowhere to attend (key 0 is always
    allowed)."""
    rng = np.random.default_rng(seed)
    batch = () if layout == "unbatched" else (N,)
    heads = (H,) if layout == "unbatched" else (N * H,)

    def boolean(shape):
        m = rng.random(shape) < 0.4
        m[..., 0] = False
        return m

    def floating(shape):
        m = rng.standard_normal(shape)
        m[boolean(shape)] = -np.inf
        return m

    attn, padding = (queries, keys), batch + (keys,)
    return {
        "none": {},
        "bool attn_mask": {"attn_mask": boolean(attn)},
        "float attn_mask": {"attn_mask": floating(attn)},
        "bool 3-D attn_mask": {"attn_mask": boolean(heads + attn)},
        "float 3-D attn_mask": {"attn_mask": floating(heads + attn)},
        "bool key_padding_mask": {"key_padding_mask": boolean(padding)},
        "float key_padding_mask": {"key_padding_mask": floating(padding)},
        "both bool": {"attn_mask": boolean(heads + attn), "key_padding_mask": boolean(padding)},
        "both float": {"attn_mask": floating(attn), "key_padding_mask": floating(padding)},
    }[kind]


MASKS = ["none", "bool attn_mask", "float attn_mask", "bool 3-D attn_mask",
         "float 3-D attn_mask", "bool key_padding_mask", "float key_padding_mask", "both bool",
         "both float", "causal hint"]
WEIGHTS = {"averaged weights": (True, True), "weights per head": (True, False),
           "no weights": (False, True)}


def run(module, *inputs, **kwargs):
    return module(*inputs, **kwargs)


def self_attend(module, x, **kwargs):
    return module(x, x, x, **kwargs)


def attend(module, q, k, v=None, **kwargs):
    """Attention from ``q`` to ``k`` and ``v``, or to ``k`` as both (one tensor: ``key is
    value``)."""
    return module(q, k, k if v is None else v, **kwargs)


def attention(layout: str, **settings) -> Callable:
    return lambda lib: lib.nn.MultiheadAttention(E, H, batch_first=layout == "batch_first",
                                                 **settings)


# ---- MultiheadAttention ------------------------------------------------------------------------


def cases(*axes: list, float32_only: dict[int, list]) -> list[tuple]:
    """Every combination of ``axes`` in float64; in float32 (to keep the time short) only
    those whose entry on axis i is in ``float32_only[i]``."""
    combinations = [()]
    for axis in axes:
        combinations = [c + (value,) for c in combinations for value in axis]
    return [c + ("float64",) for c in combinations] + \
        [c + ("float32",) for c in combinations
         if all(c[i] in kept for i, kept in float32_only.items())]


@pytest.mark.parametrize("layout, mask, dtype", cases(
    LAYOUTS, MASKS, float32_only={1: ["none", "both bool", "both float", "causal hint"]}))
def test_self_attention_as_pytorchs(layout, mask, dtype):
    if mask == "causal hint":  # the hint with its mask: PyTorch's shortcut without weights
        masks = {"attn_mask": np.triu(np.full((L, L), -np.inf), 1)}
    else:
        masks = mask_set(mask, layout, L, L)
    x = np.random.default_rng(0).standard_normal(shaped(layout, L, E))
    for weights, (need_weights, average) in WEIGHTS.items():
        options = dict(need_weights=need_weights, average_attn_weights=average,
                       is_causal=mask == "causal hint")
        compare(attention(layout), dtype, self_attend, [x], masks, options, case=weights)


KINDS = {"cross, S != L": {}, "key is value": {}, "kdim and vdim": {"kdim": 5, "vdim": 3},
         "bias=False": {"bias": False}}


@pytest.mark.parametrize("layout, kind, dtype", cases(
    LAYOUTS, list(KINDS), float32_only={1: ["cross, S != L", "kdim and vdim"]}))
def test_attention_to_other_keys_and_values_as_pytorchs(layout, kind, dtype):
    settings = KINDS[kind]
    rng = np.random.default_rng(0)
    q = rng.standard_normal(shaped(layout, L, E))
    k = rng.standard_normal(shaped(layout, S, settings.get("kdim", E)))
    v = rng.standard_normal(shaped(layout, S, settings.get("vdim", E)))
    inputs = [q, k] if kind == "key is value" else [q, k, v]
    for mask in ("none", "both bool", "float 3-D attn_mask", "float key_padding_mask"):
        for need_weights in (True, False):
            compare(attention(layout, **settings), dtype, attend, inputs,
                    mask_set(mask, layout, L, S),
                    dict(need_weights=need_weights, average_attn_weights=False),
                    case=f"{mask}, need_weights={need_weights}")


@pytest.mark.parametrize("need_weights", [True, False], ids=["weights", "no weights"])
def test_the_causal_hint_stands_for_its_mask_where_pytorch_trusts_it(need_weights):
    """``is_causal`` with a mask that is not causal: PyTorch attends causally without the
    weights (and no padding mask), by the mask with them; so does ours."""
    x = np.random.default_rng(0).standard_normal((L, N, E))
    masks = mask_set("bool attn_mask", "sequence_first", L, L)
    compare(attention("sequence_first"), "float64", self_attend, [x], masks,
            dict(need_weights=need_weights, is_causal=True))


@pytest.mark.parametrize("need_weights", [True, False], ids=["weights", "no weights"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_float_masks_gradient_as_pytorchs(layout, need_weights):
    x = np.random.default_rng(0).standard_normal(shaped(layout, L, E))
    masks = mask_set("both float", layout, L, L)
    compare(attention(layout), "float64", self_attend, [x], masks,
            dict(need_weights=need_weights), mask_grads=True)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("need_weights", [True, False], ids=["weights: NaN", "no weights: 0"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_query_that_may_attend_nowhere_as_pytorchs(layout, need_weights, dtype):
    """PyTorch's two paths differ: NaN (softmax of nothing but -inf) with the weights, zeros
    (its fused attention's rule) without; the gradients follow."""
    masks = mask_set("both bool", layout, L, S)
    masks["attn_mask"][..., 1, :] = True  # query 1 sees no key
    if layout != "unbatched":
        masks["key_padding_mask"][1] = True  # nor does any query of the second sequence
    rng = np.random.default_rng(0)
    q, kv = rng.standard_normal(shaped(layout, L, E)), rng.standard_normal(shaped(layout, S, E))
    theirs = compare(attention(layout), dtype, attend, [q, kv], masks,
                     dict(need_weights=need_weights))
    assert np.isnan(theirs[0].detach().numpy()).any() == need_weights
    if layout != "unbatched" and not need_weights:  # the encoder layer's attention: zeros
        padding = {"src_key_padding_mask": masks["key_padding_mask"]}
        theirs = compare(encoder_layer(layout), dtype, run, [kv], padding)
        assert np.isfinite(theirs[0].detach().numpy()).all()


@pytest.mark.parametrize("layout", ["batch_first", "sequence_first"])
def test_an_empty_batch_as_pytorchs(layout):
    x = np.zeros((0, L, E) if layout == "batch_first" else (L, 0, E))
    compare(attention(layout), "float64", self_attend, [x],
            options=dict(average_attn_weights=False))
    compare(encoder_layer(layout), "float64", run, [x])


@pytest.mark.parametrize("need_weights", [True, False], ids=["weights", "no weights"])
def test_dropout_in_eval_mode_as_pytorchs(need_weights):
    x = np.random.default_rng(0).standard_normal((L, N, E))
    masks = mask_set("both bool", "sequence_first", L, L)
    compare(attention("sequence_first", dropout=0.4), "float64",
            lambda m, x, **kwargs: self_attend(m.eval(), x, **kwargs), [x], masks,
            dict(need_weights=need_weights))
    compare(encoder_layer("batch_first", dropout=0.3), "float64", lambda m, x: m.eval()(x),
            [x])


# ---- the encoder layer and the encoder ----------------------------------------------------------


def encoder_layer(layout: str, **settings) -> Callable:
    def build(lib):
        chosen = {"dropout": 0.0, **settings}
        if callable(chosen.get("activation")):  # a function of the library that makes it
            chosen["activation"] = chosen["activation"](lib)
        return lib.nn.TransformerEncoderLayer(E, H, 16, **chosen,
                                              batch_first=layout == "batch_first")
    return build


LAYERS = {
    "post-norm, relu": {},
    "pre-norm, gelu": {"norm_first": True, "activation": "gelu"},
    "GELU('tanh') module": {"activation": lambda lib: lib.nn.GELU(approximate="tanh")},
    "silu function": {"activation": lambda lib: lib.nn.functional.silu},
    "bias=False, eps": {"bias": False, "layer_norm_eps": 1e-3},
}
LAYER_MASKS = ["none", "bool src_mask", "float src_mask", "causal, is_causal", "bool padding",
               "float padding and mask"]


def layer_masks(kind: str, layout: str) -> tuple[dict[str, np.ndarray], bool]:
    """The encoder layer's masks of one kind, and its is_causal."""
    if kind == "causal, is_causal":
        return {"src_mask": np.triu(np.full((L, L), -np.inf), 1)}, True
    picked = {"none": "none", "bool src_mask": "bool 3-D attn_mask",
              "float src_mask": "float attn_mask", "bool padding": "bool key_padding_mask",
              "float padding and mask": "both float"}[kind]
    renamed = {"attn_mask": "src_mask", "key_padding_mask": "src_key_padding_mask"}
    return {renamed[k]: v for k, v in mask_set(picked, layout, L, L).items()}, False


@pytest.mark.parametrize("config, layout, dtype", cases(
    list(LAYERS), LAYOUTS, float32_only={0: ["post-norm, relu", "pre-norm, gelu"]}))
def test_encoder_layer_as_pytorchs(config, layout, dtype):
    x = np.random.default_rng(0).standard_normal(shaped(layout, L, E))
    for mask in LAYER_MASKS:
        masks, is_causal = layer_masks(mask, layout)
        compare(encoder_layer(layout, **LAYERS[config]), dtype, run, [x], masks,
                dict(is_causal=is_causal), case=mask)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mask", ["none", "bool padding", "causal, is_causal",
                                  "causal, found by comparison", "float padding and mask"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_encoder_as_pytorchs(layout, mask, dtype):
    masks, is_causal = layer_masks(mask.replace(", found by comparison", ", is_causal"), layout)
    masks = {"mask" if k == "src_mask" else k: v for k, v in masks.items()}
    hint = None if "comparison" in mask else is_causal

    def build(lib):
        layer = encoder_layer(layout, norm_first=True)(lib)
        return lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(E),
                                         enable_nested_tensor=False)

    x = np.random.default_rng(0).standard_normal(shaped(layout, L, E))
    compare(build, dtype, run, [x], masks, dict(is_causal=hint))


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_pytorchs_inference_path_differs_only_at_padded_positions():
    """In eval mode with gradients off, PyTorch's encoder runs a padded batch as a nested
    tensor, fused: the same values but at padded positions, which it gives as zeros."""
    module, reference = twin(lambda lib: lib.nn.TransformerEncoder(
        encoder_layer("batch_first")(lib), 2), "float64")
    module.eval()
    reference.eval()
    x = np.random.default_rng(0).standard_normal((N, L, E))
    padding = np.zeros((N, L), bool)
    padding[0, 2:] = True
    with torch.no_grad():
        theirs = reference(torch.tensor(x), src_key_padding_mask=torch.tensor(padding)).numpy()
    ours = module(tensorgrad.tensor(x), src_key_padding_mask=padding).data
    np.testing.assert_allclose(ours[~padding], theirs[~padding], rtol=1e-10, atol=1e-10)
    assert (theirs[padding] == 0).all() and (ours[padding] != 0).all()


# ---- the decoder --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_decoder_as_pytorchs(layout, norm_first, dtype):
    def build(lib):
        layer = lib.nn.TransformerDecoderLayer(E, H, 16, dropout=0.0, norm_first=norm_first,
                                               activation="gelu",
                                               batch_first=layout == "batch_first")
        return lib.nn.TransformerDecoder(layer, 2, norm=lib.nn.LayerNorm(E))

    rng = np.random.default_rng(0)
    tgt, memory = rng.standard_normal(shaped(layout, L, E)), \
        rng.standard_normal(shaped(layout, S, E))
    masks = {"tgt_mask": np.triu(np.ones((L, L), bool), 1),
             "memory_key_padding_mask": mask_set("bool key_padding_mask", layout, L, S)[
                 "key_padding_mask"],
             "tgt_key_padding_mask": mask_set("bool key_padding_mask", layout, L, L, seed=4)[
                 "key_padding_mask"]}
    compare(build, dtype, run, [tgt, memory], masks)


# ---- the whole Transformer ----------------------------------------------------------------------

D, T = 16, 5  # the Transformer's d_model, and its target length (the source's is S)


def causal_mask(module, length: int, dtype):
    """Each library's own ``generate_square_subsequent_mask``."""
    return type(module).generate_square_subsequent_mask(length, dtype=dtype)


def transform(module, src, tgt, hint=None, **masks):
    """``module(src, tgt)`` with the causal target mask, and ``tgt_is_causal=hint``."""
    return module(src, tgt, tgt_mask=causal_mask(module, T, src.dtype), tgt_is_causal=hint,
                  **masks)


def transformer_masks(kind: str, layout: str) -> dict[str, np.ndarray]:
    """Padding masks of one kind for the source, the target and the memory (as the
    source), or float attention masks for the source and the memory."""
    if kind == "padding":
        return {"src_key_padding_mask": mask_set("bool key_padding_mask", layout, S, S)[
                    "key_padding_mask"],
                "tgt_key_padding_mask": mask_set("float key_padding_mask", layout, T, T,
                                                 seed=4)["key_padding_mask"],
                "memory_key_padding_mask": mask_set("float key_padding_mask", layout, T, S,
                                                    seed=5)["key_padding_mask"]}
    return {"src_mask": mask_set("float attn_mask", layout, S, S)["attn_mask"],
            "memory_mask": mask_set("float attn_mask", layout, T, S, seed=6)["attn_mask"]}


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # (PyTorch's encoder's)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("config", ["post-norm, 2 and 1 layers", "pre-norm, gelu, 1 and 2",
                                    "bias=False, eps", "dropout, eval mode"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_transformer_as_pytorchs(layout, config, dtype):
    """Outputs and every gradient (of ``src``, ``tgt``, each parameter) with PyTorch's
    weights, its causal mask, each kind of padding mask and the float attention masks."""
    settings = {"post-norm, 2 and 1 layers": dict(num_encoder_layers=2, num_decoder_layers=1),
                "pre-norm, gelu, 1 and 2": dict(num_encoder_layers=1, num_decoder_layers=2,
                                                norm_first=True, activation="gelu"),
                "bias=False, eps": dict(num_encoder_layers=1, num_decoder_layers=1, bias=False,
                                        layer_norm_eps=1e-3),
                "dropout, eval mode": dict(num_encoder_layers=1, num_decoder_layers=1,
                                           dropout=0.3)}[config]

    def build(lib):
        model = lib.nn.Transformer(D, H, dim_feedforward=32, batch_first=layout == "batch_first",
                                   **{"dropout": 0.0, **settings})
        return model.eval() if config == "dropout, eval mode" else model

    rng = np.random.default_rng(0)
    src, tgt = rng.standard_normal(shaped(layout, S, D)), rng.standard_normal(shaped(layout, T, D))
    for masks, hint in (("none", None), ("padding", None), ("padding", True),
                        ("attention", False)):
        given = {} if masks == "none" else transformer_masks(masks, layout)
        compare(build, dtype, transform, [src, tgt], given, dict(hint=hint),
                case=f"{masks}, tgt_is_causal={hint}")


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
def test_the_transformer_passes_the_causal_hints_on_as_pytorchs():
    """A hint with a mask that is not causal: without a padding mask PyTorch's attention
    trusts the hint over the mask, so the hints must reach the layers as there."""
    rng = np.random.default_rng(0)
    src, tgt = rng.standard_normal((S, N, D)), rng.standard_normal((T, N, D))
    masks = {"src_mask": mask_set("bool attn_mask", "sequence_first", S, S)["attn_mask"],
             "tgt_mask": mask_set("bool attn_mask", "sequence_first", T, T)["attn_mask"]}
    compare(lambda lib: lib.nn.Transformer(D, H, 1, 1, 32, dropout=0.0), "float64", run,
            [src, tgt], masks, dict(src_is_causal=True, tgt_is_causal=True))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_square_subsequent_mask_is_pytorchs(dtype):
    for size in (0, 1, 6):
        assert_same(tensorgrad.nn.Transformer.generate_square_subsequent_mask(
                        size, dtype=getattr(tensorgrad, dtype)),
                    torch.nn.Transformer.generate_square_subsequent_mask(
                        size, dtype=getattr(torch, dtype)), f"size {size}")


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
def test_our_transformers_state_dict_loads_into_pytorchs():
    tensorgrad.manual_seed(0)
    model = tensorgrad.nn.Transformer(D, H, 1, 1, 32, dropout=0.0)
    reference = torch.nn.Transformer(D, H, 1, 1, 32, dropout=0.0).double()
    result = reference.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                                        for k, v in model.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    rng = np.random.default_rng(0)
    src, tgt = rng.standard_normal((S, N, D)), rng.standard_normal((T, N, D))
    causal = np.triu(np.full((T, T), -np.inf), 1)
    assert_same(model(tensorgrad.tensor(src), tensorgrad.tensor(tgt), tgt_mask=causal),
                reference(torch.tensor(src), torch.tensor(tgt), tgt_mask=torch.tensor(causal)),
                "output", 1e-10)
