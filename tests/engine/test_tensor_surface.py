"""The functions of ``test_tensor_surface_torch.py`` without PyTorch (CI): the special
functions against exact values and identities (Python's ``math``, zeta values, erf of
erfinv), every gradient against central differences in float64 (``gradcheck``), and the
results of the shape functions worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Tensor


def finite_differences(fn, *inputs):
    return tg.gradcheck(fn, *inputs, reference="finite-difference", rtol=1e-5, atol=1e-7)


def test_lgamma_and_digamma_are_exact_where_known():
    x = np.array([0.5, 1.0, 1.5, 2.0, 3.0, 7.5, 20.0, 171.5, 1e-8])
    expected = [math.lgamma(v) for v in x]
    np.testing.assert_allclose(tg.lgamma(Tensor(x)).numpy(), expected, rtol=2e-15, atol=0)
    assert tg.lgamma(Tensor([1.0, 2.0])).tolist() == [0.0, 0.0]
    euler = 0.5772156649015329
    np.testing.assert_allclose(tg.digamma(Tensor([1.0, 0.5, 2.0])).numpy(),
                               [-euler, -euler - 2 * math.log(2), 1 - euler], rtol=1e-15)
    # the poles: +inf for lgamma, NaN (negative integers) and -+inf (+-0) for digamma
    poles = Tensor([0.0, -0.0, -1.0, -4.0, np.inf, -np.inf, np.nan])
    assert tg.lgamma(poles).tolist()[:6] == [math.inf] * 6
    digamma = tg.digamma(poles).numpy()
    assert digamma[0] == -math.inf and digamma[1] == math.inf and digamma[4] == math.inf
    assert np.isnan(digamma[[2, 3, 5, 6]]).all()
    # reflection: |Gamma(-0.5)| = 2 sqrt(pi)
    assert tg.lgamma(Tensor(-0.5)).item() == pytest.approx(math.log(2 * math.sqrt(math.pi)),
                                                           rel=1e-15)


def test_polygamma_is_factorial_times_zeta():
    zeta = {1: math.pi ** 2 / 6, 2: 1.2020569031595942, 3: math.pi ** 4 / 90}
    for n, value in zeta.items():
        exact = (-1) ** (n + 1) * math.factorial(n) * value
        assert tg.polygamma(n, Tensor([1.0])).item() == pytest.approx(exact, rel=4e-16)
    assert tg.polygamma(0, Tensor([1.0])).item() == tg.digamma(Tensor([1.0])).item()
    # psi_1(x) - psi_1(x + 1) = 1 / x**2, also for negative x
    x = np.array([-3.7, -0.4, 0.3, 2.5, 40.0, -1200.3])
    difference = tg.polygamma(1, Tensor(x)) - tg.polygamma(1, Tensor(x + 1))
    np.testing.assert_allclose(difference.numpy(), 1 / x ** 2, rtol=1e-9)
    with pytest.raises(RuntimeError):
        tg.polygamma(-1, Tensor([1.0]))


def test_erfinv_inverts_erf():
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 201), [1e-300, -1e-12, 0.5]])
    x = tg.erfinv(Tensor(y))
    np.testing.assert_allclose(tg.erf(x).numpy(), y, rtol=0, atol=2.3e-16)  # (1 ulp of 1)
    near_one = 1 - np.array([1e-16, 1e-10, 1e-5])
    back = 1 - tg.erf(tg.erfinv(Tensor(near_one))).numpy()
    np.testing.assert_allclose(back, 1 - near_one, rtol=1e-6)
    edges = tg.erfinv(Tensor([1.0, -1.0, 1.5, np.nan, -0.0])).tolist()
    assert edges[:2] == [math.inf, -math.inf] and math.isnan(edges[2]) and math.isnan(edges[3])
    assert math.copysign(1, edges[4]) == -1


def test_bessel_i_series_and_asymptotic_agree_where_they_meet():
    """The series serves |x| <= 20 and the asymptotic series beyond: both hold I0' = I1 and
    I0(x) known values."""
    assert tg.i0(Tensor([0.0, 1.0])).tolist() == pytest.approx([1.0, 1.2660658777520082],
                                                               rel=1e-15)
    x = np.array([19.999, 20.0, 20.001])
    i0 = tg.i0(Tensor(x)).numpy()
    slope = (i0[2] - i0[0]) / 0.002
    assert slope == pytest.approx(tg.special.i1(Tensor(20.0)).item(), rel=1e-6)  # (h**2 / 6)
    assert np.isnan(tg.i0(Tensor([np.inf, -np.inf, np.nan])).numpy()).all()  # PyTorch's


def test_mvlgamma_is_a_sum_of_lgammas():
    x = Tensor([2.5, 4.0])
    expected = 3 * math.log(math.pi) / 2 + sum(tg.lgamma(x - j / 2) for j in range(3))
    np.testing.assert_allclose(tg.mvlgamma(x, 3).numpy(), expected.numpy(), rtol=1e-15)
    with pytest.raises(RuntimeError):
        tg.mvlgamma(x, 0)


@pytest.mark.parametrize("fn,values", [
    (tg.lgamma, [0.3, 1.7, 4.2, -0.6, -2.5]),
    (tg.digamma, [0.3, 1.7, 4.2, -0.6, -2.5]),
    (lambda t: tg.polygamma(2, t), [0.3, 1.7, 4.2, -0.6]),
    (tg.erfinv, [-0.9, -0.2, 0.0, 0.5, 0.99]),
    (tg.i0, [-25.0, -3.0, 0.0, 1.5, 21.0]),
    (tg.special.i1, [-25.0, -3.0, 0.0, 1.5, 21.0]),
    (lambda t: t.mvlgamma(2), [0.8, 1.7, 4.2]),
])
def test_special_function_gradients_are_central_differences(fn, values):
    for value in values:  # one at a time: a large value's rounding would swamp a small one's
        assert finite_differences(fn, Tensor([value], requires_grad=True))


def test_shape_functions_gradients_are_central_differences():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    src = Tensor(rng.standard_normal(3), requires_grad=True)
    mask = Tensor(rng.random((3, 4)) < 0.5)
    source = Tensor(rng.standard_normal(12), requires_grad=True)
    assert finite_differences(lambda a, s: tg.diagonal_scatter(a, s), x, src)
    assert finite_differences(lambda a, s: tg.select_scatter(a, s, 1, 2), x, src)
    assert finite_differences(lambda a, s: a.masked_scatter(mask, s), x, source)
    assert finite_differences(lambda a: a.renorm(2, 0, 1.0), x)
    assert finite_differences(lambda a, b: tg.inner(a, b), x, Tensor(rng.standard_normal((2, 4)),
                                                                     requires_grad=True))
    assert finite_differences(lambda a: a.frexp()[0], x)
    factors = Tensor([[2.0, 0.0], [3.0, 4.0], [0.0, 0.0], [1.5, -2.0]], requires_grad=True)
    start = Tensor([[1.0, 2.0], [0.5, 0.0]], requires_grad=True)
    index = Tensor([0, 0, 1, 0])
    assert finite_differences(lambda a, s: a.index_reduce(0, index, s, "prod"), start, factors)


def test_shape_functions_by_hand():
    assert tg.where(Tensor([[0, 1], [2, 0]]))[1].tolist() == [1, 0]
    assert Tensor([1.0]).type() == "torch.DoubleTensor"
    assert Tensor([1.0]).type("torch.FloatTensor").dtype == tg.float32
    assert Tensor(np.array([1.0], np.float32)).view(tg.int32).item() == 0x3F800000
    values, inverse, counts = Tensor([1, 1, 2, 1]).unique_consecutive(True, True)
    assert values.tolist() == [1, 2, 1] and inverse.tolist() == [0, 0, 1, 2]
    assert counts.tolist() == [2, 1, 1]
    assert tg.masked_scatter(Tensor([0.0, 0.0, 0.0]), Tensor([True, False, True]),
                             Tensor([5.0, 6.0])).tolist() == [5.0, 0.0, 6.0]
    assert tg.slice_scatter(tg.zeros(4), Tensor([1.0, 2.0]), 0, 0, 4, 2).tolist() == [
        1.0, 0.0, 2.0, 0.0]
    assert tg.zeros(3, 4)[1:, 2:].storage_offset() == 6
    assert tg.ldexp(Tensor([1.5]), Tensor([3])).item() == 12.0
    assert tg.nextafter(Tensor([1.0]), Tensor([2.0])).item() == 1.0 + 2 ** -52
    mantissa, exponent = tg.frexp(Tensor([12.0]))
    assert (mantissa.item(), exponent.item()) == (0.75, 4)
    assert tg.zeros(2, 3).mH.shape == (3, 2) and tg.zeros(2, 3).H.shape == (3, 2)
    with pytest.raises(RuntimeError):
        tg.zeros(3).adjoint()
    assert tg.split_with_sizes(tg.arange(5), [2, 3])[1].tolist() == [2, 3, 4]
    assert tg.vdot(Tensor([1.0, 2.0]), Tensor([3.0, 4.0])).item() == 11.0


def test_the_new_modules_are_imported_when_first_used():
    """surface.py and gamma.py stay out of ``import tensorgrad`` (microgpt's start-up)."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, tensorgrad\n"
            "new = ('tensorgrad.surface', 'tensorgrad.gamma', 'tensorgrad.conv')\n"
            "assert not any(name in sys.modules for name in new)\n"
            "tensorgrad.ones(2).view(tensorgrad.int64)\n"
            "assert 'tensorgrad.gamma' not in sys.modules\n"
            "assert tensorgrad.special.gammaln(tensorgrad.ones(1)).item() == 0.0\n"
            "assert 'tensorgrad.gamma' in sys.modules\n"
            "tensorgrad.functional.pdist(tensorgrad.ones(2, 2))\n"
            "assert 'tensorgrad.conv' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60,
                   cwd=Path(__file__).resolve().parents[2])


def test_the_lazy_methods_work_first_through_a_subclass_and_the_class():
    """A method's stand-in read first on a Parameter, or on the class, puts every method of
    its module on Tensor; a stand-in is never seen again."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import tensorgrad\n"
            "from tensorgrad.nn import Parameter\n"
            "p = Parameter(tensorgrad.ones(2, 2))\n"
            "assert p.renorm(2, 0, 1.0).requires_grad\n"
            "assert callable(tensorgrad.Tensor.__dict__['vdot'])\n"
            "assert tensorgrad.Tensor.polygamma(tensorgrad.ones(1), 0).item() < 0\n"
            "assert tensorgrad.Tensor.conj(tensorgrad.ones(1)).item() == 1\n"
            "assert all(callable(v) for v in vars(tensorgrad.Tensor).values()\n"
            "           if type(v).__name__ == '_Later')\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60,
                   cwd=Path(__file__).resolve().parents[2])
