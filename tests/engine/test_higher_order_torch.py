"""Gradients of gradients held against PyTorch: for each op that has one, the gradient taken
with ``create_graph=True``, and the gradient of a penalty made of it; the second-order
functions of ``autograd.functional`` and ``func``; a user's ``autograd.Function``; and two
programs that need them, a WGAN-GP critic's gradient penalty and a MAML step. Skipped
without torch."""

from __future__ import annotations

import numpy as np
import pytest
from higher_order_cases import CASES, penalty, values, weights
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import as_laid_out, broadcastable_shapes, laid_out, shapes
from torch_compare import assert_same

import tensorgrad

torch = pytest.importorskip("torch")


def _second_order(lib, case, dtype):
    """The case's gradient (recorded) and the gradient of the penalty made of it."""
    x = lib.tensor(values().astype(dtype), requires_grad=True)
    y = CASES[case](lib, x)
    w = lib.tensor(weights(tuple(y.shape)).astype(dtype))
    (g,) = lib.autograd.grad((y * w).sum(), x, create_graph=True)
    if not g.requires_grad:  # (the gradient is a constant: its gradient is 0)
        return g, lib.zeros_like(x)
    (h,) = lib.autograd.grad(penalty(g), x, allow_unused=True)
    return g, lib.zeros_like(x) if h is None else h


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(CASES))
def test_the_gradient_of_a_gradient_is_torchs(torch_float64_default, case, dtype):
    if case == "cdist":
        pytest.skip("PyTorch has no gradient of cdist's gradient")
    if case == "det and inverse" and dtype == np.float32:
        pytest.skip("PyTorch's det backward mixes float32 with its default float64 here")
    ours, theirs = _second_order(tensorgrad, case, dtype), _second_order(torch, case, dtype)
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    if case in ("lgamma and digamma", "polygamma") and dtype == np.float64:
        rtol = 1e-7  # PyTorch's trigamma is off by 1e-10 here (ours agrees with mpmath)
    assert_same(ours[0], theirs[0], f"{case}: the gradient", rtol)
    assert_same(ours[1], theirs[1], f"{case}: its gradient", rtol)


def test_a_gradient_that_reads_its_input_through_a_mask_stays_in_its_graph_as_torchs():
    for lib in (torch, tensorgrad):  # relu's: in the graph, with a gradient of 0
        x = lib.tensor([-1.0, 2.0], requires_grad=True)
        (g,) = lib.autograd.grad(x.relu().sum(), x, create_graph=True)
        assert g.requires_grad
        (h,) = lib.autograd.grad(g.sum(), x)
        assert h.tolist() == [0.0, 0.0]
        (g,) = lib.autograd.grad((x + 1).sum(), x, create_graph=True)  # a constant: not
        assert not g.requires_grad


# ---- autograd.functional and func ------------------------------------------------------------


def _quartic(x, y):
    return (x.exp() * y).sum() + (x @ y) ** 2 + (x[0] * y[1]).sin()


def _pair(x, y):
    return x * y.sin(), (x ** 2).sum()


FUNCTIONAL = {
    "hessian": lambda AF, x, y, v: AF.hessian(lambda a: (a ** 3).sum() * a[0], x),
    "hessian of two": lambda AF, x, y, v: AF.hessian(_quartic, (x, y)),
    "vhp": lambda AF, x, y, v: AF.vhp(_quartic, (x, y), (v, v)),
    "hvp": lambda AF, x, y, v: AF.hvp(lambda a: (a ** 4).sum(), x, v),
    "jvp": lambda AF, x, y, v: AF.jvp(_pair, (x, y), (v, v)),
    "jacobian": lambda AF, x, y, v: AF.jacobian(_pair, (x, y), create_graph=True),
    "vjp": lambda AF, x, y, v: AF.vjp(lambda a: a.tanh() * a, x, v, create_graph=True),
}


def _flat(result):
    if isinstance(result, (tuple, list)):
        return [t for part in result for t in _flat(part)]
    return [result]


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_autograd_functional_of_second_order_as_torchs(torch_float64_default, name):
    arrays = [np.array([0.3, -1.2, 0.7]), np.array([1.5, 0.2, -0.4]), np.array([0.5, -1.0, 2.0])]
    results = []
    for lib in (tensorgrad, torch):
        x, y, v = (lib.tensor(a) for a in arrays)
        results.append(_flat(FUNCTIONAL[name](lib.autograd.functional, x, y, v)))
    assert len(results[0]) == len(results[1])
    for i, (ours, theirs) in enumerate(zip(*results)):
        assert_same(ours, theirs, f"{name} [{i}]")


def test_create_graph_keeps_the_callers_graph_as_torchs(torch_float64_default):
    grads = []
    for lib in (tensorgrad, torch):
        x = lib.tensor([0.3, -1.2, 0.7], requires_grad=True)
        lib.autograd.functional.hessian(lambda a: (a ** 4).sum(), x, create_graph=True
                                        ).sum().backward()
        grads.append(x.grad)
    assert_same(*grads, "the gradient through the Hessian")


def test_func_transforms_nest_as_torchs(torch_float64_default):
    def nested(lib):
        grad = lib.func.grad
        x = lib.tensor([0.3, -1.2, 0.7])
        return [grad(grad(lambda a: (a ** 4).sin()))(lib.tensor(0.7)),
                grad(lambda a: grad(lambda b: (b ** 3 * b.sin()).sum())(a).sum())(x),
                lib.func.vmap(grad(grad(lambda a: a ** 3 * a.cos())))(x)]

    results = [nested(tensorgrad), nested(torch)]
    for ours, theirs in zip(*results):
        assert_same(ours, theirs, "nested grad")


def _functions(lib):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x ** 3 * w

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            return grad * 3 * x ** 2 * w, grad * x ** 3

    return Cube


def test_a_users_function_on_tensors_has_a_gradient_of_its_gradient_as_torchs(
        torch_float64_default):
    results = []
    for lib in (tensorgrad, torch):
        x = lib.tensor([0.5, -1.0], requires_grad=True)
        w = lib.tensor([2.0, 3.0], requires_grad=True)
        (g,) = lib.autograd.grad(_functions(lib).apply(x, w).sum(), x, create_graph=True)
        (g ** 2).sum().backward()
        results.append([g, x.grad, w.grad])
    for ours, theirs in zip(*results):
        assert_same(ours, theirs, "Cube")


# ---- programs that need them ---------------------------------------------------------------


def _critic(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.LeakyReLU(0.2),
                         nn.Conv2d(4, 4, 3, stride=2), nn.InstanceNorm2d(4, affine=True),
                         nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(16, 1))


def _copy_weights(source, target, lib):
    with lib.no_grad():
        for (_, theirs), (_, ours) in zip(source.named_parameters(), target.named_parameters()):
            ours.copy_(lib.tensor(theirs.detach().numpy()))


def test_a_wgan_gp_critic_trains_as_torchs(torch_float64_default):
    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((2, 5, 2, 6, 6))
    mixes = rng.uniform(size=(3, 5, 1, 1, 1))
    torch.manual_seed(0)
    theirs = _critic(torch)
    ours = _critic(tensorgrad)
    _copy_weights(theirs, ours, tensorgrad)
    losses = []
    for lib, critic in ((tensorgrad, ours), (torch, theirs)):
        optimizer = lib.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
        run = []
        for mix in mixes:
            a, b = lib.tensor(real), lib.tensor(fake)
            between = (lib.tensor(mix) * a + (1 - lib.tensor(mix)) * b).requires_grad_(True)
            (g,) = lib.autograd.grad(critic(between).sum(), between, create_graph=True)
            gp = ((g.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
            loss = critic(b).mean() - critic(a).mean() + 10 * gp
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-9)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_same(p, q, name, rtol=1e-7)  # (Adam divides by the gradients' size: their
        # last bits, summed in another order, show)


def _learner(lib, params, x):
    F = lib.nn.functional
    h = F.conv2d(x, params["conv"], padding=1)  # (no bias: batch norm takes it out)
    h = F.batch_norm(h, None, None, params["bn_weight"], params["bn_bias"], training=True)
    h = F.max_pool2d(F.relu(h), 2)
    return F.linear(h.flatten(1), params["head"], params["head_bias"])


def test_a_maml_step_through_the_inner_update_matches_torchs(torch_float64_default):
    rng = np.random.default_rng(1)
    arrays = {"conv": rng.standard_normal((3, 1, 3, 3)) * 0.3,
              "bn_weight": np.ones(3), "bn_bias": np.zeros(3),
              "head": rng.standard_normal((2, 18)) * 0.3, "head_bias": np.zeros(2)}
    support, query = rng.standard_normal((2, 4, 1, 4, 6))
    labels = np.array([0, 1, 1, 0])
    found = []
    for lib in (tensorgrad, torch):
        params = {k: lib.tensor(v, requires_grad=True) for k, v in arrays.items()}
        outer = lib.optim.Adam(params.values(), lr=1e-2)
        for _ in range(2):
            fast = dict(params)
            for _ in range(2):  # the inner loop, differentiated through
                loss = lib.nn.functional.cross_entropy(
                    _learner(lib, fast, lib.tensor(support)), lib.tensor(labels))
                grads = lib.autograd.grad(loss, list(fast.values()), create_graph=True)
                fast = {k: w - 0.4 * g for (k, w), g in zip(fast.items(), grads)}
            meta = lib.nn.functional.cross_entropy(_learner(lib, fast, lib.tensor(query)),
                                                   lib.tensor(labels))
            outer.zero_grad()
            meta.backward()
            outer.step()
        found.append(params)
    for name in arrays:
        assert_same(found[0][name], found[1][name], name)


# ---- every layout, both dtypes, 0-d and empty shapes, NaN and the infinities -----------------

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -2.0, 0.5, 2.0, 0.3, -1.7]

DRAWN = {  # op: (tensorgrad's, PyTorch's), each of one tensor (``lib`` is the library)
    "tanh": lambda lib, x: x.tanh(), "sigmoid": lambda lib, x: x.sigmoid(),
    "exp": lambda lib, x: x.exp(), "log": lambda lib, x: x.log(), "sqrt": lambda lib, x: x.sqrt(),
    "sin": lambda lib, x: x.sin(), "erf": lambda lib, x: x.erf(), "abs": lambda lib, x: x.abs(),
    "relu": lambda lib, x: x.relu(), "pow 3": lambda lib, x: x ** 3,
    "pow 0.5": lambda lib, x: x ** 0.5, "mul": lambda lib, x: x * x.flip(-1) if x.ndim else x * x,
    "div": lambda lib, x: x / (x * x + 1), "sum": lambda lib, x: (x ** 2).sum(),
    "mean": lambda lib, x: (x ** 3).mean(), "amax": lambda lib, x: x.amax() if x.numel() else x,
    "norm": lambda lib, x: x.norm(), "logsumexp": lambda lib, x: x.logsumexp(-1) if x.ndim
    else x.exp(),
    "softmax": lambda lib, x: lib.nn.functional.softmax(x, -1) if x.ndim else x.sigmoid(),
    "gelu": lambda lib, x: lib.nn.functional.gelu(x),
}


@pytest.mark.parametrize("name", list(DRAWN))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_gradients_of_gradients_at_any_values_and_layouts_follow_torch(name, data):
    shape = data.draw(shapes(min_dims=0, max_dims=2, max_side=3, size_zero=True), label="shape")
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    special = data.draw(st.booleans(), label="special values")
    x = data.draw(laid_out(shape, dtype, layout=True) if not special else
                  st.just(None), label="x")
    if x is None:
        values = data.draw(hnp.arrays(dtype, shape, elements=st.sampled_from(SPECIAL)))
        x = as_laid_out(values)
    found = []
    for lib in (tensorgrad, torch):
        leaf = lib.tensor(x.leaf, requires_grad=True)
        view = x.layout.view(leaf) if lib is tensorgrad else _torch_view(x, leaf)
        y = DRAWN[name](lib, view)
        w = lib.tensor(np.linspace(-1, 1, max(y.numel(), 1))[:y.numel()].reshape(
            tuple(y.shape)).astype(dtype))
        (g,) = lib.autograd.grad((y * w).sum(), leaf, create_graph=True)
        second = lib.autograd.grad((g * g).sum(), leaf, allow_unused=True)[0] \
            if g.requires_grad else None
        if second is None:
            second = lib.zeros_like(leaf)
        # (PyTorch's zeros may be a ZeroTensor, which numpy() gives only with force)
        found.append(tuple(t.detach().numpy(force=True) if lib is torch else t.detach().numpy()
                           for t in (g, second)))
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    assert_same(found[0][0], found[1][0], f"{name}: the gradient", rtol)
    assert_same(found[0][1], found[1][1], f"{name}: its gradient", rtol)


def _torch_view(x, leaf):
    """The drawn layout's view of a torch leaf: PyTorch has no negative steps, so the
    reversed dimensions are flipped, then sliced."""
    layout = x.layout
    view = leaf.permute(*layout.permutation) if leaf.ndim else leaf
    reversed_dims = [d for d, step in enumerate(layout.steps) if step < 0]
    if reversed_dims:
        view = view.flip(reversed_dims)
    return view[tuple(slice(None) if abs(step) == 1 else
                      slice(1 if step > 0 else 0, None, abs(step)) for step in layout.steps)]


# Ops of two tensors that broadcast together, away from their singular points (0 ** b,
# atan2(0, 0)), where PyTorch's second derivative is NaN by the way its backward masks and
# this one's 0 (docs/engine.md, "Gradients of gradients")
DRAWN_PAIRS = {
    "+": lambda lib, a, b: (a + b) ** 2, "-": lambda lib, a, b: (a - b) ** 3,
    "*": lambda lib, a, b: a * b * a, "/": lambda lib, a, b: a / (b * b + 1),
    "**": lambda lib, a, b: (a.abs() + 0.5) ** b,
    "maximum": lambda lib, a, b: lib.maximum(a, b) ** 2,
    "atan2": lambda lib, a, b: lib.atan2(a, b.abs() + 0.5),
    "where": lambda lib, a, b: lib.where(a > b, a * b, b ** 2),
}


@pytest.mark.parametrize("name", list(DRAWN_PAIRS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_gradients_of_gradients_of_two_broadcast_tensors_follow_torch(name, data):
    a_shape, b_shape = data.draw(broadcastable_shapes(2, max_dims=2, size_zero=True),
                                 label="shapes")
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    a = data.draw(laid_out(a_shape, dtype), label="a")
    b = data.draw(laid_out(b_shape, dtype), label="b")
    found = []
    for lib in (tensorgrad, torch):
        leaves = [lib.tensor(x.leaf, requires_grad=True) for x in (a, b)]
        views = [x.layout.view(leaf) if lib is tensorgrad else _torch_view(x, leaf)
                 for x, leaf in zip((a, b), leaves)]
        y = DRAWN_PAIRS[name](lib, *views)
        w = lib.tensor(np.linspace(-1, 1, max(y.numel(), 1))[:y.numel()].reshape(
            tuple(y.shape)).astype(dtype))
        grads = lib.autograd.grad((y * w).sum(), leaves, create_graph=True)
        penalty_of = sum((g * g.sin()).sum() for g in grads if g.requires_grad)
        seconds = lib.autograd.grad(penalty_of, leaves, allow_unused=True) \
            if isinstance(penalty_of, (tensorgrad.Tensor, torch.Tensor)) and \
            penalty_of.requires_grad else (None, None)
        found.append([t.detach().numpy(force=True) if lib is torch else t.detach().numpy()
                      for t in (*grads, *(lib.zeros_like(leaf) if s is None else s
                                          for s, leaf in zip(seconds, leaves)))])
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    for i, (ours, theirs) in enumerate(zip(*found)):
        assert_same(ours, theirs, f"{name} [{i}]", rtol)
