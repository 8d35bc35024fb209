"""``torch.autograd``'s and ``torch.func``'s further names held against torch:
``autograd.functional.vjp`` and ``jacobian``, anomaly mode, ``Variable``, and
``func.grad``, ``grad_and_value``, ``vmap`` and ``functional_call`` (per-sample gradients,
as PyTorch's tutorials compute them). Skipped without torch."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import assert_same

import tensorgrad

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64]


def _functions(lib):
    return {
        "square": (lambda x: x ** 2, 1),
        "two inputs": (lambda x, y: (x * y.sum()).exp(), 2),
        "two outputs": (lambda x: (x.sin(), (x * x).sum()), 1),
        "matrix": (lambda x, y: x @ y, 2),
        "unused input": (lambda x, y: x * 3, 2),
    }


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(_functions(tensorgrad)))
def test_jacobian_and_vjp_match_torch(case, dtype):
    rng = np.random.default_rng(1)
    shapes = {"matrix": [(2, 3), (3, 2)]}.get(case, [(3,), (3,)])
    values = [rng.standard_normal(s).astype(dtype) for s in shapes]
    results = []
    for lib in (tensorgrad, torch):
        func, count = _functions(lib)[case]
        inputs = tuple(lib.tensor(v) for v in values[:count])
        args = inputs if count > 1 else inputs[0]
        jac = lib.autograd.functional.jacobian(func, args)
        out = func(*inputs)
        outs = out if isinstance(out, tuple) else (out,)
        vectors = tuple(lib.ones_like(o) for o in outs)
        value, product = lib.autograd.functional.vjp(
            func, args, vectors if isinstance(out, tuple) else vectors[0])
        results.append((jac, value, product))
    flat = [[], []]
    for k, (jac, value, product) in enumerate(results):
        for item in (jac, value, product):
            stack = [item]
            while stack:
                x = stack.pop(0)
                if isinstance(x, tuple):
                    stack[:0] = list(x)
                else:
                    flat[k].append(x)
    assert len(flat[0]) == len(flat[1])
    for ours, theirs in zip(*flat):
        assert_same(ours, theirs, case, 1e-5 if dtype == np.float32 else 1e-12)


def test_strict_mode_refuses_as_torch():
    x = tensorgrad.tensor([1.0, 2.0])
    for lib in (torch, tensorgrad):
        y = lib.tensor([1.0, 2.0])
        with pytest.raises(RuntimeError, match="independent of input 1"):
            lib.autograd.functional.jacobian(lambda a, b: a * 2, (y, y), strict=True)
        with pytest.raises(RuntimeError, match="single element"):
            lib.autograd.functional.vjp(lambda a: a * 2, y)
    assert not x.requires_grad  # (the caller's tensors are left as they are)


def test_anomaly_mode_names_the_op_that_gave_nan():
    x = tensorgrad.tensor([-1.0, 4.0], requires_grad=True)
    x.sqrt().sum().backward()  # NaN in the gradient, silently, as PyTorch outside the mode
    assert np.isnan(x.grad.numpy()[0])
    assert not tensorgrad.is_anomaly_enabled()
    with tensorgrad.autograd.detect_anomaly():
        assert tensorgrad.is_anomaly_enabled()
        with pytest.raises(RuntimeError, match="returned nan values in its 0th output"):
            x.sqrt().sum().backward()
    assert not tensorgrad.is_anomaly_enabled()
    with tensorgrad.autograd.set_detect_anomaly(True), pytest.raises(RuntimeError, match="Sqrt"):
        x.sqrt().sum().backward()
    tensorgrad.autograd.set_detect_anomaly(True)  # as a call: on until turned off
    try:
        (x * 2).sum().backward()  # no NaN: nothing to say
        with pytest.raises(RuntimeError):
            x.sqrt().sum().backward()
    finally:
        tensorgrad.autograd.set_detect_anomaly(False)

    @tensorgrad.autograd.detect_anomaly()
    def decorated():
        x.sqrt().sum().backward()
    with pytest.raises(RuntimeError):
        decorated()
    with torch.autograd.detect_anomaly():  # (PyTorch's says the same)
        y = torch.tensor([-1.0, 4.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="returned nan values in its 0th output"):
            y.sqrt().sum().backward()


def test_variable_is_a_tensor():
    for lib in (tensorgrad, torch):
        v = lib.autograd.Variable(lib.tensor([1.0, 2.0]), requires_grad=True)
        assert isinstance(v, lib.Tensor) and v.requires_grad and v.is_leaf
        (v * v).sum().backward()
        assert v.grad.tolist() == [2.0, 4.0]
        assert not lib.autograd.Variable(lib.tensor([1.0])).requires_grad


def _per_sample(lib, dtype):
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
    model = model.to(getattr(lib, np.dtype(dtype).name))
    weights = np.random.default_rng(2).standard_normal((4 * 3 + 4 + 2 * 4 + 2,)).astype(dtype)
    with lib.no_grad():
        at = 0
        for p in model.parameters():
            p.copy_(lib.tensor(weights[at:at + p.numel()].reshape(tuple(p.shape))))
            at += p.numel()
    x = lib.tensor(np.linspace(-1, 1, 15).reshape(5, 3).astype(dtype))
    y = lib.tensor(np.array([0, 1, 1, 0, 1]))
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, xi, yi):
        logits = lib.func.functional_call(model, p, (xi.unsqueeze(0),))
        return lib.nn.functional.cross_entropy(logits, yi.unsqueeze(0))

    grads = lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    value_grads, value = lib.func.grad_and_value(loss)(params, x[0], y[0])
    return grads, value_grads, value, [p.detach().clone() for p in model.parameters()], \
        model(x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_per_sample_gradients_by_vmap_grad_and_functional_call_match_torch(dtype):
    ours, theirs = _per_sample(tensorgrad, dtype), _per_sample(torch, dtype)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert list(ours[0]) == list(theirs[0])
    for name in ours[0]:
        assert_same(ours[0][name], theirs[0][name], name, rtol)
        assert_same(ours[1][name], theirs[1][name], f"{name}: grad_and_value", rtol)
    assert_same(ours[2], theirs[2], "value", rtol)
    for p, q in zip(ours[3], theirs[3]):  # the model's own parameters as they were
        assert_same(p, q, "parameters", rtol)
    assert_same(ours[4], theirs[4], "the model after the calls", rtol)


def test_func_transforms_follow_torch_on_their_options():
    for lib in (tensorgrad, torch):
        a, b = lib.tensor([1.0, 2.0]), lib.tensor([3.0, 5.0])
        ga, gb = lib.func.grad(lambda u, v: (u * v).sum(), argnums=(0, 1))(a, b)
        assert ga.tolist() == [3.0, 5.0] and gb.tolist() == [1.0, 2.0]
        g, aux = lib.func.grad(lambda u: ((u ** 2).sum(), u.max()), has_aux=True)(a)
        assert g.tolist() == [2.0, 4.0] and aux.item() == 2.0
        out = lib.func.vmap(lambda u, v: (u + v, u * v), in_dims=(0, None), out_dims=(0, 1))(
            lib.ones(4, 2), b)
        assert tuple(out[0].shape) == (4, 2) and tuple(out[1].shape) == (2, 4)
        with pytest.raises(RuntimeError):
            lib.func.grad(lambda u: u * 2)(a)
        with pytest.raises(ValueError):
            lib.func.vmap(lambda u, v: u + v)(lib.ones(3, 2), lib.ones(4, 2))
        model = lib.nn.Linear(2, 1)
        with pytest.raises(RuntimeError, match="Missing key\\(s\\): 'bias'"):
            lib.func.functional_call(model, {"weight": lib.ones(1, 2)}, (a,), strict=True)
