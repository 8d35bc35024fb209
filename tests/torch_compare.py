"""One comparison of a tensorgrad result with PyTorch's, for the tests held against torch."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from reference import upstream_weights
from strategies import LaidOut, arrange_upstream, as_laid_out

from tensorgrad import Tensor

# the tolerance of a comparison with PyTorch by dtype: float32's rounding, summed in another
# order, and float64's
RTOL = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-10}


def assert_same(ours: Any, theirs: Any, what: str, rtol: float = 1e-10) -> None:
    """Same dtype, shape and values: integers and booleans exactly, floats to ``rtol`` (and
    an absolute ``rtol`` times the largest finite value), NaN where NaN, infinities exactly.
    ``ours`` a tensor or an array, ``theirs`` a torch tensor or an array."""
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = ours.detach().numpy() if isinstance(ours, Tensor) else np.asarray(ours)
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype}, PyTorch's {theirs.dtype}"
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, PyTorch's {theirs.shape}"
    if ours.dtype.kind in "biu":
        np.testing.assert_array_equal(ours, theirs, err_msg=what)
        return
    finite = theirs[np.isfinite(theirs)]
    scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale, err_msg=what)


def assert_same_runs(ours: tuple, theirs: tuple, rtol: float, case: str = "") -> None:
    """Two runs of one module, each (results, gradients of the inputs, {parameter name:
    gradient}), tensorgrad's then PyTorch's: the same results and gradients, parameter by
    parameter in the same order, None where PyTorch's is None."""
    (results, grads, params), (their_results, their_grads, their_params) = ours, theirs
    where = f"{case}: " if case else ""
    assert len(results) == len(their_results)
    for i, (a, b) in enumerate(zip(results, their_results)):
        assert_same(a, b, f"{where}result {i}", rtol)
    assert len(grads) == len(their_grads)
    for i, (a, b) in enumerate(zip(grads, their_grads)):
        assert_same(a, b, f"{where}gradient of input {i}", rtol)
    assert list(params) == list(their_params)
    for name, grad in params.items():
        assert (grad is None) == (their_params[name] is None), f"{where}{name}"
        if grad is not None:
            assert_same(grad, their_params[name], f"{where}gradient of {name}", rtol)


def run_both(torch: Any, ours: Any, theirs: Any, arrays: list, dtype: Any, *args: Any,
             rtol: float | None = None, **settings: Any) -> None:
    """``ours`` and ``theirs`` (PyTorch's) on the same arrays (None stays None) and ``args``,
    then backward of one random weighting of the output; the outputs and the gradient of
    every array must agree, to ``rtol`` (by default ``RTOL``'s for ``dtype``)."""
    arrays = [None if a is None else a.astype(dtype) for a in arrays]
    mine = [None if a is None else Tensor(a, requires_grad=True) for a in arrays]
    their = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    y, their_y = ours(*mine, *args, **settings), theirs(*their, *args, **settings)
    rtol = RTOL[np.dtype(dtype)] if rtol is None else rtol
    assert_same(y, their_y, "output", rtol)
    weights = np.random.default_rng(5).standard_normal(their_y.shape).astype(dtype)
    (y * Tensor(weights)).sum().backward()
    (their_y * torch.tensor(weights)).sum().backward()
    for i, (m, t) in enumerate(zip(mine, their)):
        if m is not None:
            assert_same(m.grad, t.grad, f"gradient of argument {i}", rtol)


def trains_then_evaluates_alike(torch: Any, ours: Any, theirs: Any, shape: tuple[int, ...]
                                ) -> None:
    """Three ``run_both`` steps in training mode, then one in eval mode, on inputs of
    ``shape`` scaled and shifted more each step (float64); after each, every state-dict
    entry (running statistics too) must agree."""
    rng = np.random.default_rng(4)
    for step in range(4):
        if step == 3:
            ours.eval()
            theirs.eval()
        run_both(torch, ours, theirs, [rng.standard_normal(shape) * (step + 1) + step],
                 np.float64)
        for name, t in theirs.state_dict().items():
            assert_same(ours.state_dict()[name], t, f"{name}, step {step}")


def against_torch(torch: Any, ours: Any, theirs: Any, *inputs: LaidOut | np.ndarray,
                  constant: tuple[int, ...] = (), upstream: str = "C") -> Tensor:
    """Run ``ours`` on tensors (each input a ``LaidOut``, seen in its layout, or an array) and
    ``theirs`` on PyTorch copies of the same values: the results must agree, and whether they
    require grad; so must the gradient of every floating input not in ``constant`` for one
    upstream gradient (ours handed to backward() in the layout ``upstream``). Returns ours."""
    laid = [x if isinstance(x, LaidOut) else as_laid_out(np.asarray(x)) for x in inputs]
    needs = [x.dtype.kind == "f" and i not in constant for i, x in enumerate(laid)]
    leaves = [Tensor(x.leaf, requires_grad=n) for x, n in zip(laid, needs)]
    copies = [torch.tensor(np.array(x.values)).requires_grad_(n) for x, n in zip(laid, needs)]
    with np.errstate(all="ignore"):  # (NaN from log1p(-2) and the like, as PyTorch's)
        out = ours(*(x.layout.view(t) for x, t in zip(laid, leaves)))
    expected = theirs(*copies)
    rtol = max(RTOL.get(np.dtype(d), 1e-10) for d in (out.dtype, *(x.dtype for x in laid)))
    assert_same(out, expected, "forward", rtol)
    assert out.requires_grad == expected.requires_grad, "requires_grad differs from PyTorch's"
    if not expected.requires_grad:
        return out
    weights = upstream_weights(out.shape).astype(out.dtype)
    with np.errstate(all="ignore"):
        out.backward(arrange_upstream(weights, upstream))
    expected.backward(torch.tensor(weights))
    for i, (x, leaf, copy) in enumerate(zip(laid, leaves, copies)):
        if not needs[i]:
            continue
        wanted = np.zeros_like(x.leaf)  # the leaf's entries outside the view get none
        x.layout.view(wanted)[...] = 0 if copy.grad is None else copy.grad.numpy()
        got = np.zeros_like(wanted) if leaf.grad is None else leaf.grad
        assert_same(got, wanted, f"grad of input {i}", rtol)
    return out


def outcome(m: Any, call: Any) -> Any:
    """``call(m)`` (``m``: tensorgrad or torch), warnings silenced, or the name of the type
    of the error it raises ("LinAlgError" for either library's): for tests that hold our
    result or error kind against PyTorch's at special inputs."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call(m)
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return "LinAlgError" if isinstance(error, m.linalg.LinAlgError) else type(error).__name__


def same_error(ours: Any, theirs: Any, message: bool = False) -> None:
    """Both calls raise, ours an error of the type PyTorch's is (or a subclass of it);
    with ``message``, of its type and with its message word for word."""
    with pytest.raises(Exception) as their_error:  # noqa: B017 (any: its type is the check)
        theirs()
    with pytest.raises(type(their_error.value)) as our_error:
        ours()
    if message:
        assert str(our_error.value) == str(their_error.value)
