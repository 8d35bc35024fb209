"""``nn.utils.parametrizations.orthogonal`` against PyTorch's: the same initial weight gives
the same orthogonal weight; the same ``original`` (and ``base``) the same weight, forward
and gradient of ``original``, for each map, dtype and shape (square, wide, tall, batched);
assignments (``right_inverse``) give the same weight and state."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import same_error

import tensorgrad
from tensorgrad import nn

torch = pytest.importorskip("torch")

MAPS = ("matrix_exp", "cayley", "householder")
SHAPES = ((4, 4), (3, 5), (5, 3), (2, 3, 3), (2, 2, 4))
TOLERANCE = {np.float32: 2e-4, np.float64: 1e-9}


class _Holder(nn.Module):
    def __init__(self, weight: np.ndarray) -> None:
        super().__init__()
        self.weight = nn.Parameter(tensorgrad.tensor(weight))


class _TorchHolder(torch.nn.Module):
    def __init__(self, weight: np.ndarray) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.tensor(weight))


def _pair(shape, dtype, orthogonal_map, trivialization=True, seed=0):
    weight = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    ours = nn.utils.parametrizations.orthogonal(
        _Holder(weight), orthogonal_map=orthogonal_map, use_trivialization=trivialization)
    theirs = torch.nn.utils.parametrizations.orthogonal(
        _TorchHolder(weight), orthogonal_map=orthogonal_map,
        use_trivialization=trivialization)
    return ours, theirs


def _close(ours, theirs, dtype, what):
    np.testing.assert_allclose(np.asarray(ours.detach().numpy()), theirs.detach().numpy(),
                               rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype], err_msg=what)


def _copy_state(ours, theirs):
    ours.load_state_dict({k: tensorgrad.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("orthogonal_map", [*MAPS, None])
@pytest.mark.parametrize("shape", SHAPES)
def test_initial_weight_and_state_keys(shape, orthogonal_map, dtype):
    ours, theirs = _pair(shape, dtype, orthogonal_map)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours).replace("_Holder", "H") == repr(theirs).replace("_TorchHolder", "H")
    assert ours.weight.dtype == np.dtype(dtype) and tuple(ours.weight.shape) == shape
    _close(ours.weight, theirs.weight, dtype, "initial weight")
    assert ours.parametrizations.weight[0].orthogonal_map == \
        theirs.parametrizations.weight[0].orthogonal_map.name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trivialization", [True, False])
@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("shape", SHAPES)
def test_weight_and_gradient_of_original(shape, orthogonal_map, trivialization, dtype):
    ours, theirs = _pair(shape, dtype, orthogonal_map, trivialization)
    rng = np.random.default_rng(1)
    with torch.no_grad():  # an original away from the start, so that the map is exercised
        original = theirs.parametrizations.weight.original
        original.copy_(torch.tensor(rng.standard_normal(shape).astype(dtype) * 0.7))
    _copy_state(ours, theirs)
    _close(ours.weight, theirs.weight, dtype, "weight")
    cotangent = rng.standard_normal(shape).astype(dtype)
    (ours.weight * tensorgrad.tensor(cotangent)).sum().backward()
    (theirs.weight * torch.tensor(cotangent)).sum().backward()
    _close(ours.parametrizations.weight.original.grad,
           theirs.parametrizations.weight.original.grad, dtype, "gradient of original")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("orthogonal_map", MAPS)
def test_linear_forward_and_gradients(orthogonal_map, dtype):
    ours = nn.Linear(3, 5, dtype=dtype)
    theirs = torch.nn.Linear(3, 5, dtype=getattr(torch, np.dtype(dtype).name))
    ours.load_state_dict({k: tensorgrad.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})
    nn.utils.parametrizations.orthogonal(ours, orthogonal_map=orthogonal_map)
    torch.nn.utils.parametrizations.orthogonal(theirs, orthogonal_map=orthogonal_map)
    _copy_state(ours, theirs)
    x = np.random.default_rng(2).standard_normal((4, 3)).astype(dtype)
    out, expected = ours(tensorgrad.tensor(x)), theirs(torch.tensor(x))
    _close(out, expected, dtype, "forward")
    out.pow(2).sum().backward()
    expected.pow(2).sum().backward()
    for name, p in theirs.named_parameters():
        _close(dict(ours.named_parameters())[name].grad, p.grad, dtype, name)


@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("shape", SHAPES)
def test_assigning_a_matrix(shape, orthogonal_map):
    """An orthogonal matrix assigned is the weight after; any other is orthogonalized by
    QR first, as in PyTorch."""
    ours, theirs = _pair(shape, np.float64, orthogonal_map)
    matrix = np.random.default_rng(3).standard_normal(shape)
    with torch.no_grad():
        theirs.weight = torch.tensor(matrix)
    ours.weight = tensorgrad.tensor(matrix)
    _close(ours.weight, theirs.weight, np.float64, "orthogonalized")
    _close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original,
           np.float64, "original")
    orthogonal = theirs.weight.detach().clone()
    ours.weight = tensorgrad.tensor(orthogonal.numpy())
    _close(ours.weight, orthogonal, np.float64, "kept")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_householder_without_trivialization_assigns_reflectors(shape, dtype):
    ours, theirs = _pair(shape, dtype, "householder", trivialization=False)
    _close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original,
           dtype, "original at registration (the weight unchanged)")
    matrix = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    with torch.no_grad():
        theirs.weight = torch.tensor(matrix)
    ours.weight = tensorgrad.tensor(matrix)
    _close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original,
           dtype, "reflectors")
    _close(ours.weight, theirs.weight, dtype, "weight")


def test_errors_are_of_pytorch_types():
    for map_name, trivialization, value in (("matrix_exp", False, np.eye(3)),
                                            ("cayley", False, np.eye(3)),
                                            ("householder", True, np.eye(4))):
        ours, theirs = _pair((3, 3), np.float64, map_name, trivialization)

        def assign_ours(value=value, ours=ours):
            ours.weight = tensorgrad.tensor(value)

        def assign_theirs(value=value, theirs=theirs):
            with torch.no_grad():
                theirs.weight = torch.tensor(value)

        same_error(assign_ours, assign_theirs)
    same_error(lambda: nn.utils.parametrizations.orthogonal(nn.Linear(2, 2), "bias"),
               lambda: torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(2, 2),
                                                                   "bias"))
    same_error(lambda: nn.utils.parametrizations.orthogonal(nn.Linear(2, 2), "nothing"),
               lambda: torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(2, 2),
                                                                   "nothing"))
    same_error(lambda: nn.utils.parametrizations.orthogonal(nn.Linear(2, 2), "weight", "qr"),
               lambda: torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(2, 2),
                                                                   "weight", "qr"))
