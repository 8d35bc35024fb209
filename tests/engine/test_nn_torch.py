"""tensorgrad.nn and tensorgrad.optim held against PyTorch's, on one model file run by both.

``nanogpt_style.py`` is a GPT written for tensorgrad.nn as nanoGPT and minGPT write theirs.
It runs here as it is, and again with its three import lines pointed back at torch (the
way out): PyTorch's model, seeded by PyTorch, hands its weights to ours through
``load_state_dict``, and then the two must compute the same logits, losses and gradients,
train to the same losses and generate the same tokens (float64 on both sides: to 1e-9).
Skipped without torch.
"""

from __future__ import annotations

import re

import nanogpt_style as ours
import numpy as np
import pytest
from pointed_back import pointed_back

import tensorgrad
import tensorgrad.nn as nn
from tensorgrad import optim

torch = pytest.importorskip("torch")

TOL = 1e-9
theirs = pointed_back(ours)
pytestmark = pytest.mark.usefixtures("torch_float64_one_thread")



def numpy_of(t) -> np.ndarray:
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.data)


def assert_close(ours_value, their_value, what: str) -> None:
    np.testing.assert_allclose(numpy_of(ours_value), numpy_of(their_value), rtol=TOL, atol=TOL,
                               err_msg=what)


def pair(seed: int = 0, values: str = "numpy", **config):
    """PyTorch's model and ours with PyTorch's weights (loaded as NumPy arrays or tensors)."""
    torch.manual_seed(seed)
    theirs_model = theirs.GPT(theirs.Config(**config))
    tensorgrad.manual_seed(seed)
    ours_model = ours.GPT(ours.Config(**config))
    state = theirs_model.state_dict()
    convert = (lambda t: t.numpy()) if values == "numpy" else \
        (lambda t: tensorgrad.tensor(t.numpy()))
    result = ours_model.load_state_dict({k: convert(v) for k, v in state.items()})
    assert not result.missing_keys and not result.unexpected_keys
    return ours_model, theirs_model


def batch(rng: np.random.Generator, b: int, t: int, vocab: int = 27, ignored: int = 0):
    idx, targets = rng.integers(0, vocab, size=(b, t)), rng.integers(0, vocab, size=(b, t))
    targets[0, :ignored] = -1  # ignore_index=-1: these positions count for nothing
    return idx, targets


MODELS = [dict(bias=bias, fused_attention=fused) for bias in (True, False)
          for fused in (True, False)]


def model_id(config: dict) -> str:
    return ("bias" if config["bias"] else "no bias") + \
        (", sdpa" if config["fused_attention"] else ", masked softmax")


# ---- the model, step by step ------------------------------------------------------------------


def test_the_file_runs_on_both_with_only_its_imports_changed():
    assert ours.nn is nn and theirs.nn is torch.nn
    assert theirs.F is torch.nn.functional


@pytest.mark.parametrize("values", ["numpy", "tensorgrad"])
@pytest.mark.parametrize("config", MODELS, ids=model_id)
def test_same_logits_loss_and_every_gradient(config, values):
    model, reference = pair(values=values, **config)
    idx, targets = batch(np.random.default_rng(1), 3, 12, ignored=5)
    logits, loss = model(tensorgrad.tensor(idx), tensorgrad.tensor(targets))
    their_logits, their_loss = reference(torch.tensor(idx), torch.tensor(targets))
    assert_close(logits, their_logits, "logits")
    assert_close(loss, their_loss, "loss")
    loss.backward()
    their_loss.backward()
    names = [name for name, _ in model.named_parameters()]
    their_params = dict(reference.named_parameters())
    assert names == list(their_params)  # the tied matrix once, under the same name
    for name, p in model.named_parameters():
        assert_close(tensorgrad.tensor(p.grad), their_params[name].grad, f"gradient of {name}")


@pytest.mark.parametrize("config", MODELS, ids=model_id)
def test_twenty_adamw_steps_give_pytorchs_losses(config):
    model, reference = pair(**config)
    optimizers = [m.configure_optimizers(0.1, 1e-2, (0.9, 0.95)) for m in (model, reference)]
    assert [len(g["params"]) for g in optimizers[0].param_groups] == \
        [len(g["params"]) for g in optimizers[1].param_groups]
    rng = np.random.default_rng(2)
    batches = [batch(rng, 4, 16, ignored=3) for _ in range(2)]
    losses, their_losses = [], []
    for step in range(20):
        idx, targets = batches[step % 2]
        for m, opt, out, lib in ((model, optimizers[0], losses, tensorgrad),
                                 (reference, optimizers[1], their_losses, torch)):
            _, loss = m(lib.tensor(idx), lib.tensor(targets))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            out.append(loss.item())
    np.testing.assert_allclose(losses, their_losses, rtol=TOL)
    assert losses[-2] < losses[0] and losses[-1] < losses[1]  # (it learns the two batches)
    their_params = dict(reference.named_parameters())
    for name, p in model.named_parameters():
        assert_close(p, their_params[name], f"{name} after 20 steps")


@pytest.mark.parametrize("sample", [True, False], ids=["multinomial, top_k=1", "topk(probs)"])
def test_greedy_generation_gives_pytorchs_tokens_past_the_block(sample):
    model, reference = pair(bias=False)
    model.eval()
    reference.eval()
    start = np.random.default_rng(3).integers(0, 27, size=(2, 4))
    tokens = model.generate(tensorgrad.tensor(start), 20, temperature=0.8, top_k=1,
                            sample=sample)
    their_tokens = reference.generate(torch.tensor(start), 20, temperature=0.8, top_k=1,
                                      sample=sample)
    assert tokens.shape == (2, 24)  # more than block_size (16): the context is cropped
    np.testing.assert_array_equal(tokens.data, their_tokens.numpy())


def test_sampling_repeats_under_manual_seed_and_keeps_to_the_top_k():
    model, _ = pair()
    model.eval()
    start = tensorgrad.tensor([[1, 2, 3]])
    runs = []
    for _ in range(2):
        tensorgrad.manual_seed(7)
        runs.append(model.generate(start, 12, top_k=3).tolist())
    assert runs[0] == runs[1]
    with tensorgrad.no_grad():  # each drawn token was among the 3 likeliest after its context
        for i in range(3, 15):
            logits, _ = model(tensorgrad.tensor([runs[0][0][:i]]))
            top = np.argsort(-logits.data[0, -1])[:3]
            assert runs[0][0][i] in top


@pytest.mark.parametrize("fused", [True, False], ids=["sdpa", "masked softmax"])
def test_dropout_acts_in_training_only_and_eval_is_the_model_without_it(fused):
    with_dropout, reference = pair(dropout=0.2, fused_attention=fused)
    without, _ = pair(dropout=0.0, fused_attention=fused)
    idx, targets = batch(np.random.default_rng(4), 2, 10)
    x, y = tensorgrad.tensor(idx), tensorgrad.tensor(targets)
    assert with_dropout.training and all(m.training for m in with_dropout.modules())
    tensorgrad.manual_seed(1)
    first, loss = with_dropout(x, y)
    second, _ = with_dropout(x, y)
    assert not np.allclose(first.data, second.data)  # each call draws its own mask
    tensorgrad.manual_seed(1)
    again, _ = with_dropout(x, y)
    np.testing.assert_array_equal(first.data, again.data)  # one generator: runs repeat
    loss.backward()
    assert all(np.isfinite(p.grad).all() for p in with_dropout.parameters())
    assert with_dropout.eval() is with_dropout
    assert not any(m.training for m in with_dropout.modules())
    reference.eval()
    evaluated, _ = with_dropout(x, y)
    plain, _ = without(x, y)
    np.testing.assert_array_equal(evaluated.data, plain.data)
    assert_close(evaluated, reference(torch.tensor(idx), torch.tensor(targets))[0], "eval logits")
    with_dropout.train()
    assert all(m.training for m in with_dropout.modules())


@pytest.mark.parametrize("fused", [True, False], ids=["sdpa", "masked softmax"])
def test_crop_block_size_estimate_mfu_and_the_way_back_out(fused):
    model, reference = pair(fused_attention=fused)
    assert model.num_params() == reference.num_params()
    assert model.estimate_mfu(8, 0.25) == pytest.approx(reference.estimate_mfu(8, 0.25), rel=1e-15)
    old = model.transformer.wpe.weight
    for m in (model, reference):
        m.crop_block_size(8)
    cropped = model.transformer.wpe.weight
    assert isinstance(cropped, nn.Parameter) and cropped.is_leaf and cropped.shape == (8, 16)
    with tensorgrad.no_grad():
        old.zero_()  # a new leaf with values of its own
    assert cropped.data.any()
    assert all(p is not old for p in model.parameters())
    if not fused:
        assert model.transformer.h[0].attn.bias.shape == (1, 1, 8, 8)
    idx, targets = batch(np.random.default_rng(5), 2, 8)
    logits, loss = model(tensorgrad.tensor(idx), tensorgrad.tensor(targets))
    their_logits, their_loss = reference(torch.tensor(idx), torch.tensor(targets))
    assert_close(logits, their_logits, "logits after crop_block_size")
    # the way out: our weights, trained a step, into PyTorch's model
    opt = model.configure_optimizers(0.1, 1e-2, (0.9, 0.95))
    loss.backward()
    opt.step()
    state = {k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()}
    assert reference.load_state_dict(state).missing_keys == []
    logits, _ = model(tensorgrad.tensor(idx))
    assert_close(logits, reference(torch.tensor(idx))[0], "PyTorch's logits from our weights")


# ---- minGPT's habits ----------------------------------------------------------------------------


def test_named_modules_split_parameters_for_weight_decay_as_pytorch():
    model, reference = pair()
    assert model.decay_split() == reference.decay_split()
    decay, no_decay = model.decay_split()
    params = dict(model.named_parameters())
    assert decay | no_decay >= set(params) and not decay & no_decay
    assert [n for n, _ in model.named_modules()] == [n for n, _ in reference.named_modules()]
    assert [n for n, _ in model.named_buffers()] == [n for n, _ in reference.named_buffers()]
    assert list(model.state_dict()) == list(reference.state_dict())


@pytest.mark.parametrize("max_norm, norm_type", [(0.05, 2.0), (1e3, 2.0), (0.01, 1.0),
                                                 (0.001, float("inf")), (0.02, 3.0),
                                                 (1e-4, float("-inf")), (3.0, 0.0)])
def test_clip_grad_norm_as_pytorchs(max_norm, norm_type):
    model, reference = pair()
    idx, targets = batch(np.random.default_rng(6), 2, 8)
    for m, lib in ((model, tensorgrad), (reference, torch)):
        m(lib.tensor(idx), lib.tensor(targets))[1].backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm, norm_type=norm_type)
    their_total = torch.nn.utils.clip_grad_norm_(reference.parameters(), max_norm,
                                                 norm_type=norm_type)
    assert_close(total, their_total, "total norm")
    their_params = dict(reference.named_parameters())
    for name, p in model.named_parameters():
        assert_close(tensorgrad.tensor(p.grad), their_params[name].grad, f"clipped {name}")


@pytest.mark.parametrize("nonlinearity", ["linear", "conv1d", "conv2d", "conv3d",
                                          "conv_transpose1d", "conv_transpose2d",
                                          "conv_transpose3d", "sigmoid", "tanh", "relu",
                                          "leaky_relu", "selu"])
def test_calculate_gain_as_pytorchs(nonlinearity):
    assert nn.init.calculate_gain(nonlinearity) == torch.nn.init.calculate_gain(nonlinearity)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("padding_idx", [0, -1, 2])
def test_embedding_with_a_padding_row_as_pytorchs(dtype, padding_idx):
    """The padding row starts at zeros, is looked up as it is (here after a change) and gets
    no gradient; the module and the function alike."""
    ours_emb = nn.Embedding(5, 3, padding_idx=padding_idx, dtype=getattr(tensorgrad, dtype))
    theirs_emb = torch.nn.Embedding(5, 3, padding_idx=padding_idx, dtype=getattr(torch, dtype))
    assert repr(ours_emb) == repr(theirs_emb)
    assert not ours_emb.weight.data[padding_idx].any()
    ours_emb.weight.data[padding_idx] = 7  # looked up as it is, whatever it holds
    with torch.no_grad():
        theirs_emb.weight.copy_(torch.from_numpy(ours_emb.weight.detach().numpy().copy()))
    ids = np.array([[0, 2, 4], [4, 4, 1]])
    upstream = np.random.default_rng(0).standard_normal((2, 3, 3)).astype(dtype)
    for function in (False, True):
        ours_emb.weight.grad, theirs_emb.weight.grad = None, None
        if function:
            out = nn.functional.embedding(ids, ours_emb.weight, padding_idx=padding_idx)
            expected = torch.nn.functional.embedding(torch.from_numpy(ids), theirs_emb.weight,
                                                     padding_idx=padding_idx)
        else:
            out, expected = ours_emb(ids), theirs_emb(torch.from_numpy(ids))
        out.backward(upstream)
        expected.backward(torch.from_numpy(upstream))
        np.testing.assert_array_equal(out.data, expected.detach().numpy())
        np.testing.assert_array_equal(ours_emb.weight.grad, theirs_emb.weight.grad.numpy())
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 3, padding_idx=5)


def test_a_sequential_model_with_nn_init_trains_as_pytorchs():
    def build(lib):
        lib.manual_seed(0)
        layers = lib.nn.Sequential(lib.nn.Linear(5, 8), lib.nn.Tanh(), lib.nn.Linear(8, 8),
                                   lib.nn.ReLU(), lib.nn.RMSNorm(8, eps=1e-6),
                                   lib.nn.Linear(8, 3, bias=False))
        lib.nn.init.xavier_uniform_(layers[0].weight)
        lib.nn.init.constant_(layers[0].bias, 0.1)
        lib.nn.init.ones_(layers[4].weight)
        return layers

    model, reference = build(tensorgrad), build(torch)
    model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    opts = optim.SGD(model.parameters(), lr=0.1, momentum=0.9), \
        torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(7)
    for _ in range(5):
        x, y = rng.normal(size=(6, 5)), rng.integers(0, 3, size=6)
        losses = []
        for m, opt, lib in ((model, opts[0], tensorgrad), (reference, opts[1], torch)):
            loss = lib.nn.functional.cross_entropy(m(lib.tensor(x)), lib.tensor(y))
            opt.zero_grad()
            loss.backward()
            lib.nn.utils.clip_grad_norm_(m.parameters(), 0.5)
            opt.step()
            losses.append(loss.item())
        assert losses[0] == pytest.approx(losses[1], rel=TOL)


# ---- the Module API, message for message ----------------------------------------------------


def normalized(message: str) -> str:
    """PyTorch's message with its shapes written as tensorgrad writes them."""
    return message.replace("torch.Size(", "tensorgrad.Size(")


def broken_states(state: dict) -> dict[str, dict]:
    first, last = list(state)[0], list(state)[-1]
    wrong = {k: np.zeros((3, *v.shape[1:])) if k == last else v for k, v in state.items()}
    return {
        "missing": {k: v for k, v in state.items() if k != first},
        "unexpected": {**state, "transformer.h.0.attn.scale": state[first],
                       "head.weight": state[first]},
        "mis-shaped": wrong,
        "all three": {**{k: v for k, v in wrong.items() if k != first},
                      "transformer.extra": state[first]},
    }


@pytest.mark.parametrize("case", ["missing", "unexpected", "mis-shaped", "all three"])
@pytest.mark.parametrize("fused", [True, False], ids=["sdpa", "masked softmax (a buffer)"])
def test_load_state_dict_strictness_and_messages_as_pytorchs(case, fused):
    model, reference = pair(fused_attention=fused)
    state = {k: v.numpy() for k, v in reference.state_dict().items()}
    broken = broken_states(state)[case]
    their_broken = {k: torch.from_numpy(np.asarray(v)) for k, v in broken.items()}
    for strict in (True, False):
        errors = []
        for target, values in ((reference, their_broken), (model, broken)):
            try:
                target.load_state_dict(values, strict=strict)
                errors.append(None)
            except RuntimeError as error:
                errors.append(str(error))
        their_error, our_error = errors
        assert (their_error is None) == (case in ("missing", "unexpected") and not strict)
        assert our_error == (their_error and normalized(their_error))


@pytest.mark.parametrize("case", ["missing", "unexpected"])
def test_load_state_dict_not_strict_returns_pytorchs_keys(case):
    model, reference = pair()
    broken = broken_states({k: v.numpy() for k, v in reference.state_dict().items()})[case]
    result = model.load_state_dict(broken, strict=False)
    their_result = reference.load_state_dict({k: torch.from_numpy(v) for k, v in broken.items()},
                                             strict=False)
    assert result.missing_keys == their_result.missing_keys
    assert result.unexpected_keys == their_result.unexpected_keys
    assert model.load_state_dict(model.state_dict()).__repr__() == \
        repr(reference.load_state_dict(reference.state_dict()))


def test_repr_as_pytorchs():
    model, reference = pair(bias=False)
    assert repr(model) == repr(reference)
    masked, their_masked = pair(fused_attention=False, dropout=0.1)
    assert repr(masked) == repr(their_masked)


def test_buffers_persistent_or_not_as_pytorch():
    def build(lib):
        module = lib.nn.Module()
        module.register_buffer("kept", lib.ones(2))
        module.register_buffer("scratch", lib.zeros(3), persistent=False)
        module.register_buffer("empty", None)
        module.inner = lib.nn.Linear(2, 2)
        module.inner.register_buffer("count", lib.tensor(0.0))
        return module

    module, reference = build(tensorgrad), build(torch)
    assert list(module.state_dict()) == list(reference.state_dict())
    assert [n for n, _ in module.named_buffers()] == [n for n, _ in reference.named_buffers()]


# ---- optimizers, step for step ------------------------------------------------------------------


SHAPES = [(4, 3), (3,), (), (2, 2, 2)]
OPTIMIZERS = {
    "SGD": ("SGD", dict(lr=0.1)),
    "SGD momentum": ("SGD", dict(lr=0.05, momentum=0.9)),
    "SGD nesterov, weight decay": ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True,
                                               weight_decay=0.01)),
    "SGD dampening, maximize": ("SGD", dict(lr=0.02, momentum=0.5, dampening=0.3,
                                            maximize=True)),
    "Adam": ("Adam", dict()),
    "Adam L2, amsgrad": ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    "AdamW": ("AdamW", dict(lr=0.01)),
    "AdamW all settings": ("AdamW", dict(lr=0.02, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.3,
                                         amsgrad=True, maximize=True)),
}


def twin_params(rng: np.random.Generator):
    values = [rng.normal(size=s) for s in SHAPES]
    return ([tensorgrad.tensor(v, requires_grad=True) for v in values],
            [torch.tensor(v, requires_grad=True) for v in values])


def feed(ours_params, their_params, rng, absent=()):
    """The same gradients to both, but none to the parameters numbered in ``absent``."""
    for i, (p, q) in enumerate(zip(ours_params, their_params)):
        if i in absent:
            p.grad = q.grad = None
        else:
            g = rng.normal(size=p.shape)
            p.grad, q.grad = g, torch.tensor(g)


def assert_same_params(ours_params, their_params, what):
    for i, (p, q) in enumerate(zip(ours_params, their_params)):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=f"{what}: parameter {i}")


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("grouped", [False, True], ids=["one group", "two groups"])
def test_optimizer_step_for_step_as_pytorchs(name, grouped):
    kind, settings = OPTIMIZERS[name]
    rng = np.random.default_rng(8)
    ours_params, their_params = twin_params(rng)

    def groups(params):
        if not grouped:
            return params
        return [{"params": params[:2], "lr": 0.03, "weight_decay": 0.05},
                {"params": params[2:]}]

    opt = getattr(optim, kind)(groups(ours_params), **settings)
    their_opt = getattr(torch.optim, kind)(groups(their_params), **settings)
    for step in range(12):
        # parameter 1 has no gradient at steps 2-5 (its step count falls behind), 3 at 0-1
        absent = {1} if 2 <= step <= 5 else {3} if step < 2 else ()
        feed(ours_params, their_params, rng, absent)
        if step == 7:  # a schedule changes a group's rate between steps
            for o in (opt, their_opt):
                o.param_groups[-1]["lr"] *= 0.5
        opt.step()
        their_opt.step()
        assert_same_params(ours_params, their_params, f"{name}, step {step}")
    state, their_state = opt.state_dict(), their_opt.state_dict()
    for group, their_group in zip(state["param_groups"], their_state["param_groups"]):
        for key, value in group.items():
            assert value == their_group[key], key
    assert [g["params"] for g in state["param_groups"]] == \
        [g["params"] for g in their_state["param_groups"]]
    for number, their_entry in their_state["state"].items():
        for key, value in their_entry.items():
            if value is None:
                continue
            np.testing.assert_allclose(np.asarray(state["state"][number][key]), value.numpy(),
                                       rtol=1e-12, atol=1e-14, err_msg=f"{number} {key}")


@pytest.mark.parametrize("name", ["SGD momentum", "Adam L2, amsgrad", "AdamW"])
def test_an_optimizer_continues_from_pytorchs_state_dict(name):
    kind, settings = OPTIMIZERS[name]
    rng = np.random.default_rng(9)
    ours_params, their_params = twin_params(rng)
    their_opt = getattr(torch.optim, kind)(their_params, **settings)
    for step in range(3):
        feed(ours_params, their_params, rng, absent={2} if step else ())
        their_opt.step()
    with torch.no_grad():
        for p, q in zip(ours_params, their_params):
            p.data[...] = q.numpy()
    opt = getattr(optim, kind)(ours_params, **{**settings, "lr": 123.0})
    opt.load_state_dict(their_opt.state_dict())
    assert opt.param_groups[0]["lr"] == settings.get("lr", 1e-3)
    for _ in range(4):
        feed(ours_params, their_params, rng)
        opt.step()
        their_opt.step()
    assert_same_params(ours_params, their_params, f"{name} after loading PyTorch's state")


BAD_OPTIMIZERS = {
    "negative lr": ("Adam", dict(lr=-1.0)),
    "negative eps": ("AdamW", dict(eps=-1e-8)),
    "beta1 of 1": ("Adam", dict(betas=(1.0, 0.999))),
    "negative beta2": ("AdamW", dict(betas=(0.9, -0.1))),
    "negative weight decay": ("AdamW", dict(weight_decay=-0.1)),
    "negative momentum": ("SGD", dict(lr=0.1, momentum=-0.5)),
    "nesterov without momentum": ("SGD", dict(lr=0.1, nesterov=True)),
    "nesterov with dampening": ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1,
                                            nesterov=True)),
}


@pytest.mark.parametrize("case", list(BAD_OPTIMIZERS))
def test_bad_settings_raise_as_pytorchs(case):
    kind, settings = BAD_OPTIMIZERS[case]
    with pytest.raises(Exception) as theirs_raised:
        getattr(torch.optim, kind)([torch.zeros(2, requires_grad=True)], **settings)
    with pytest.raises(type(theirs_raised.value), match=re.escape(str(theirs_raised.value))):
        getattr(optim, kind)([tensorgrad.zeros(2, requires_grad=True)], **settings)


@pytest.mark.parametrize("case", ["twice in two groups", "a result of an op", "no parameters",
                                  "one tensor", "a set", "not a tensor"])
def test_bad_parameters_raise_as_pytorchs(case):
    def params(lib):
        w = lib.zeros(2, requires_grad=True)
        return {"twice in two groups": [{"params": [w]}, {"params": [w]}],
                "a result of an op": [w * 2], "no parameters": [], "one tensor": w,
                "a set": [{"params": {w}}], "not a tensor": [w, 1.0]}[case]

    with pytest.raises(Exception) as theirs_raised:
        torch.optim.AdamW(params(torch))
    message = str(theirs_raised.value).split(",")[0].replace("torch.", "")
    with pytest.raises(type(theirs_raised.value)) as ours_raised:
        optim.AdamW(params(tensorgrad))
    assert str(ours_raised.value).startswith(message.split(" but ")[0][:40])


def test_parameters_to_vector_and_back_as_torchs():
    torch = pytest.importorskip("torch")
    results = []
    for m in (tensorgrad, torch):
        layer = m.nn.Linear(3, 2).double()
        with m.no_grad():
            layer.weight.copy_(m.tensor(np.arange(6.0).reshape(2, 3)))
            layer.bias.copy_(m.tensor([-1.0, -2.0]))
        vec = m.nn.utils.parameters_to_vector(layer.parameters())
        (vec * m.arange(8, dtype=m.float64)).sum().backward()
        m.nn.utils.vector_to_parameters(vec.detach() * 2, layer.parameters())
        results.append((vec.detach().numpy().copy(), layer.weight.grad.numpy().copy(),
                        layer.bias.detach().numpy().copy()))
        with pytest.raises((RuntimeError, ValueError)):
            m.nn.utils.vector_to_parameters(m.zeros(3, dtype=m.float64), layer.parameters())
    for mine, theirs in zip(*results):
        np.testing.assert_array_equal(mine, theirs)


def test_state_dict_hooks_and_get_buffer_as_pytorchs():
    def run(lib):
        log = []
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        model[0].register_state_dict_pre_hook(
            lambda module, prefix, keep_vars: log.append(("save pre", prefix, keep_vars)))
        model.register_state_dict_post_hook(
            lambda module, state, prefix, meta: log.append(("save post", prefix, len(state))))

        def rename(module, state, prefix, meta, strict, missing, unexpected, errors):
            log.append(("load pre", prefix, strict))
            if prefix + "w" in state:  # an old checkpoint's name for the weight
                state[prefix + "weight"] = state.pop(prefix + "w")

        def forgive(module, keys):
            log.append(("load post", list(keys.missing_keys), list(keys.unexpected_keys)))
            keys.missing_keys.clear()

        model[0].register_load_state_dict_pre_hook(rename)
        handle = model.register_load_state_dict_post_hook(forgive)
        state = {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()}
        state["0.w"] = state.pop("0.weight")
        del state["1.running_var"]
        result = model.load_state_dict(state)  # strict: the missing key forgiven by the hook
        handle.remove()
        del state["1.running_mean"]
        try:
            model.load_state_dict(state)
        except RuntimeError as error:
            log.append(("error", str(error)))
        log.append(tuple(model.get_buffer("1.num_batches_tracked").shape))
        for bad in ("1.nothing", "0.weight"):
            try:
                model.get_buffer(bad)
            except AttributeError as error:
                log.append(("no buffer", str(error)))
        return log, result.missing_keys, result.unexpected_keys

    assert run(tensorgrad) == run(torch)
