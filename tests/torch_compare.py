"""One comparison of a tensorgrad result with PyTorch's, for the tests held against torch."""

from __future__ import annotations

from typing import Any

import numpy as np

from tensorgrad import Tensor


def assert_same(ours: Any, theirs: Any, what: str, rtol: float = 1e-10) -> None:
    """Same dtype, shape and values: integers and booleans exactly, floats to ``rtol`` (and
    an absolute ``rtol`` times the largest finite value), NaN where NaN, infinities exactly.
    ``ours`` a tensor or an array, ``theirs`` a torch tensor or an array."""
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = ours.data if isinstance(ours, Tensor) else np.asarray(ours)
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
