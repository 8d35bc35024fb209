"""The habits of Karpathy's teaching code (makemore, the nanoGPT lecture's gpt.py and bigram.py,
build-nanogpt's train_gpt2.py), in compact models of our own written once against a module
``torch``: run on PyTorch and on tensorgrad from the same weights, they must give the same
logits, losses, gradients and AdamW steps; and the discrepancies those files turned up, each
held against PyTorch."""

from __future__ import annotations

import importlib
import math
import warnings

import numpy as np
import pytest
from torch_compare import assert_same

import tensorgrad as tg

torch = pytest.importorskip("torch")


def models(torch):  # noqa: C901 (one namespace of small classes, per library)
    """The models, their layers written with ``torch``'s names (PyTorch or tensorgrad)."""
    nn, F = torch.nn, torch.nn.functional

    class Attention(nn.Module):  # a causal mask as a buffer, filled with -inf (makemore, gpt.py)
        def __init__(self, width, heads, block):
            super().__init__()
            self.qkv, self.out = nn.Linear(width, 3 * width), nn.Linear(width, width)
            self.heads = heads
            mask = torch.tril(torch.ones(block, block)).view(1, 1, block, block)
            self.register_buffer("tril", mask)

        def forward(self, x):
            b, t, c = x.size()
            q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2)
                       for z in self.qkv(x).split(c, dim=2))
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = F.softmax(att.masked_fill(self.tril[:, :, :t, :t] == 0, float("-inf")), dim=-1)
            return self.out((att @ v).transpose(1, 2).contiguous().view(b, t, c))

    class Flash(nn.Module):  # build-nanogpt's: the fused attention, scaled initial weights
        def __init__(self, width, heads):
            super().__init__()
            self.qkv, self.out = nn.Linear(width, 3 * width), nn.Linear(width, width)
            self.heads = heads
            self.out.SCALE_INIT = 1

        def forward(self, x):
            b, t, c = x.size()
            q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2)
                       for z in self.qkv(x).split(c, dim=2))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.out(y.transpose(1, 2).contiguous().view(b, t, c))

    class GPT(nn.Module):
        def __init__(self, vocab=11, block=6, width=8, heads=2, flash=False):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(vocab, width), nn.Embedding(block, width)
            self.ln = nn.LayerNorm(width)
            self.attn = Flash(width, heads) if flash else Attention(width, heads, block)
            self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(approximate="tanh"),
                                     nn.Linear(4 * width, width))
            self.head = nn.Linear(width, vocab, bias=False)
            if flash:  # weight tying, and model.apply(init)
                self.wte.weight = self.head.weight
                self.apply(self._init)

        def _init(self, module):
            if isinstance(module, nn.Linear):
                std = 0.02 * (2 ** -0.5 if hasattr(module, "SCALE_INIT") else 1)
                torch.nn.init.normal_(module.weight, mean=0.0, std=std)
                if module.bias is not None:
                    torch.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx, targets=None):
            t = idx.size(1)
            x = self.wte(idx) + self.wpe(torch.arange(0, t, dtype=torch.long).unsqueeze(0))
            x = x + self.attn(self.ln(x))
            logits = self.head(x + self.mlp(x))
            if targets is None:
                return logits, None
            flat = logits.view(-1, logits.size(-1))
            return logits, F.cross_entropy(flat, targets.view(-1), ignore_index=-1)

    class Recurrent(nn.Module):  # makemore's GRU cell, stepped over time from a learned start
        def __init__(self, vocab=11, width=8, hidden=8):
            super().__init__()
            self.start = nn.Parameter(torch.zeros(1, hidden))
            self.wte = nn.Embedding(vocab, width)
            self.z, self.r, self.h = (nn.Linear(width + hidden, hidden) for _ in range(3))
            self.head = nn.Linear(hidden, vocab)

        def forward(self, idx, targets=None):
            emb, h = self.wte(idx), self.start.expand((idx.size(0), -1))
            states = []
            for i in range(idx.size(1)):
                x = emb[:, i, :]
                r = F.sigmoid(self.r(torch.cat([x, h], dim=1)))
                hbar = F.tanh(self.h(torch.cat([x, r * h], dim=1)))
                z = F.sigmoid(self.z(torch.cat([x, h], dim=1)))
                h = (1 - z) * h + z * hbar
                states.append(h)
            logits = self.head(torch.stack(states, 1))
            flat = logits.view(-1, logits.size(-1))
            return logits, F.cross_entropy(flat, targets.view(-1), ignore_index=-1)

    class Context(nn.Module):  # makemore's MLP: earlier tokens by roll, a blank written in place
        def __init__(self, vocab=11, width=4, block=3):
            super().__init__()
            self.vocab, self.block = vocab, block
            self.wte = nn.Embedding(vocab + 1, width)
            self.mlp = nn.Sequential(nn.Linear(block * width, 16), nn.Tanh(), nn.Linear(16, vocab))

        def forward(self, idx, targets=None):
            embs = []
            for _ in range(self.block):
                embs.append(self.wte(idx))
                idx = torch.roll(idx, 1, 1)
                idx[:, 0] = self.vocab
            logits = self.mlp(torch.cat(embs, -1))
            flat = logits.view(-1, logits.size(-1))
            return logits, F.cross_entropy(flat, targets.view(-1), ignore_index=-1)

    class Bigram(nn.Module):  # a table of logits, looked up by index
        def __init__(self, vocab=11):
            super().__init__()
            self.logits = nn.Parameter(torch.randn((vocab, vocab)))

        def forward(self, idx, targets=None):
            logits = self.logits[idx]
            flat = logits.view(-1, logits.size(-1))
            return logits, F.cross_entropy(flat, targets.view(-1), ignore_index=-1)

    return {"transformer": GPT, "flash, tied": lambda: GPT(flash=True), "gru": Recurrent,
            "mlp": Context, "bigram": Bigram}


THEIRS, OURS = models(torch), models(tg)


def _batch(rng):
    """Tokens and targets with makemore's -1 (ignored) after each word's end."""
    x = rng.integers(0, 11, (3, 6))
    y = np.roll(x, -1, 1)
    y[0, 4:] = -1
    return x, y


@pytest.mark.parametrize("name", list(THEIRS))
def test_same_weights_same_logits_losses_gradients_and_adamw_steps(name):
    torch.manual_seed(0)
    theirs, ours = THEIRS[name]().double(), OURS[name]()
    state = {k: tg.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)
    assert list(dict(ours.named_parameters())) == list(dict(theirs.named_parameters()))
    settings = dict(lr=1e-2, weight_decay=0.01, betas=(0.9, 0.99), eps=1e-8)
    their_opt = torch.optim.AdamW(theirs.parameters(), **settings)
    opt = tg.optim.AdamW(ours.parameters(), **settings)
    rng = np.random.default_rng(1)
    for step in range(3):
        x, y = _batch(rng)
        their_logits, their_loss = theirs(torch.tensor(x), torch.tensor(y))
        logits, loss = ours(tg.tensor(x), tg.tensor(y))
        assert_same(logits, their_logits, f"logits at step {step}")
        assert_same(loss, their_loss, f"loss at step {step}")
        theirs.zero_grad(set_to_none=True)
        ours.zero_grad(set_to_none=True)
        their_loss.backward()
        loss.backward()
        their_norm = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0)
        assert_same(tg.nn.utils.clip_grad_norm_(ours.parameters(), 1.0), their_norm, "norm")
        their_opt.step()
        opt.step()
        their_params = dict(theirs.named_parameters())
        for key, p in ours.named_parameters():
            assert_same(p, their_params[key], f"{key} after step {step}")


def test_sampling_runs_as_the_lectures_sample():
    """top-k by indexing with v[:, [-1]], multinomial with a generator, gather, cat."""
    tg.manual_seed(3)
    model = OURS["flash, tied"]().eval()
    idx = tg.zeros(2, 1, dtype=tg.long)
    draws = tg.Generator(device="cpu")
    draws.manual_seed(42)
    with tg.no_grad():
        for _ in range(4):
            logits = model(idx[:, -6:])[0][:, -1, :] / 0.8
            v, _ = tg.topk(logits, 3)
            logits[logits < v[:, [-1]]] = -float("inf")
            probs = tg.nn.functional.softmax(logits, dim=-1)
            top, where = tg.topk(probs, 5, dim=-1)
            pick = tg.gather(where, -1, tg.multinomial(top, 1, generator=draws))
            assert (probs.gather(1, pick) > 0).all()
            idx = tg.cat((idx, pick), dim=1)
    assert idx.shape == (2, 5) and idx.dtype == tg.long


# ---- what the files turned up, each as PyTorch has it -------------------------------------------

def _f32(*shape):
    return np.ones(shape, np.float32)


ERRORS = {  # name: (a call on a library's module, PyTorch's exception)
    "expand: -1 for a new leading dimension": (
        lambda m: m.ones(2, 3).expand(-1, 2, 3), RuntimeError),
    "expand: -1 twice, one new": (lambda m: m.ones(2, 3).expand(-1, -1, 3), RuntimeError),
    "expand: a negative size": (lambda m: m.ones(1, 3).expand(-2, 3), RuntimeError),
    "masked_fill: an int mask": (
        lambda m: m.tensor(_f32(2, 2)).masked_fill(m.tensor(np.ones((2, 2), np.int64)), 1.0),
        RuntimeError),
    "masked_fill_: a float mask": (
        lambda m: m.tensor(_f32(2, 2)).masked_fill_(m.tensor(_f32(2)), 1.0), RuntimeError),
    "masked_fill: a value of shape (1,)": (
        lambda m: m.tensor(_f32(2)).masked_fill(m.tensor([True, False]), m.tensor([3.0])),
        RuntimeError),
    "masked_fill: None as the value": (
        lambda m: m.tensor(_f32(2)).masked_fill(m.tensor([True, False]), None), TypeError),
    "where: an int condition": (
        lambda m: m.where(m.tensor([1, 0]), m.tensor(_f32(2)), m.tensor(_f32(2))), RuntimeError),
    "nll_loss: float targets": (
        lambda m: m.nn.functional.nll_loss(m.tensor(_f32(2, 3)), m.tensor(_f32(2))), RuntimeError),
    "attention: value of another dtype": (
        lambda m: m.nn.functional.scaled_dot_product_attention(
            m.tensor(_f32(1, 3, 4)), m.tensor(_f32(1, 3, 4)), m.tensor(np.ones((1, 3, 4)))),
        RuntimeError),
    "attention: integer query, key and value": (
        lambda m: m.nn.functional.scaled_dot_product_attention(
            *[m.tensor(np.ones((1, 3, 4), np.int64))] * 3), RuntimeError),
    "attention: a float64 mask for float32 scores": (
        lambda m: m.nn.functional.scaled_dot_product_attention(
            *[m.tensor(_f32(1, 3, 4))] * 3, attn_mask=m.tensor(np.zeros((3, 3)))), RuntimeError),
    "attention: an int mask": (
        lambda m: m.nn.functional.scaled_dot_product_attention(
            *[m.tensor(_f32(1, 3, 4))] * 3, attn_mask=m.tensor(np.zeros((3, 3), np.int64))),
        RuntimeError),
    "AdamW: fused and foreach together": (
        lambda m: m.optim.AdamW([m.zeros(2, requires_grad=True)], fused=True, foreach=True),
        RuntimeError),
}
INIT = ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
        "kaiming_uniform_", "kaiming_normal_", "orthogonal_"]
for _name in INIT:
    ERRORS[f"nn.init.{_name} of an int tensor"] = (
        lambda m, name=_name: getattr(m.nn.init, name)(m.zeros(2, 3, dtype=m.long)),
        NotImplementedError)
ERRORS["nn.init.normal_ of a bool tensor"] = (
    lambda m: m.nn.init.normal_(m.zeros(2, dtype=m.bool)), NotImplementedError)
ERRORS["nn.init.sparse_ of an int tensor"] = (
    lambda m: m.nn.init.sparse_(m.zeros(2, 3, dtype=m.long), 0.5), NotImplementedError)


@pytest.mark.parametrize("name", list(ERRORS))
def test_the_same_error_as_pytorch(name):
    call, error = ERRORS[name]
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error):
        call(tg)


def test_random_init_of_an_empty_int_tensor_is_fine():
    for m in (torch, tg):
        assert m.nn.init.normal_(m.zeros(0, dtype=m.long)).shape == (0,)


def test_expand_keeps_minus_one_where_the_dimension_exists():
    for sizes in [(2, -1, 3), (4, 2, -1), (0, 2, 3)]:
        assert tuple(tg.ones(2, 3).expand(*sizes).shape) == tuple(
            torch.ones(2, 3).expand(*sizes).shape)


@pytest.mark.parametrize("kernel", [dict(fused=True), dict(foreach=True), dict(fused=False)])
@pytest.mark.parametrize("name", ["AdamW", "Adam", "SGD"])
def test_fused_and_foreach_are_accepted_and_step_the_same(name, kernel):
    """PyTorch's CPU optimizers take fused=True and foreach=True: the same update."""
    start = np.random.default_rng(4).standard_normal((2, 3))
    grad = np.random.default_rng(5).standard_normal((2, 3))
    theirs, ours = torch.tensor(start, requires_grad=True), tg.tensor(start, requires_grad=True)
    their_opt = getattr(torch.optim, name)([theirs], lr=0.1, **kernel)
    opt = getattr(tg.optim, name)([ours], lr=0.1, **kernel)
    assert opt.defaults[next(iter(kernel))] == their_opt.defaults[next(iter(kernel))]
    for _ in range(2):
        theirs.grad, ours.grad = torch.tensor(grad), tg.tensor(grad)
        their_opt.step()
        opt.step()
    assert_same(ours, theirs, f"{name} {kernel}")


def _float_warnings(m, code, monkeypatch):
    monkeypatch.setattr(importlib.import_module("tensorgrad.tensor"), "_warned_float", False)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        code(m)
    return [str(w.message).split("\n")[0] for w in seen if w.category is UserWarning]


# PyTorch warns once a process (its flag cannot be reset here): each count below is what
# torch 2.13 gives as the first such call in a fresh process
FLOATS = {
    "float() of a loss": (lambda m: float(m.ones(1, requires_grad=True) * 2), 1),
    "float() twice": (lambda m: [float(m.ones(1, requires_grad=True)) for _ in range(2)], 1),
    "complex() of a leaf": (lambda m: complex(m.ones(1, requires_grad=True)), 1),
    "math.exp of a leaf": (lambda m: math.exp(m.tensor(1.0, requires_grad=True)), 1),
    "int() of a leaf": (lambda m: int(m.ones(1, requires_grad=True)), 0),
    "item()": (lambda m: m.ones(1, requires_grad=True).item(), 0),
    "float() detached": (lambda m: float(m.ones(1, requires_grad=True).detach()), 0),
}


@pytest.mark.parametrize("name", list(FLOATS))
def test_float_of_a_tensor_that_requires_grad_warns_once(name, monkeypatch):
    code, count = FLOATS[name]
    ours = _float_warnings(tg, code, monkeypatch)
    assert len(ours) == count
    if count:
        assert ours[0] == ("Converting a tensor with requires_grad=True to a scalar may lead "
                           "to unexpected behavior.")


def test_float_under_no_grad_does_not_warn(monkeypatch):
    def code(m):
        with m.no_grad():
            float(m.ones(1, requires_grad=True))
    assert _float_warnings(tg, code, monkeypatch) == []


# ---- clip_grad_norm_ in two halves (PyTorch 2.6's get_total_norm, clip_grads_with_norm_) --------

NORM_CASES = {  # name: (the arrays, the norm's order)
    "float32": ([np.array([3.0, -4.0], np.float32), np.ones((2, 2), np.float32)], 2.0),
    "float32 and float64": ([np.array([3.0, 4.0], np.float32), np.array([[12.0]])], 2.0),
    "inf, transposed": ([np.arange(6.0).reshape(2, 3).T - 4, np.array([1.0])], "inf"),
    "order 1, an empty one": ([np.array([1.0, -2.0]), np.zeros((0, 3))], 1),
    "0-d": ([np.array(5.0, np.float32)], 2.0),
    "NaN": ([np.array([1.0, np.nan])], 2.0),
}


@pytest.mark.parametrize("name", list(NORM_CASES))
def test_get_total_norm_then_clip_grads_with_norm_as_pytorch(name):
    arrays, order = NORM_CASES[name]
    theirs = [torch.tensor(a.copy()) for a in arrays]
    ours = [tg.tensor(a.copy()) for a in arrays]
    their_total = torch.nn.utils.get_total_norm(theirs, order)
    total = tg.nn.utils.get_total_norm(ours, order)
    assert_same(total, their_total, "total norm")
    for max_norm in (1.0, 1e6):
        their_params = [torch.zeros(a.shape, dtype=t.dtype, requires_grad=True)
                        for a, t in zip(arrays, theirs)]
        params = [tg.zeros(a.shape, dtype=t.dtype, requires_grad=True)
                  for a, t in zip(arrays, ours)]
        for p, q, a in zip(their_params, params, arrays):
            p.grad, q.grad = torch.tensor(a.copy()), tg.tensor(a.copy())
        assert torch.nn.utils.clip_grads_with_norm_(their_params, max_norm, their_total) is None
        assert tg.nn.utils.clip_grads_with_norm_(params, max_norm, total) is None
        for i, (p, q) in enumerate(zip(their_params, params)):
            assert_same(q.grad, p.grad, f"gradient {i}, max_norm {max_norm}")


def test_total_norm_errors_and_edges_as_pytorch():
    for m in (torch, tg):
        assert m.nn.utils.get_total_norm([]).item() == 0.0
        assert not m.nn.utils.get_total_norm(m.ones(2, requires_grad=True)).requires_grad
        with pytest.raises(RuntimeError, match="non-finite"):
            m.nn.utils.get_total_norm([m.tensor([np.inf])], error_if_nonfinite=True)
        with pytest.raises(RuntimeError):
            m.nn.utils.get_total_norm([m.tensor([3, 4])])
        with pytest.raises(TypeError):
            p = m.ones(2, requires_grad=True)
            p.grad = m.ones(2)
            m.nn.utils.clip_grads_with_norm_([p], 1.0, 5.0)
        assert m.nn.utils.clip_grads_with_norm_([m.ones(2, requires_grad=True)], 1.0,
                                                m.tensor(5.0)) is None


def test_reduce_op_names_as_pytorch():
    """build-nanogpt names ``dist.ReduceOp.AVG``; there is no group to reduce over here."""
    ours, theirs = tg.distributed.ReduceOp, torch.distributed.ReduceOp
    names = list(theirs.RedOpType.__members__)
    assert list(ours.RedOpType.__members__) == names
    for name in names:
        assert int(getattr(ours, name)) == int(getattr(theirs, name))
        assert getattr(ours, name) == getattr(ours.RedOpType, name)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        tg.distributed.all_reduce(tg.ones(1), op=tg.distributed.ReduceOp.AVG)


# ---- grouped-query attention (scaled_dot_product_attention's enable_gqa) ----------------------

GQA = {  # name: (query, key, value shapes, settings)
    "4 query heads, 2 key and value heads": ((2, 4, 3, 5), (2, 2, 3, 5), (2, 2, 3, 5), {}),
    "causal, one key and value head": ((1, 6, 4, 2), (1, 1, 4, 2), (1, 1, 4, 2),
                                       dict(is_causal=True)),
    "key 2 heads, value 1": ((1, 4, 3, 2), (1, 2, 3, 2), (1, 1, 3, 2), dict(scale=0.3)),
    "3-D, a boolean mask": ((4, 3, 2), (2, 5, 2), (2, 5, 3), dict(mask=(3, 5))),
    "same heads": ((1, 2, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2), {}),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(GQA))
def test_grouped_query_attention_as_pytorch(name, dtype):
    shapes = GQA[name][:3]
    settings = dict(GQA[name][3])
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    arrays[1] = np.asfortranarray(arrays[1])  # (a layout of its own)
    mask = settings.pop("mask", None)
    if mask is not None:
        mask = rng.random(mask) < 0.7
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    their_y = torch.nn.functional.scaled_dot_product_attention(
        *theirs, attn_mask=None if mask is None else torch.tensor(mask), enable_gqa=True,
        **settings)
    y = tg.nn.functional.scaled_dot_product_attention(
        *ours, attn_mask=mask, enable_gqa=True, **settings)
    rtol = 2e-5 if dtype == np.float32 else 1e-10
    assert_same(y, their_y, "output", rtol)
    weights = rng.standard_normal(y.shape).astype(dtype)
    (their_y * torch.tensor(weights)).sum().backward()
    (y * tg.tensor(weights)).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert_same(a.grad, b.grad, f"gradient of input {i}", rtol)


@pytest.mark.parametrize("shapes", [((1, 3, 2, 2), (1, 2, 2, 2)), ((2, 2), (2, 2))],
                         ids=["heads that do not divide", "2-D"])
def test_grouped_query_attention_refusals_as_pytorch(shapes):
    q, k = shapes
    kinds = []
    for m in (torch, tg):
        with pytest.raises((RuntimeError, IndexError)) as caught:
            m.nn.functional.scaled_dot_product_attention(m.ones(*q), m.ones(*k), m.ones(*k),
                                                         enable_gqa=True)
        kinds.append(caught.type)
    assert kinds[0] is kinds[1]


# ---- seeds and generators (build-nanogpt's torch.Generator(device=...) for sampling) -----------

def test_initial_seed_and_device_as_pytorch():
    for m in (torch, tg):
        assert m.manual_seed(3).initial_seed() == 3 and m.initial_seed() == 3
        draws = m.Generator(device="cpu").manual_seed(42)
        assert draws.initial_seed() == 42 and str(draws.device) == "cpu"
        m.rand(2, generator=draws)
        assert draws.initial_seed() == 42  # (drawing does not change it)
    fresh = tg.Generator()
    seed = fresh.initial_seed()  # unpredictable, but the one it draws from
    assert isinstance(seed, int)
    assert np.array_equal(tg.rand(3, generator=fresh).numpy(),
                          tg.rand(3, generator=tg.Generator().manual_seed(seed)).numpy())
    drawn = tg.Generator()
    first = tg.rand(3, generator=drawn).numpy()  # seeded at its first draw: told afterwards
    assert np.array_equal(first, tg.rand(3, generator=tg.Generator().manual_seed(
        drawn.initial_seed())).numpy())


def test_a_module_to_bfloat16_says_numpy_has_none():
    with pytest.raises(TypeError, match="NumPy has no bfloat16"):
        tg.nn.Linear(2, 2).to(tg.bfloat16)
    with pytest.raises(TypeError, match="NumPy has no bfloat16"):
        tg.nn.Linear(2, 2).to("cpu", tg.bfloat16)
