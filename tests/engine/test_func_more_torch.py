"""torch.func's jacrev, jacfwd, hessian, vjp, jvp, linearize and stack_module_state held
against PyTorch's: values, shapes, dtypes and result structures (argnums tuples, has_aux, dict
and tuple inputs and outputs), their compositions with grad and vmap, and per-sample
gradients and an ensemble as in PyTorch's tutorials."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from torch_compare import assert_same

import tensorgrad as tg

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(37)
X, Y = RNG.standard_normal(3), RNG.standard_normal((2, 3))


def _same_tree(ours, theirs, what):
    """The same structure (dicts, tuples, lists) with the same tensors at its leaves."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), what
        for k in theirs:
            _same_tree(ours[k], theirs[k], f"{what}[{k!r}]")
    elif isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), what
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _same_tree(a, b, f"{what}[{i}]")
    elif isinstance(theirs, torch.Tensor):
        assert isinstance(ours, tg.Tensor), what
        assert_same(ours, theirs, what, 1e-10 if ours.dtype == np.float64 else 1e-5)
    else:
        assert ours == theirs, what


def _vjp_used(m, f, *primals, v=None, has_aux=False):
    got = m.func.vjp(f, *primals, has_aux=has_aux)
    out, vjp_fn = got[0], got[1]
    cotangent = v(m) if v else m.ones_like(out)
    return (out, vjp_fn(cotangent), *got[2:])


# name -> (the arrays, a function of one library's module and those tensors)
CASES = {
    "jacrev": ([X], lambda m, x: m.func.jacrev(m.sin)(x)),
    "jacfwd": ([X], lambda m, x: m.func.jacfwd(m.sin)(x)),
    "jacrev of a scalar": ([X], lambda m, x: m.func.jacrev(lambda u: (u ** 3).sum())(x)),
    "jacrev at 0-d": ([X], lambda m, x: m.func.jacrev(lambda u: u * m.arange(3.0))(x.sum())),
    "jacrev of a matrix": ([Y], lambda m, y: m.func.jacrev(lambda u: u @ u.T)(y)),
    "jacrev, argnums tuple": ([X, Y], lambda m, x, y: m.func.jacrev(
        lambda u, v: (u * v).sum(-1), argnums=(0, 1))(x, y)),
    "jacfwd, argnums 1": ([X, Y], lambda m, x, y: m.func.jacfwd(lambda u, v: u * v,
                                                                argnums=1)(x, y)),
    "jacrev, a tuple out": ([X], lambda m, x: m.func.jacrev(lambda u: (u.sin(), u.sum()))(x)),
    "jacfwd, a tuple out": ([X], lambda m, x: m.func.jacfwd(lambda u: (u.sin(), u.sum()))(x)),
    "jacfwd, a tuple out and argnums": ([X, Y], lambda m, x, y: m.func.jacfwd(
        lambda u, v: (u.sin(), (u * v).sum()), argnums=(0, 1))(x, y)),
    "jacrev, a dict in": ([X, Y], lambda m, x, y: m.func.jacrev(
        lambda d: d["a"].sum() * d["b"])({"a": x, "b": y})),
    "jacrev, a dict out": ([X], lambda m, x: m.func.jacrev(
        lambda u: {"s": u.sin(), "c": u.cos()})(x)),
    "jacrev has_aux": ([X], lambda m, x: m.func.jacrev(lambda u: (u.sin(), u.cos()),
                                                       has_aux=True)(x)),
    "jacfwd has_aux, a dict aux": ([X], lambda m, x: m.func.jacfwd(
        lambda u: (u.sin(), {"c": u.cos()}), has_aux=True)(x)),
    "jacrev, independent": ([X], lambda m, x: m.func.jacrev(lambda u: m.ones(2, dtype=u.dtype))(x)),
    "jacrev, empty": ([X], lambda m, x: m.func.jacrev(lambda u: u[:0])(x)),
    "jacrev of jacrev": ([X], lambda m, x: m.func.jacrev(m.func.jacrev(lambda u: u.sin()))(x)),
    "hessian": ([X], lambda m, x: m.func.hessian(lambda u: (u ** 3).sum() * u[0])(x)),
    "hessian, argnums tuple": ([X, Y], lambda m, x, y: m.func.hessian(
        lambda u, v: (u ** 2 * v).sum(), argnums=(0, 1))(x, y)),
    "hessian of a matrix": ([Y], lambda m, y: m.func.hessian(lambda u: (u.sin() ** 2).sum())(y)),
    "vmap of jacrev": ([Y], lambda m, y: m.func.vmap(m.func.jacrev(lambda u: u.sin() * u[0]))(y)),
    "grad of jacrev": ([X], lambda m, x: m.func.grad(
        lambda u: m.func.jacrev(lambda w: w.sin() * w.sum())(u).sum())(x)),
    "jacrev of linalg.inv": ([Y[:, :2]], lambda m, y: m.func.jacrev(m.linalg.inv)(y)),
    "hessian of logdet": ([Y[:, :2]], lambda m, y: m.func.hessian(
        lambda u: m.logdet(u @ u.mT + m.eye(2, dtype=u.dtype)))(y)),
    "jacfwd of linalg.qr": ([Y.T], lambda m, y: m.func.jacfwd(lambda u: m.linalg.qr(u).R)(y)),
    "vjp": ([X], lambda m, x: _vjp_used(m, m.sin, x)),
    "vjp of two": ([X, Y], lambda m, x, y: _vjp_used(m, lambda u, v: u * v, x, y)),
    "vjp, a tuple out": ([X], lambda m, x: _vjp_used(
        m, lambda u: (u.sin(), u.sum()), x, v=lambda m: (m.ones(3), m.tensor(2.0)))),
    "vjp has_aux": ([X], lambda m, x: _vjp_used(m, lambda u: (u.sin(), u.cos()), x,
                                                has_aux=True)),
    "vjp, a dict in": ([X, Y], lambda m, x, y: _vjp_used(m, lambda d: d["a"] * d["b"],
                                                         {"a": x, "b": y})),
    "vmap of vjp": ([Y], lambda m, y: m.func.vmap(lambda u: m.func.vjp(m.exp, u)[1](u)[0])(y)),
    "jvp": ([X], lambda m, x: m.func.jvp(m.sin, (x,), (m.ones(3),))),
    "jvp of two": ([X, Y], lambda m, x, y: m.func.jvp(lambda u, v: u * v, (x, y), (x, y))),
    "jvp, a tuple out": ([X], lambda m, x: m.func.jvp(lambda u: (u.sin(), u.sum()), (x,), (x,))),
    "jvp has_aux": ([X], lambda m, x: m.func.jvp(lambda u: (u.exp(), u.cos()), (x,), (x,),
                                                 has_aux=True)),
    "jvp, independent": ([X], lambda m, x: m.func.jvp(lambda u: m.ones(2, dtype=u.dtype), (x,),
                                                           (x,))),
    "grad of jvp": ([X], lambda m, x: m.func.grad(
        lambda u: m.func.jvp(lambda w: (w ** 3).sum(), (u,), (m.ones(3, dtype=u.dtype),))[1]
    )(x)),
    "linearize": ([X], lambda m, x: (lambda out, f: (out, f(x), f(2 * x)))(
        *m.func.linearize(lambda u: u.sin() * u.sum(), x))),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(CASES))
def test_results_are_pytorchs(name, dtype):
    arrays, call = CASES[name]
    ours = call(tg, *[tg.tensor(a.astype(dtype)) for a in arrays])
    theirs = call(torch, *[torch.tensor(a.astype(dtype)) for a in arrays])
    _same_tree(ours, theirs, name)


ERRORS = {
    "jvp, primals not a tuple": lambda m: m.func.jvp(m.sin, m.ones(2), (m.ones(2),)),
    "jvp, tangents of another structure": lambda m: m.func.jvp(m.sin, (m.ones(2),), m.ones(2)),
    "jvp, tangents of another shape": lambda m: m.func.jvp(m.sin, (m.ones(2),), (m.ones(3),)),
    "vjp, a cotangent of another shape": lambda m: m.func.vjp(m.sin, m.ones(2))[1](m.ones(3)),
    "jacrev, has_aux without a pair": lambda m: m.func.jacrev(m.sin, has_aux=True)(m.ones(2)),
    "stack_module_state of none": lambda m: m.func.stack_module_state([]),
    "stack_module_state of two classes": lambda m: m.func.stack_module_state(
        [m.nn.Linear(2, 2), m.nn.Linear(2, 2).eval()]),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_are_pytorchs(name):
    kinds = []
    for m in (tg, torch):
        with pytest.raises(Exception) as caught:
            ERRORS[name](m)
        kinds.append(type(caught.value).__name__)
    assert kinds[0] == kinds[1]


def _mlp(m):
    nn, F = m.nn, m.nn.functional

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.norm, self.fc2 = nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 3)

        def forward(self, x):
            return self.fc2(F.relu(self.norm(self.fc1(x))))
    return MLP


def _models(m, count):
    """``count`` MLPs with the same weights and buffers in both libraries, in eval mode."""
    mlp = _mlp(m)
    models = [mlp().double().eval() for _ in range(count)]
    for i, model in enumerate(models):
        state = model.state_dict()
        for j, (name, value) in enumerate(state.items()):
            if value.dtype == m.float64:
                rng = np.random.default_rng(10 * i + j)
                fresh = rng.standard_normal(tuple(value.shape))
                if "running_var" in name:
                    fresh = np.abs(fresh) + 0.5
                state[name] = m.tensor(fresh)
        model.load_state_dict(state)
    return models


def _per_sample_gradients(m):
    """PyTorch's per-sample-gradients tutorial: vmap over grad of a functional_call."""
    F = m.nn.functional
    model = _models(m, 1)[0]
    rng = np.random.default_rng(3)
    data, targets = m.tensor(rng.standard_normal((5, 4))), m.tensor([0, 2, 1, 1, 0])
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def compute_loss(params, buffers, sample, target):
        predictions = m.func.functional_call(model, (params, buffers), (sample.unsqueeze(0),))
        return F.cross_entropy(predictions, target.unsqueeze(0))

    per_sample = m.func.vmap(m.func.grad(compute_loss), in_dims=(None, None, 0, 0))(
        params, buffers, data, targets)
    one_by_one = {name: m.stack([m.func.grad(compute_loss)(params, buffers, x, t)[name]
                                 for x, t in zip(data, targets)]) for name in params}
    return per_sample, one_by_one


def test_per_sample_gradients_are_pytorchs():
    ours, theirs = _per_sample_gradients(tg), _per_sample_gradients(torch)
    _same_tree(ours, theirs, "per-sample gradients")
    for name, g in ours[0].items():
        assert_same(g, ours[1][name], f"{name}: vmap against a loop")


def _ensemble(m):
    """PyTorch's ensembling tutorial: stack_module_state, then vmap over functional_call
    (the base model a copy: tensorgrad has no 'meta' device), and the gradients of the
    stacked parameters."""
    models = _models(m, 3)
    params, buffers = m.func.stack_module_state(models)
    base = copy.deepcopy(models[0])

    def fmodel(params, buffers, x):
        return m.func.functional_call(base, (params, buffers), (x,))

    x = m.tensor(np.random.default_rng(4).standard_normal((5, 4)))
    same_batch = m.func.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x)
    own_batches = m.func.vmap(fmodel)(params, buffers, x.expand(3, 5, 4) * m.arange(1.0, 4.0)
                                      .reshape(3, 1, 1))
    (same_batch.square().sum() + own_batches.sum()).backward()
    state = {name: (value.requires_grad, value.is_leaf) for name, value in params.items()}
    grads = {name: value.grad for name, value in params.items()}
    looped = m.stack([model(x) for model in models])
    return same_batch, own_batches, looped, buffers, state, grads


def test_an_ensemble_is_pytorchs():
    ours, theirs = _ensemble(tg), _ensemble(torch)
    _same_tree(ours, theirs, "ensemble")
    assert_same(ours[0], ours[2], "vmap against a loop")
    assert set(ours[3]) == {"norm.running_mean", "norm.running_var", "norm.num_batches_tracked"}
    assert ours[3]["norm.running_mean"].shape == (3, 8)


def _batch_norm_replaced(m):
    model = _models(m, 1)[0]
    replaced = m.func.replace_all_batch_norm_modules_(model)
    x = m.tensor(np.random.default_rng(5).standard_normal((5, 4)))
    return (replaced is model, model.norm.track_running_stats, list(model.state_dict()),
            m.func.vmap(model)(m.stack([x, 2 * x + 1])))


def test_replace_all_batch_norm_modules_is_pytorchs():
    _same_tree(_batch_norm_replaced(tg), _batch_norm_replaced(torch), "batch norm replaced")


def _misuses(lib):
    x = lib.ones(2)
    return {
        "grad of a number": lambda: lib.func.grad(lambda u: 3)(x),
        "grad of a vector": lambda: lib.func.grad(lambda u: u)(x),
        "jacrev of a number": lambda: lib.func.jacrev(lambda u: 3)(x),
        "vjp of a string beside a tensor": lambda: lib.func.vjp(lambda u: (u, "a"), x),
        "jvp of a number": lambda: lib.func.jvp(lambda u: 3, (x,), (x,)),
        "hessian of a number": lambda: lib.func.hessian(lambda u: 3)(x),
        "jacrev at a number": lambda: lib.func.jacrev(lambda u: u)(3.0),
        "vjp at a number": lambda: lib.func.vjp(lambda u: u, 3.0),
        "jacrev at a list with a number": lambda: lib.func.jacrev(lambda u: u[0])([x, 2.0]),
    }


@pytest.mark.parametrize("case", list(_misuses(tg)))
def test_misuses_raise_torchs_errors(case):
    found = []
    for lib in (tg, torch):
        with pytest.raises(Exception) as caught:
            _misuses(lib)[case]()
        found.append((type(caught.value), str(caught.value)))
    assert found[0] == found[1]
