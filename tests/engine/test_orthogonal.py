"""``nn.utils.parametrizations.orthogonal`` on its own: the weight is orthogonal (or
semi-orthogonal) for every map, shape and dtype, stays so while an optimizer trains
``original``, takes assignments as PyTorch's does, and raises PyTorch's error types."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgrad
from tensorgrad import nn
from tensorgrad.nn.utils import parametrize
from tensorgrad.nn.utils.parametrizations import orthogonal

MAPS = ("matrix_exp", "cayley", "householder")
SHAPES = ((4, 4), (3, 5), (5, 3), (2, 3, 3), (2, 2, 4), (1, 1), (1, 3))


def _deviation(weight: np.ndarray) -> float:
    """How far the rows (wide) or columns (tall) are from orthonormal."""
    w = weight if weight.shape[-2] <= weight.shape[-1] else np.swapaxes(weight, -1, -2)
    gram = w @ np.swapaxes(w, -1, -2)
    return float(np.abs(gram - np.eye(w.shape[-2])).max())


def _holder(shape, dtype=np.float64, seed=0):
    module = nn.Module()
    weight = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    module.weight = nn.Parameter(tensorgrad.tensor(weight))
    return module


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trivialization", [True, False])
@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("shape", SHAPES)
def test_weight_is_orthogonal_and_trains_so(shape, orthogonal_map, trivialization, dtype):
    module = orthogonal(_holder(shape, dtype), orthogonal_map=orthogonal_map,
                        use_trivialization=trivialization)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    assert module.weight.dtype == np.dtype(dtype) and tuple(module.weight.shape) == shape
    assert _deviation(module.weight.detach().numpy()) < tolerance
    optimizer = tensorgrad.optim.SGD(module.parameters(), lr=0.1)
    target = tensorgrad.tensor(np.ones(shape, dtype))
    before = module.weight.detach().numpy().copy()
    for _ in range(3):
        optimizer.zero_grad()
        (module.weight - target).pow(2).sum().backward()
        optimizer.step()
    assert list(dict(module.named_parameters())) == ["parametrizations.weight.original"]
    after = module.weight.detach().numpy()
    assert _deviation(after) < 10 * tolerance
    # (householder: the signs on its diagonal may keep it still; 1 x 1: only +-1 there)
    if orthogonal_map != "householder" and shape != (1, 1):
        assert not np.allclose(before, after)


@pytest.mark.parametrize("orthogonal_map", MAPS)
def test_initial_orthogonal_weight_is_kept(orthogonal_map):
    q = np.linalg.qr(np.random.default_rng(5).standard_normal((4, 4)))[0]
    module = _holder((4, 4))
    module.weight.data = tensorgrad.tensor(q)
    orthogonal(module, orthogonal_map=orthogonal_map)
    np.testing.assert_allclose(module.weight.detach().numpy(), q, atol=1e-12)
    # with trivialization, original is the point the map sends to the identity
    original = module.parametrizations.weight.original.detach().numpy()
    np.testing.assert_array_equal(original, -np.eye(4))
    np.testing.assert_array_equal(module.parametrizations.weight[0].base.numpy(), q)


def test_default_map_follows_the_shape():
    square = orthogonal(nn.Linear(3, 3))
    rectangular = orthogonal(nn.Linear(3, 4))
    assert square.parametrizations.weight[0].orthogonal_map == "matrix_exp"
    assert rectangular.parametrizations.weight[0].orthogonal_map == "householder"
    assert type(square).__name__ == "ParametrizedLinear"
    assert parametrize.is_parametrized(square, "weight")


@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("shape", ((3, 3), (2, 4), (4, 2)))
def test_assignment_orthogonalizes(shape, orthogonal_map):
    module = orthogonal(_holder(shape), orthogonal_map=orthogonal_map)
    matrix = np.random.default_rng(6).standard_normal(shape)
    module.weight = tensorgrad.tensor(matrix)
    weight = module.weight.detach().numpy()
    assert _deviation(weight) < 1e-12
    # Q of the QR of the (tall form of the) matrix, R's diagonal positive
    tall = matrix if shape[0] >= shape[1] else matrix.T
    q, r = np.linalg.qr(tall)
    q = q * np.sign(np.diag(r))
    np.testing.assert_allclose(weight if shape[0] >= shape[1] else weight.T, q, atol=1e-12)


def test_state_dict_round_trip_and_removal():
    first = orthogonal(nn.Linear(3, 3), orthogonal_map="cayley")
    with tensorgrad.no_grad():
        first.parametrizations.weight.original.add_(0.3)
    second = orthogonal(nn.Linear(3, 3), orthogonal_map="cayley")
    second.load_state_dict(first.state_dict())
    np.testing.assert_allclose(second.weight.detach().numpy(), first.weight.detach().numpy())
    weight = second.weight.detach().numpy().copy()
    parametrize.remove_parametrizations(second, "weight")
    assert type(second) is nn.Linear
    np.testing.assert_allclose(second.weight.detach().numpy(), weight)


def test_errors():
    with pytest.raises(ValueError, match="matrix or batch of matrices"):
        orthogonal(nn.Linear(2, 2), "bias")
    with pytest.raises(ValueError, match="no parameter or buffer"):
        orthogonal(nn.Linear(2, 2), "nothing")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        orthogonal(nn.Linear(2, 2), orthogonal_map="qr")
    for map_name in ("matrix_exp", "cayley"):
        module = orthogonal(nn.Linear(2, 2), orthogonal_map=map_name, use_trivialization=False)
        with pytest.raises(NotImplementedError):
            module.weight = tensorgrad.eye(2)
    module = orthogonal(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="of shape"):
        module.weight = tensorgrad.eye(3)
