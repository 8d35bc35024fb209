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
