"""More of PyTorch's surface that third-party code uses, held against PyTorch: the Tensor
methods ``allclose``, ``fill_diagonal_``, ``new``, ``share_memory_``/``is_shared``,
``register_post_accumulate_grad_hook``, ``addbmm``, ``matrix_exp``, ``pinverse``, ``qr``,
``is_inference``, ``apply_``/``map_``, ``resize_``/``resize_as_``, ``output_nr``,
``nonzero_static``, ``put``/``put_``; the ``torch.*`` functions ``asarray``, ``frombuffer``,
``is_inference_mode_enabled``, ``chain_matmul``, ``detach``, ``fill``, ``index_put_`` and the
in-place ones (``torch.exp_``, ...); ``nn.init``'s deprecated names and ``nn.utils``' fusion,
``clip_grad_norm``, ``skip_init`` and module paths. Values, dtypes, shapes, gradients (and
gradients of gradients for the matrix functions), in both float dtypes and drawn memory
layouts, 0-d and size-0 where they mean something, and the type of the error a bad argument
raises. Skipped without torch (``test_surface_more.py`` checks them without it)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import ANY, SMALL, Domain, float_dtypes, laid_out, shapes
from torch_compare import RTOL, against_torch, assert_same, same_error

import tensorgrad as tg
from tensorgrad import Tensor
from tensorgrad.surface import IN_PLACE_FUNCTIONS

torch = pytest.importorskip("torch")
# PyTorch with tensorgrad's default float dtype, float64, in every test here
pytestmark = pytest.mark.usefixtures("torch_float64_default")

SPECIAL = Domain(((-2.0, 2.0),))


def both(values, dtype=None):
    array = np.array(values, dtype=dtype)
    return Tensor(array), torch.tensor(array)


# ---- allclose ----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.data(), shapes(size_zero=True), float_dtypes, st.booleans())
def test_allclose_matches_torch_with_nan_and_inf(data, shape, dtype, equal_nan):
    a = data.draw(laid_out(shape, dtype, SMALL))
    values = a.values.copy()
    other = values + data.draw(st.sampled_from([0.0, 1e-9, 1e-3]))
    if values.size:  # the same special value in both, or in one only
        special = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        where = data.draw(st.integers(0, values.size - 1))
        values.reshape(-1)[where] = special
        other.reshape(-1)[where] = data.draw(st.sampled_from([special, 1.0, -special]))
    x = a.layout.view(Tensor(a.layout.leaf_for(values, 0.0)))
    ours = x.allclose(Tensor(other.astype(dtype)), equal_nan=equal_nan)
    theirs = torch.allclose(torch.tensor(values), torch.tensor(other.astype(dtype)),
                            equal_nan=equal_nan)
    assert ours is theirs
    assert tg.allclose(x, Tensor(other.astype(dtype)), equal_nan=equal_nan) is theirs


def test_allclose_errors_and_broadcasting_match_torch():
    (x, tx), (y, ty) = both([1.0, 2.0]), both([1.0])
    assert x.allclose(y) is tx.allclose(ty)
    same_error(lambda: x.allclose(Tensor([1, 2])), lambda: tx.allclose(torch.tensor([1, 2])))
    same_error(lambda: x.allclose(2.0), lambda: tx.allclose(2.0))
    same_error(lambda: x.allclose(Tensor([1.0, 2, 3])), lambda: tx.allclose(torch.ones(3)))
    same_error(lambda: x.allclose(x, rtol=-1), lambda: tx.allclose(tx, rtol=-1))
    ints = both([1, 2])
    assert ints[0].allclose(ints[0]) is ints[1].allclose(ints[1]) is True


# ---- fill_diagonal_ ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.data(), st.integers(0, 7), st.integers(0, 5), float_dtypes, st.booleans())
def test_fill_diagonal_matches_torch_with_gradients(data, rows, cols, dtype, wrap):
    a = data.draw(laid_out((rows, cols), dtype, ANY))
    against_torch(torch, lambda x: (x * 1).fill_diagonal_(2.5, wrap),
                  lambda x: (x * 1).fill_diagonal_(2.5, wrap), a)


@pytest.mark.parametrize("shape", [(3, 3, 3), (2, 2, 2, 2), (1, 1, 1)])
def test_fill_diagonal_of_a_cube_matches_torch(shape):
    x, tx = both(np.zeros(shape))
    assert_same(x.fill_diagonal_(-1.0), tx.fill_diagonal_(-1.0), "cube")


def test_fill_diagonal_casts_and_refuses_as_torch():
    x, tx = both(np.zeros((3, 3), np.int64))
    assert_same(x.fill_diagonal_(2.7), tx.fill_diagonal_(2.7), "int")
    same_error(lambda: tg.zeros(3).fill_diagonal_(1), lambda: torch.zeros(3).fill_diagonal_(1))
    same_error(lambda: tg.zeros(3, 3, 2).fill_diagonal_(1),
               lambda: torch.zeros(3, 3, 2).fill_diagonal_(1))
    same_error(lambda: tg.zeros(2, 2, requires_grad=True).fill_diagonal_(1),
               lambda: torch.zeros(2, 2, requires_grad=True).fill_diagonal_(1))


# ---- new, output_nr, is_inference, is_shared -------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_new_matches_torch_in_each_form(dtype):
    x, tx = both(np.ones((2, 3), dtype))
    for args in [(), (2, 3), (0,), ([1, 2],), ([[1.5, 2.5]],), ((2, 3),)]:
        assert_same(x.new(*args), tx.new(*args) if args in [(), ([1, 2],), ([[1.5, 2.5]],),
                                                             ((2, 3),)]
                    else tx.new(*args).zero_(), f"new{args}")
    assert_same(x.new(tg.Size([2, 1])), tx.new(torch.Size([2, 1])).zero_(), "Size")
    other, their_other = both(np.array([4, 5], dtype))
    shared, their_shared = x.new(other), tx.new(their_other)
    assert_same(shared, their_shared, "tensor")
    shared[0] = 9  # (the same memory, as PyTorch's)
    assert other[0].item() == 9
    same_error(lambda: x.new(3.5), lambda: tx.new(3.5))
    same_error(lambda: x.new(2, dtype=tg.int64), lambda: tx.new(2, dtype=torch.int64))
    same_error(lambda: x.new(Tensor(np.ones(2, np.int8))),
               lambda: tx.new(torch.ones(2, dtype=torch.int8)))


def test_output_nr_is_inference_and_is_shared_match_torch():
    w, tw = Tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    for ours, theirs in [(w, tw), (w * 2, tw * 2), (w.detach(), tw.detach())]:
        assert ours.output_nr == theirs.output_nr
        assert ours.is_inference() == theirs.is_inference() is False
        assert ours.is_shared() == theirs.is_shared() is False
    x, tx = tg.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3)
    assert x.share_memory_() is x and tx.share_memory_() is tx
    assert x.is_shared() == tx.is_shared() is True
    assert x[0].is_shared() == tx[0].is_shared() is True
    assert x.share_memory_() is x  # (again: nothing to do)
    assert_same(x, tx, "values kept")
    assert tg.is_inference(w) is torch.is_inference(tw)


def test_is_inference_mode_enabled_matches_torch():
    def states(lib):
        seen = [lib.is_inference_mode_enabled()]
        with lib.inference_mode():
            seen.append(lib.is_inference_mode_enabled())
            with lib.inference_mode(False):
                seen.append(lib.is_inference_mode_enabled())
            seen.append(lib.is_inference_mode_enabled())
        with lib.no_grad():
            seen.append(lib.is_inference_mode_enabled())

        @lib.inference_mode()
        def inside():
            return lib.is_inference_mode_enabled()
        seen += [inside(), lib.is_inference_mode_enabled()]
        return seen
    assert states(tg) == states(torch)


# ---- register_post_accumulate_grad_hook -----------------------------------------------------


def _hook_log(lib):
    p = lib.tensor([1.0, 2.0], requires_grad=True)
    log = []
    handle = p.register_post_accumulate_grad_hook(
        lambda t: log.append(("post", t is p, t.grad.tolist())))
    p.register_hook(lambda g: log.append(("pre", g.tolist())) or g * 10)
    (p * 3).sum().backward()
    (p * p).sum().backward()
    lib.autograd.grad((p * 3).sum(), p)  # adds to no .grad: no call
    handle.remove()
    (p * 3).sum().backward()
    q = lib.tensor([1.0], requires_grad=True)
    q.register_post_accumulate_grad_hook(lambda t: log.append(("graph", t.grad.requires_grad)))
    (q ** 2).sum().backward(create_graph=True)
    return log


def test_post_accumulate_grad_hook_matches_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch's warning on backward(create_graph=True))
        assert _hook_log(tg) == _hook_log(torch)


def test_post_accumulate_grad_hook_refusals_match_torch():
    w, tw = Tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    same_error(lambda: (w * 2).register_post_accumulate_grad_hook(print),
               lambda: (tw * 2).register_post_accumulate_grad_hook(print))
    same_error(lambda: Tensor([1.0]).register_post_accumulate_grad_hook(print),
               lambda: torch.tensor([1.0]).register_post_accumulate_grad_hook(print))
    for returned in (5, None):
        for x in (w, tw):
            x.grad = None
            x.register_post_accumulate_grad_hook(
                lambda t, r=returned: r if r is not None else t.grad * 1)
        same_error(lambda: (w * 3).sum().backward(), lambda: (tw * 3).sum().backward())
        assert w.grad.tolist() == tw.grad.tolist()  # (added before the hook ran)


def _optimizer_in_backward(lib, weights):
    """One SGD optimizer per parameter, stepped by its hook as the backward pass goes."""
    layer = lib.nn.Linear(3, 2)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(weights[0]))
        layer.bias.copy_(lib.tensor(weights[1]))
    optimizers = {p: lib.optim.SGD([p], lr=0.1, momentum=0.9) for p in layer.parameters()}

    def step(p):
        optimizers[p].step()
        optimizers[p].zero_grad()
    for p in layer.parameters():
        p.register_post_accumulate_grad_hook(step)
    x = lib.tensor(np.linspace(-1, 1, 12).reshape(4, 3))
    for _ in range(3):
        (layer(x) ** 2).sum().backward()
    return [p.detach().numpy().copy() for p in layer.parameters()] + [
        p.grad for p in layer.parameters()]


def test_an_optimizer_in_the_backward_pass_trains_as_torchs():
    rng = np.random.default_rng(1)
    weights = [rng.standard_normal((2, 3)), rng.standard_normal(2)]
    ours, theirs = _optimizer_in_backward(tg, weights), _optimizer_in_backward(torch, weights)
    for a, b in zip(ours[:2], theirs[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert ours[2:] == theirs[2:] == [None, None]


# ---- apply_, map_, resize_ --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_apply_and_map_match_torch(dtype):
    values = np.arange(-3, 3).reshape(2, 3).astype(dtype)
    for view in (lambda t: t, lambda t: t.t(), lambda t: t[:, ::2]):
        x, tx = both(values)
        assert_same(view(x).apply_(lambda a: a / 2 + 1), view(tx).apply_(lambda a: a / 2 + 1),
                    "apply_")
        assert_same(x, tx, "apply_ through a view")
        other, their_other = both(values[0])
        assert_same(x.map_(other, lambda a, b: a * 3 - b), tx.map_(their_other,
                                                                   lambda a, b: a * 3 - b), "map_")
    x, tx = both(values)
    same_error(lambda: x.map_(Tensor(values.astype(np.float16)), max),
               lambda: tx.map_(torch.tensor(values.astype(np.float16)), max))
    same_error(lambda: x.map_(3, max), lambda: tx.map_(3, max))
    same_error(lambda: x.map_(Tensor(np.ones((2, 1, 3), dtype)), max),
               lambda: tx.map_(torch.tensor(np.ones((2, 1, 3), dtype)), max))


def test_apply_refusals_match_torch():
    x, tx = Tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    same_error(lambda: x.apply_(abs), lambda: tx.apply_(abs))
    same_error(lambda: Tensor([1.0]).apply_(str), lambda: torch.tensor([1.0]).apply_(str))


@pytest.mark.parametrize("size", [(3, 2), (6,), (2, 2), (1,), (0,), (2, 3), (4, 2), (3, 3, 1)])
@pytest.mark.parametrize("view", ["plain", "transposed", "row", "sliced"])
def test_resize_matches_torch(size, view):
    pick = {"plain": lambda t: t, "transposed": lambda t: t.t(), "row": lambda t: t[1],
            "sliced": lambda t: t[:, 1:]}[view]
    x, tx = pick(tg.arange(6.0).reshape(2, 3)), pick(torch.arange(6.0).reshape(2, 3))
    known = max(0, min(int(np.prod(size)), 6 - tx.storage_offset()))  # (past: uninitialized)
    ours, theirs = x.resize_(*size), tx.resize_(*size)
    assert ours is x and theirs is tx
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.numpy().reshape(-1)[:known],
                                  theirs.numpy().reshape(-1)[:known])


def test_resize_as_and_refusals_match_torch():
    x, tx = tg.arange(6.0), torch.arange(6.0)
    assert_same(x.resize_as_(tg.ones(3, 2)), tx.resize_as_(torch.ones(3, 2)), "resize_as_")
    assert_same(tg.resize_as_(x, tg.ones(2, 3)), torch.resize_as_(tx, torch.ones(2, 3)), "fn")
    w, tw = tg.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    same_error(lambda: w.resize_(3), lambda: tw.resize_(3))
    same_error(lambda: (w * 2).resize_(2), lambda: (tw * 2).resize_(2))


# ---- nonzero_static, put ------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.data(), shapes(size_zero=True), st.integers(0, 6), st.integers(-3, 3))
def test_nonzero_static_matches_torch(data, shape, size, fill):
    a = data.draw(laid_out(shape, np.float64, Domain(((0.0, 0.0), (1.0, 2.0)))))
    ours = a.layout.view(Tensor(a.leaf)).nonzero_static(size=size, fill_value=fill)
    assert_same(ours, torch.nonzero_static(torch.tensor(a.values), size=size, fill_value=fill),
                "nonzero_static")
    same_error(lambda: tg.nonzero_static(Tensor(a.values), size=-1),
               lambda: torch.nonzero_static(torch.tensor(a.values), size=-1))


@settings(max_examples=40, deadline=None)
@given(st.data(), shapes(min_dims=0, max_dims=3), float_dtypes, st.booleans())
def test_put_matches_torch_with_gradients(data, shape, dtype, accumulate):
    a = data.draw(laid_out(shape, dtype, ANY))
    numel = int(np.prod(shape))
    places = data.draw(st.lists(st.integers(-numel, numel - 1), min_size=0, max_size=4,
                                unique_by=lambda i: i % numel))
    if accumulate and places:  # places that repeat add up
        places = places + places[:1]
    index = np.array(places, np.int64)
    src = data.draw(laid_out((len(places),), dtype, ANY))
    against_torch(torch, lambda x, s: x.put(Tensor(index), s, accumulate),
                  lambda x, s: x.put(torch.tensor(index), s, accumulate), a, src)
    against_torch(torch, lambda x, s: (x * 1).put_(Tensor(index), s, accumulate),
                  lambda x, s: (x * 1).put_(torch.tensor(index), s, accumulate), a, src)


def test_put_refusals_match_torch():
    x, tx = both(np.arange(6.0).reshape(2, 3))
    same_error(lambda: x.put(Tensor([6]), Tensor([1.0])),
               lambda: tx.put(torch.tensor([6]), torch.tensor([1.0])))
    same_error(lambda: x.put(Tensor([1]), Tensor([1])),
               lambda: tx.put(torch.tensor([1]), torch.tensor([1])))
    same_error(lambda: x.put(Tensor([1.0]), Tensor([1.0])),
               lambda: tx.put(torch.tensor([1.0]), torch.tensor([1.0])))
    same_error(lambda: x.put(Tensor([1, 2]), Tensor([1.0])),
               lambda: tx.put(torch.tensor([1, 2]), torch.tensor([1.0])))
    assert_same(tg.put(x, Tensor([[-1, 0]]), Tensor([7.0, 8.0])),
                torch.put(tx, torch.tensor([[-1, 0]]), torch.tensor([7.0, 8.0])), "2-D index")


# ---- addbmm, chain_matmul ----------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.data(), st.integers(0, 3), st.integers(1, 3), st.integers(0, 3), st.integers(1, 3),
       float_dtypes, st.sampled_from([(1, 1), (0.5, 2.0), (0, 1)]),
       st.sampled_from(["full", "row", "scalar"]))
def test_addbmm_matches_torch_with_gradients(data, b, n, k, m, dtype, scales, broadcast):
    beta, alpha = scales
    shape = {"full": (n, m), "row": (m,), "scalar": ()}[broadcast]
    args = [data.draw(laid_out(s, dtype, SMALL)) for s in (shape, (b, n, k), (b, k, m))]
    against_torch(torch, lambda i, x, y: tg.addbmm(i, x, y, beta=beta, alpha=alpha),
                  lambda i, x, y: torch.addbmm(i, x, y, beta=beta, alpha=alpha), *args)
    if broadcast == "full":
        against_torch(torch, lambda i, x, y: (i * 1).addbmm_(x, y, beta=beta, alpha=alpha),
                      lambda i, x, y: (i * 1).addbmm_(x, y, beta=beta, alpha=alpha), *args)


def test_addbmm_refusals_match_torch():
    m, b1, b2 = np.ones((3, 5)), np.ones((4, 3, 2)), np.ones((4, 2, 5))
    cases = [(m, b1[0], b2[0]), (m, b1, b2[:3]), (m, b1, b2.astype(np.float32)),
             (np.ones((5, 3)), b1, b2), (m, b1[None], b2[None])]
    for a, b, c in cases:
        same_error(lambda a=a, b=b, c=c: tg.addbmm(Tensor(a), Tensor(b), Tensor(c)),
                   lambda a=a, b=b, c=c: torch.addbmm(torch.tensor(a), torch.tensor(b),
                                                      torch.tensor(c)))


def test_chain_matmul_matches_torch():
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in ((2, 3), (3, 4), (4, 1))]
    for count in (1, 2, 3):
        with warnings.catch_warnings(record=True) as ours_warned:
            warnings.simplefilter("always")
            ours = tg.chain_matmul(*[Tensor(a) for a in arrays[:count]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = torch.chain_matmul(*[torch.tensor(a) for a in arrays[:count]])
        assert_same(ours, theirs, f"{count} matrices")
        assert ours_warned[0].category is UserWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_error(lambda: tg.chain_matmul(), lambda: torch.chain_matmul())
        same_error(lambda: tg.chain_matmul(tg.ones(3), tg.ones(3)),
                   lambda: torch.chain_matmul(torch.ones(3), torch.ones(3)))


# ---- the matrix functions ----------------------------------------------------------------------


def _second_order(lib, fn, a, weights):
    """The gradient of the gradient's weighted sum (a Hessian-vector product)."""
    x = lib.tensor(a, requires_grad=True)
    (g,) = lib.autograd.grad((fn(x) * lib.tensor(weights)).sum(), x, create_graph=True)
    (h,) = lib.autograd.grad((g * g).sum(), x)
    return h


@settings(max_examples=40, deadline=None)
@given(st.data(), st.integers(0, 4), st.sampled_from([(), (2,)]), float_dtypes,
       st.sampled_from([1.0, 4.0]))
def test_matrix_exp_matches_torch_with_gradients(data, n, batch, dtype, scale):
    a = data.draw(laid_out(batch + (n, n), dtype, SMALL))
    a = type(a)((a.values * scale).astype(dtype), a.layout,
                (a.leaf * scale).astype(dtype))  # (scale 4: norms that need squaring)
    against_torch(torch, lambda x: x.matrix_exp(), lambda x: x.matrix_exp(), a)
    against_torch(torch, tg.linalg.matrix_exp, torch.linalg.matrix_exp, a)


def test_matrix_exp_gradient_of_gradient_and_edges_match_torch():
    rng = np.random.default_rng(4)
    a, w = rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 3, 3))
    assert_same(_second_order(tg, tg.matrix_exp, a, w),
                _second_order(torch, torch.matrix_exp, a, w), "second order", 1e-8)
    assert_same(tg.matrix_exp(Tensor([[np.nan, 1.0], [0.0, 1.0]])),
                torch.matrix_exp(torch.tensor([[np.nan, 1.0], [0.0, 1.0]])), "NaN")
    big = np.array([[0.0, 30.0], [-30.0, 0.0]])  # a rotation: norm 30, 4 squarings
    assert_same(tg.matrix_exp(Tensor(big)), torch.matrix_exp(torch.tensor(big)), "rotation",
                1e-9)
    for bad in (np.ones((2, 3)), np.ones(3), np.ones((2, 2), np.int64)):
        same_error(lambda bad=bad: tg.matrix_exp(Tensor(bad)),
                   lambda bad=bad: torch.matrix_exp(torch.tensor(bad)))


@settings(max_examples=40, deadline=None)
@given(st.data(), st.sampled_from([(3, 3), (4, 2), (2, 4), (1, 3), (3, 1)]),
       st.sampled_from([(), (2,)]), float_dtypes)
def test_pinverse_matches_torch_with_gradients(data, size, batch, dtype):
    values = data.draw(laid_out(batch + size, dtype, SMALL))
    # well away from rank-deficient: the identity's part added, so the gradient is defined
    eye = np.eye(*size, dtype=dtype) * 3
    a = type(values)(values.values + eye, values.layout, values.layout.leaf_for(
        values.values + eye, 0.0))
    rtol = 1e-4 if dtype == np.float32 else 1e-8
    ours = against_torch(torch, lambda x: x.pinverse(), lambda x: x.pinverse(), a)
    assert ours.dtype == dtype
    del rtol


def test_pinverse_of_rank_deficient_and_empty_matrices_and_second_order():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert_same(tg.pinverse(Tensor(a)), torch.pinverse(torch.tensor(a)), "rank 1", 1e-8)
    assert_same(tg.pinverse(Tensor(a), rcond=0.5), torch.pinverse(torch.tensor(a), rcond=0.5),
                "rcond")
    assert_same(tg.pinverse(tg.zeros(0, 3)), torch.pinverse(torch.zeros(0, 3)), "empty")
    rng = np.random.default_rng(5)
    b, w = rng.standard_normal((3, 2)), rng.standard_normal((2, 3))
    assert_same(_second_order(tg, tg.pinverse, b, w), _second_order(torch, torch.pinverse, b, w),
                "second order", 1e-8)
    for bad in (np.ones(3), np.ones((2, 2), np.int64)):
        same_error(lambda bad=bad: tg.pinverse(Tensor(bad)),
                   lambda bad=bad: torch.pinverse(torch.tensor(bad)))


@settings(max_examples=40, deadline=None)
@given(st.data(), st.sampled_from([(3, 3), (4, 2), (2, 4), (1, 1), (3, 1)]),
       st.sampled_from([(), (2,)]), float_dtypes, st.sampled_from(["reduced", "complete"]))
def test_qr_matches_torch_with_gradients(data, size, batch, dtype, mode):
    a = data.draw(laid_out(batch + size, dtype, SMALL))
    a = type(a)(a.values + np.eye(*size, dtype=dtype) * 3, a.layout,
                a.layout.leaf_for(a.values + np.eye(*size, dtype=dtype) * 3, 0.0))
    differentiable = mode == "reduced" or size[0] <= size[1]
    for part in (0, 1):
        if differentiable:
            against_torch(torch, lambda x, part=part: tg.linalg.qr(x, mode)[part],
                          lambda x, part=part: torch.linalg.qr(x, mode)[part], a)
        else:
            ours = tg.linalg.qr(Tensor(a.values), mode)[part]
            assert_same(ours, torch.linalg.qr(torch.tensor(a.values), mode)[part], "values",
                        RTOL[np.dtype(dtype)])
    if differentiable:  # Q and R together
        against_torch(torch, lambda x: (lambda q, r: q.sum(-2, keepdim=True).mT * r)(
            *tg.linalg.qr(x, mode)), lambda x: (lambda q, r: q.sum(-2, keepdim=True).mT * r)(
            *torch.linalg.qr(x, mode)), a)


def test_qr_forms_errors_and_second_order_match_torch():
    rng = np.random.default_rng(6)
    a = rng.standard_normal((4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for some in (True, False):
            for ours, theirs in zip(Tensor(a).qr(some), torch.tensor(a).qr(some)):
                assert_same(ours, theirs, f"Tensor.qr({some})")
            for ours, theirs in zip(tg.qr(Tensor(a), some), torch.qr(torch.tensor(a), some)):
                assert_same(ours, theirs, f"torch.qr({some})")
    q, r = tg.linalg.qr(Tensor(a), mode="r")
    tq, tr = torch.linalg.qr(torch.tensor(a), mode="r")
    assert_same(q, tq, "mode r: Q")
    assert_same(r, tr, "mode r: R")
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    same_error(lambda: tg.linalg.qr(x, mode="r")[1].sum().backward(),
               lambda: torch.linalg.qr(tx, mode="r")[1].sum().backward())
    same_error(lambda: tg.linalg.qr(x, mode="complete")[0].sum().backward(),
               lambda: torch.linalg.qr(tx, mode="complete")[0].sum().backward())
    same_error(lambda: tg.linalg.qr(x, mode="x"), lambda: torch.linalg.qr(tx, mode="x"))
    same_error(lambda: tg.linalg.qr(Tensor([[1, 2]])), lambda: torch.linalg.qr(
        torch.tensor([[1, 2]])))
    w = rng.standard_normal((4, 3))
    assert_same(_second_order(tg, lambda v: tg.linalg.qr(v)[0], a, w),
                _second_order(torch, lambda v: torch.linalg.qr(v)[0], a, w), "second order Q",
                1e-8)
    w = rng.standard_normal((3, 3))
    assert_same(_second_order(tg, lambda v: tg.linalg.qr(v)[1], a, w),
                _second_order(torch, lambda v: torch.linalg.qr(v)[1], a, w), "second order R",
                1e-8)


# ---- torch.* functions --------------------------------------------------------------------------


def test_asarray_shares_or_copies_as_torch():
    array = np.array([1.0, 2.0])
    ours, theirs = tg.asarray(array), torch.asarray(array)
    array[0] = 9
    assert_same(ours, theirs, "shared")
    for kwargs in ({"copy": True}, {"dtype": tg.float32}):
        ours = tg.asarray(array, **kwargs)
        theirs = torch.asarray(array, **{k: torch.float32 if k == "dtype" else v
                                         for k, v in kwargs.items()})
        array[1] = -1
        assert_same(ours, theirs, f"copied: {kwargs}")
    same_error(lambda: tg.asarray(array, copy=False, dtype=tg.float32),
               lambda: torch.asarray(array, copy=False, dtype=torch.float32))
    for data in ([1, 2], [[1.5, 2.0]], 3.5, True, [tg.tensor(1.0), tg.tensor(2.0)]):
        theirs_data = [torch.tensor(1.0), torch.tensor(2.0)] if isinstance(data, list) and \
            isinstance(data[0], Tensor) else data
        assert_same(tg.asarray(data), torch.asarray(theirs_data), f"{data}")
    x, tx = tg.ones(2), torch.ones(2)
    assert tg.asarray(x) is x and torch.asarray(tx) is tx
    assert (tg.asarray(x, copy=True) is x) == (torch.asarray(tx, copy=True) is tx)
    w, tw = tg.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert tg.asarray(w).requires_grad == torch.asarray(tw).requires_grad
    assert [s.category for s in seen] == [UserWarning, UserWarning]
    ours, theirs = tg.asarray(w, requires_grad=False), torch.asarray(tw, requires_grad=False)
    assert (ours is w, w.requires_grad) == (theirs is tw, tw.requires_grad)
    ours, theirs = tg.asarray(x, requires_grad=True), torch.asarray(tx, requires_grad=True)
    assert (ours is x, x.requires_grad) == (theirs is tx, tx.requires_grad)
    same_error(lambda: tg.asarray([1, 2], requires_grad=True),
               lambda: torch.asarray([1, 2], requires_grad=True))


def test_frombuffer_matches_torch():
    raw = np.array([1.0, 2.0, 3.0], np.float32).tobytes()
    ours_buffer, their_buffer = bytearray(raw), bytearray(raw)
    for kwargs in ({}, {"count": 2, "offset": 4}, {"offset": 4}):
        ours = tg.frombuffer(ours_buffer, dtype=tg.float32, **kwargs)
        theirs = torch.frombuffer(their_buffer, dtype=torch.float32, **kwargs)
        assert_same(ours, theirs, f"{kwargs}")
    ours, theirs = tg.frombuffer(ours_buffer, dtype=tg.float32), torch.frombuffer(
        their_buffer, dtype=torch.float32)
    ours_buffer[0:4] = their_buffer[0:4] = np.float32(7).tobytes()  # shared memory
    ours[2] = 5
    theirs[2] = 5
    assert_same(ours, theirs, "shared")
    assert ours_buffer == their_buffer
    for buffer, kwargs in ((bytearray(raw), {"count": 3, "offset": 4}), (bytearray(7), {}),
                           (bytearray(0), {}), (bytearray(raw), {"offset": 12})):
        same_error(lambda b=buffer, k=kwargs: tg.frombuffer(b, dtype=tg.float32, **k),
                   lambda b=buffer, k=kwargs: torch.frombuffer(b, dtype=torch.float32, **k))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        read_only = tg.frombuffer(bytes(8), dtype=tg.float32)
    assert seen[0].category is UserWarning
    assert read_only.tolist() == [0.0, 0.0]
    assert tg.frombuffer(bytearray(8), dtype=tg.float32, requires_grad=True).requires_grad


def test_fill_detach_and_index_put__match_torch():
    x, tx = Tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    v, tv = Tensor(2.0, requires_grad=True), torch.tensor(2.0, requires_grad=True)
    ours, theirs = tg.fill(x * 1, v), torch.fill(tx * 1, tv)
    assert_same(ours, theirs, "fill")
    (ours * Tensor([1.0, 5.0])).sum().backward()
    (theirs * torch.tensor([1.0, 5.0])).sum().backward()
    assert_same(x.grad, tx.grad, "input's gradient")
    assert_same(v.grad, tv.grad, "value's gradient")
    assert_same(tg.fill(tg.ones(2, dtype=tg.int64), 3.7),
                torch.fill(torch.ones(2, dtype=torch.int64), 3.7), "int")
    same_error(lambda: tg.fill(tg.ones(2), Tensor([3.0])),
               lambda: torch.fill(torch.ones(2), torch.tensor([3.0])))
    d, td = tg.detach(x * 2), torch.detach(tx * 2)
    assert_same(d, td, "detach")
    assert d.requires_grad == td.requires_grad
    z, tz = tg.zeros(3), torch.zeros(3)
    assert tg.index_put_(z, (Tensor([1]),), Tensor(5.0)) is z
    torch.index_put_(tz, (torch.tensor([1]),), torch.tensor(5.0))
    assert_same(z, tz, "index_put_")


# arguments of each torch.name_ beyond the tensor, and the values it is tried on
_IN_PLACE_ARGS = {"clamp_": (0.0, 1.0), "clip_": (-0.5, 0.5), "clamp_max_": (0.5,),
                  "clamp_min_": (0.5,), "fill_": (2.0,), "ldexp_": ("other",),
                  "xlogy_": ("other",), "gcd_": ("int",), "lcm_": ("int",),
                  "resize_as_": ("other",), "addmv_": ("matrix", "vector"),
                  "logit_": (1e-3,)}


def test_the_in_place_torch_functions_are_torchs_list_and_match_it():
    theirs = {n for n in dir(torch) if n.endswith("_") and not n.startswith("_")
              and hasattr(torch.Tensor, n)}
    assert set(IN_PLACE_FUNCTIONS) == theirs - {"as_strided_", "conj_physical_",
                                                 "resize_as_sparse_"}
    values = np.array([0.25, 0.5, 0.75, 2.0])
    for name in set(IN_PLACE_FUNCTIONS) - {"index_put_"}:  # (index_put_: above)
        integer = name in ("gcd_", "lcm_")
        start = np.array([4, 6, 9, 10]) if integer else values
        extra = {"other": values[::-1].copy(), "int": np.array([6, 4, 3, 5]),
                 "matrix": np.ones((4, 4)), "vector": values}
        args = _IN_PLACE_ARGS.get(name, ())
        ours_args = [Tensor(extra[a]) if isinstance(a, str) else a for a in args]
        their_args = [torch.tensor(extra[a]) if isinstance(a, str) else a for a in args]
        x, tx = Tensor(start.copy()), torch.tensor(start.copy())
        ours, theirs = getattr(tg, name)(x, *ours_args), getattr(torch, name)(tx, *their_args)
        assert ours is x and theirs is tx, name
        assert_same(x, tx, name)


# ---- nn.init's old names, nn.utils ------------------------------------------------------------


OLD_INIT = {"uniform": (), "normal": (), "constant": (0.5,), "eye": (), "dirac": (),
            "xavier_uniform": (), "xavier_normal": (), "kaiming_uniform": (),
            "kaiming_normal": (), "orthogonal": (), "sparse": (0.5,)}


@pytest.mark.parametrize("name", sorted(OLD_INIT))
def test_old_init_names_warn_as_torch_and_fill_as_the_new(name):
    shape = (3, 3, 3) if name == "dirac" else (3, 4)
    args = OLD_INIT[name]
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        getattr(torch.nn.init, name)(torch.empty(*shape), *args)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        tg.manual_seed(0)
        old = getattr(tg.nn.init, name)(tg.empty(*shape), *args)
    assert [(w.category, str(w.message)) for w in ours] == \
        [(w.category, str(w.message)) for w in theirs]
    assert ours[0].filename == __file__  # (the caller's line, as PyTorch's stacklevel)
    tg.manual_seed(0)
    new = getattr(tg.nn.init, name + "_")(tg.empty(*shape), *args)
    assert old.tolist() == new.tolist()


def _fusion_pair(transposed, dtype):
    rng = np.random.default_rng(8)
    layers = []
    for lib in (tg, torch):
        conv = (lib.nn.ConvTranspose2d(3, 4, 3) if transposed else lib.nn.Conv2d(3, 4, 3))
        bn = lib.nn.BatchNorm2d(4)
        layers.append((conv.to(getattr(lib, dtype)), bn.to(getattr(lib, dtype))))
    values = {"weight": rng.standard_normal(tuple(layers[1][0].weight.shape)),
              "bias": rng.standard_normal(4), "running_mean": rng.standard_normal(4),
              "running_var": rng.uniform(0.5, 2, 4), "bn_weight": rng.standard_normal(4),
              "bn_bias": rng.standard_normal(4)}
    for lib, (conv, bn) in zip((tg, torch), layers):
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(values["weight"]))
            conv.bias.copy_(lib.tensor(values["bias"]))
            bn.running_mean.copy_(lib.tensor(values["running_mean"]))
            bn.running_var.copy_(lib.tensor(values["running_var"]))
            bn.weight.copy_(lib.tensor(values["bn_weight"]))
            bn.bias.copy_(lib.tensor(values["bn_bias"]))
        conv.eval()
        bn.eval()
    return layers


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fuse_conv_bn_matches_torch(transposed, dtype):
    (conv, bn), (their_conv, their_bn) = _fusion_pair(transposed, dtype)
    ours = tg.nn.utils.fuse_conv_bn_eval(conv, bn, transpose=transposed)
    theirs = torch.nn.utils.fuse_conv_bn_eval(their_conv, their_bn, transpose=transposed)
    rtol = RTOL[np.dtype(dtype)]
    for name in ("weight", "bias"):
        assert_same(getattr(ours, name), getattr(theirs, name), name, rtol)
        assert isinstance(getattr(ours, name), tg.nn.Parameter)
        assert getattr(ours, name).is_leaf and getattr(ours, name).requires_grad
    assert ours is not conv and conv.weight.tolist() == their_conv.weight.tolist()
    x = np.random.default_rng(9).standard_normal((1, 3, 5, 5)).astype(dtype)
    assert_same(ours(Tensor(x)), their_bn(their_conv(torch.tensor(x))), "fused layer",
                10 * rtol)
    w, b = tg.nn.utils.fusion.fuse_conv_bn_weights(conv.weight, None, bn.running_mean,
                                                   bn.running_var, bn.eps, None, None,
                                                   transposed)
    tw, tb = torch.nn.utils.fusion.fuse_conv_bn_weights(
        their_conv.weight, None, their_bn.running_mean, their_bn.running_var, their_bn.eps,
        None, None, transposed)
    assert_same(w, tw, "weights alone", rtol)
    assert_same(b, tb, "bias alone", rtol)
    conv.train()
    their_conv.train()
    same_error(lambda: tg.nn.utils.fuse_conv_bn_eval(conv, bn),
               lambda: torch.nn.utils.fuse_conv_bn_eval(their_conv, their_bn))


def test_fuse_linear_bn_matches_torch():
    rng = np.random.default_rng(10)
    pairs = []
    for lib in (tg, torch):
        linear, bn = lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4)
        with lib.no_grad():
            linear.weight.copy_(lib.tensor(np.linspace(-1, 1, 12).reshape(4, 3)))
            linear.bias.copy_(lib.tensor([0.1, 0.2, -0.3, 0.4]))
            bn.running_mean.copy_(lib.tensor([1.0, -1.0, 0.5, 0.0]))
            bn.running_var.copy_(lib.tensor([2.0, 0.5, 1.0, 3.0]))
            bn.weight.copy_(lib.tensor([1.5, -0.5, 2.0, 1.0]))
        pairs.append((linear.eval(), bn.eval()))
    (linear, bn), (their_linear, their_bn) = pairs
    ours = tg.nn.utils.fuse_linear_bn_eval(linear, bn)
    theirs = torch.nn.utils.fuse_linear_bn_eval(their_linear, their_bn)
    assert_same(ours.weight, theirs.weight, "weight")
    assert_same(ours.bias, theirs.bias, "bias")
    x = rng.standard_normal((5, 3))
    assert_same(ours(Tensor(x)), their_bn(their_linear(torch.tensor(x))), "fused layer")
    same_error(lambda: tg.nn.utils.fuse_linear_bn_eval(linear, tg.nn.BatchNorm1d(3).eval()),
               lambda: torch.nn.utils.fuse_linear_bn_eval(their_linear,
                                                          torch.nn.BatchNorm1d(3).eval()))


def test_nn_utils_old_names_and_paths_match_torch():
    grads = np.array([3.0, 4.0])
    results = []
    for lib in (tg, torch):
        p = lib.tensor([1.0, 1.0], requires_grad=True)
        p.grad = lib.tensor(grads)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            total = lib.nn.utils.clip_grad_norm([p], 1.0)
        results.append((total.item(), p.grad.tolist(), [(w.category, str(w.message))
                                                        for w in seen]))
    assert results[0] == results[1]
    for lib in (tg, torch):
        layer = lib.nn.Linear(2, 2)
        w = lib.ones(2, 2)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            out = lib.nn.utils.stateless.functional_call(layer, {"weight": w}, (lib.ones(2),))
        results.append((out.tolist() == (w @ lib.ones(2) + layer.bias).tolist(),
                        [(s.category, str(s.message)) for s in seen]))
        vector = lib.nn.utils.convert_parameters.parameters_to_vector(layer.parameters())
        assert tuple(vector.shape) == (6,)
    assert results[2] == results[3]
    tg.manual_seed(0)
    before = tg.rand(1).item()
    tg.manual_seed(0)
    skipped = tg.nn.utils.skip_init(tg.nn.Linear, 3, 2)
    assert tg.rand(1).item() == before  # (no draws spent)
    assert skipped.weight.shape == torch.nn.utils.skip_init(torch.nn.Linear, 3, 2).weight.shape

    class NoDevice(tg.nn.Module):
        def __init__(self, size):
            super().__init__()

    class TheirNoDevice(torch.nn.Module):
        def __init__(self, size):
            super().__init__()
    same_error(lambda: tg.nn.utils.skip_init(NoDevice, 2),
               lambda: torch.nn.utils.skip_init(TheirNoDevice, 2))
