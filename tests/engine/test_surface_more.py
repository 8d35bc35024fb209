"""More of PyTorch's surface that third-party code uses, without torch (held against PyTorch
in ``test_surface_more_torch.py``): gradients against central finite differences, the matrix
functions against their defining identities, values worked out by hand, memory shared with
forked processes, and the hooks that run after a leaf's gradient is accumulated."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Tensor
from tensorgrad.surface import IN_PLACE_FUNCTIONS


def finite_differences(fn, a, eps=1e-6):
    """d(sum(fn(a) * w))/da by central differences, w fixed weights (float64)."""
    weights = np.random.default_rng(0).standard_normal(fn(Tensor(a)).shape)
    grad = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        step = np.zeros_like(a)
        step[i] = eps
        grad[i] = ((fn(Tensor(a + step)).detach().numpy()
                    - fn(Tensor(a - step)).detach().numpy()) * weights
                   ).sum() / (2 * eps)
    x = Tensor(a, requires_grad=True)
    (fn(x) * Tensor(weights)).sum().backward()
    return x.grad.numpy(), grad


def assert_gradient(fn, a, rtol=1e-6):
    ours, expected = finite_differences(fn, a)
    np.testing.assert_allclose(ours, expected, rtol=rtol, atol=rtol)


def assert_second_order(fn, a, rtol=1e-5):
    """The gradient of the recorded gradient against finite differences of the gradient."""
    weights = np.random.default_rng(1).standard_normal(fn(Tensor(a)).shape)

    def gradient(x):
        (g,) = tg.autograd.grad((fn(x) * Tensor(weights)).sum(), x, create_graph=True)
        return g
    x = Tensor(a, requires_grad=True)
    (plain,) = tg.autograd.grad((fn(x) * Tensor(weights)).sum(), x)
    np.testing.assert_allclose(gradient(x).detach().numpy(), plain.numpy(), rtol=1e-10,
                               atol=1e-12)  # (the recorded gradient is the gradient)
    assert_gradient(lambda x: gradient(x if x.requires_grad else x.requires_grad_()), a, rtol)


RNG = np.random.default_rng(2)


# ---- matrix_exp, pinverse, qr ----------------------------------------------------------------


def test_matrix_exp_of_known_matrices():
    t = 0.7
    rotation = tg.matrix_exp(Tensor([[0.0, t], [-t, 0.0]]))
    np.testing.assert_allclose(rotation.numpy(), [[np.cos(t), np.sin(t)], [-np.sin(t),
                                                                           np.cos(t)]])
    np.testing.assert_allclose(tg.linalg.matrix_exp(Tensor(np.diag([1.0, -2.0]))).numpy(),
                               np.diag(np.exp([1.0, -2.0])))
    nilpotent = Tensor([[0.0, 3.0], [0.0, 0.0]])
    np.testing.assert_allclose(nilpotent.matrix_exp().numpy(), [[1.0, 3.0], [0.0, 1.0]])
    big = RNG.standard_normal((3, 4, 4)) * 5  # (norms that need squaring)
    product = tg.matrix_exp(Tensor(big)) @ tg.matrix_exp(Tensor(-big))
    np.testing.assert_allclose(product.numpy(), np.broadcast_to(np.eye(4), (3, 4, 4)),
                               atol=1e-8)
    assert tg.matrix_exp(tg.zeros(2, 0, 0)).shape == (2, 0, 0)
    assert tg.matrix_exp(tg.ones(2, 2, dtype=tg.float32)).dtype == np.float32
    assert np.isnan(tg.matrix_exp(Tensor([[np.nan, 0.0], [0.0, 1.0]])).numpy()).all()
    for bad, error in ((np.ones((2, 3)), RuntimeError), (np.ones(3), RuntimeError),
                       (np.ones((2, 2), np.int64), RuntimeError)):
        with pytest.raises(error):
            tg.matrix_exp(Tensor(bad))


def test_matrix_exp_gradients_match_finite_differences():
    assert_gradient(tg.matrix_exp, RNG.standard_normal((2, 3, 3)))
    assert_gradient(tg.matrix_exp, RNG.standard_normal((3, 3)) * 4)
    assert_second_order(tg.matrix_exp, RNG.standard_normal((3, 3)))


def test_pinverse_meets_the_penrose_conditions_and_its_gradients_the_differences():
    for shape in ((4, 2), (2, 4), (3, 3), (2, 3, 2)):
        a = RNG.standard_normal(shape)
        p = tg.pinverse(Tensor(a)).numpy()
        np.testing.assert_allclose(a @ p @ a, a, atol=1e-10)
        np.testing.assert_allclose(p @ a @ p, p, atol=1e-10)
        assert_gradient(lambda x: x.pinverse(), a)
    assert_second_order(tg.pinverse, RNG.standard_normal((3, 2)))
    singular = tg.pinverse(Tensor([[1.0, 2.0], [2.0, 4.0]]))
    np.testing.assert_allclose(singular.numpy(), [[0.04, 0.08], [0.08, 0.16]])
    assert tg.pinverse(tg.zeros(0, 3)).shape == (3, 0)
    with pytest.raises(RuntimeError):
        tg.pinverse(tg.ones(3))


@pytest.mark.parametrize("shape", [(4, 2), (3, 3), (2, 4), (2, 3, 2)])
def test_qr_factors_and_their_gradients(shape):
    a = RNG.standard_normal(shape) + np.eye(*shape[-2:]) * 2
    q, r = tg.linalg.qr(Tensor(a))
    k = min(shape[-2:])
    np.testing.assert_allclose((q.mT @ q).numpy(), np.broadcast_to(np.eye(k), q.shape[:-2]
                                                                     + (k, k)), atol=1e-12)
    np.testing.assert_allclose((q @ r).numpy(), a, atol=1e-12)
    assert np.allclose(np.tril(r.numpy(), -1), 0)
    assert_gradient(lambda x: tg.linalg.qr(x)[0], a)
    assert_gradient(lambda x: tg.linalg.qr(x)[1], a)
    assert_second_order(lambda x: tg.linalg.qr(x)[0] * 2 + tg.linalg.qr(x)[1].sum(), a)


def test_qr_modes_and_the_deprecated_forms():
    a = Tensor(RNG.standard_normal((4, 3)))
    assert tg.linalg.qr(a, "complete").Q.shape == (4, 4)
    assert tg.linalg.qr(a, "r").Q.shape == (0,)
    with pytest.warns(UserWarning, match="torch.qr is deprecated"):
        q, r = a.qr(some=False)
    assert (q.shape, r.shape) == ((4, 4), (4, 3))
    with pytest.warns(UserWarning):
        assert tg.qr(a)[0].shape == (4, 3)
    with pytest.raises(RuntimeError, match="mode='r'"):
        tg.linalg.qr(a.requires_grad_(), "r").R.sum().backward()
    with pytest.raises(RuntimeError, match="unrecognized mode"):
        tg.linalg.qr(a, "x")


# ---- the Tensor methods ---------------------------------------------------------------------


def test_addbmm_sums_the_batch_of_products():
    m, b1, b2 = RNG.standard_normal((2, 4)), RNG.standard_normal((3, 2, 5)), \
        RNG.standard_normal((3, 5, 4))
    out = tg.addbmm(Tensor(m), Tensor(b1), Tensor(b2), beta=0.5, alpha=2)
    np.testing.assert_allclose(out.numpy(), 0.5 * m + 2 * np.einsum("bij,bjk->ik", b1, b2))
    assert_gradient(lambda x: Tensor(m).addbmm(x, Tensor(b2)), b1)
    x = Tensor(m.copy())
    assert x.addbmm_(Tensor(b1), Tensor(b2)) is x
    nan = Tensor(np.full((2, 4), np.nan))
    assert np.isfinite(tg.addbmm(nan, Tensor(b1), Tensor(b2), beta=0).numpy()).all()
    with pytest.raises(RuntimeError, match="same number of batches"):
        tg.addbmm(Tensor(m), Tensor(b1), Tensor(b2[:2]))


def test_allclose_fill_diagonal_new_and_output_nr():
    x = Tensor([1.0, np.nan, np.inf])
    assert not x.allclose(x) and x.allclose(x, equal_nan=True)
    with pytest.raises(RuntimeError):
        x.allclose(Tensor([1, 2, 3]))
    filled = tg.zeros(5, 2).fill_diagonal_(7, wrap=True)
    assert filled.tolist() == [[7, 0], [0, 7], [0, 0], [7, 0], [0, 7]]
    assert tg.zeros(5, 2).fill_diagonal_(7).sum().item() == 14
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    (w * 1).fill_diagonal_(5.0).sum().backward()
    assert w.grad.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    y = tg.ones(2, dtype=tg.float32)
    assert y.new(2, 3).dtype == np.float32 and y.new(2, 3).shape == (2, 3)
    assert y.new([1, 2]).tolist() == [1.0, 2.0] and y.new().shape == (0,)
    assert tg.ones(2, dtype=tg.int64).new([1.7]).tolist() == [1]
    with pytest.raises(TypeError):
        y.new(3.5)
    assert y.output_nr == (y * 2).output_nr == 0
    assert not y.is_inference()


def test_apply_map_resize_put_and_nonzero_static():
    x = tg.arange(6.0).reshape(2, 3)
    assert x.t().apply_(lambda v: v * 10).tolist() == [[0, 30], [10, 40], [20, 50]]
    assert x.tolist() == [[0, 10, 20], [30, 40, 50]]  # (written through the view)
    assert x.map_(Tensor([1.0, 2.0, 3.0]), lambda a, b: a + b).tolist() == \
        [[1, 12, 23], [31, 42, 53]]
    assert tg.tensor([3, 4]).apply_(lambda v: v / 2).tolist() == [1, 2]  # (truncated)
    with pytest.raises(RuntimeError, match="requires grad"):
        tg.ones(2, requires_grad=True).apply_(abs)
    y = tg.arange(6.0).reshape(2, 3)
    assert y.resize_(3, 2).tolist() == [[0, 1], [2, 3], [4, 5]]
    assert y.resize_(2, 2).tolist() == [[0, 1], [2, 3]]
    assert y.resize_(4, 2)[:3].tolist() == [[0, 1], [2, 3], [4, 5]]  # (grown: its values kept)
    assert tg.arange(6.0)[2:].resize_(2).tolist() == [2.0, 3.0]
    with pytest.raises(RuntimeError, match="cannot resize"):
        tg.ones(2, requires_grad=True).resize_(2)
    z = tg.zeros(2, 3)
    assert z.put_(Tensor([0, -1]), Tensor([1.0, 2.0])).tolist() == [[1, 0, 0], [0, 0, 2]]
    assert z.put(Tensor([0, 0]), Tensor([1.0, 1.0]), accumulate=True)[0, 0].item() == 3
    with pytest.raises(IndexError):
        z.put(Tensor([6]), Tensor([1.0]))
    s = Tensor([1.0, 2.0], requires_grad=True)
    (z.put(Tensor([1, 3]), s) * Tensor([[1.0, 5.0, 1.0], [7.0, 1.0, 1.0]])).sum().backward()
    assert s.grad.tolist() == [5.0, 7.0]
    found = tg.nonzero_static(Tensor([[0, 1], [2, 0]]), size=3, fill_value=-7)
    assert found.tolist() == [[0, 1], [1, 0], [-7, -7]] and found.dtype == np.int64


def test_shared_memory_is_seen_by_a_forked_process():
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    x = tg.zeros(3)
    assert not x.is_shared()
    assert x.share_memory_() is x and x.is_shared() and x[1:].is_shared()

    def in_child(tensor):
        pid = os.fork()
        if pid == 0:  # the child: an in-place write, then out without cleanup
            tensor.add_(Tensor([1.0, 2.0, 3.0]))
            os._exit(0)
        os.waitpid(pid, 0)
    in_child(x)
    assert x.tolist() == [1.0, 2.0, 3.0]  # seen here
    private = tg.zeros(3)
    in_child(private)
    assert private.tolist() == [0.0, 0.0, 0.0]  # (not shared: the child's copy)


# ---- register_post_accumulate_grad_hook ----------------------------------------------------


def test_post_accumulate_grad_hooks_run_after_accumulation():
    p = Tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = p.register_post_accumulate_grad_hook(lambda t: seen.append((t is p,
                                                                         t.grad.tolist())))
    (p * 3).sum().backward()
    (p * 3).sum().backward()
    assert seen == [(True, [3.0, 3.0]), (True, [6.0, 6.0])]
    tg.autograd.grad((p * 3).sum(), p)
    assert len(seen) == 2  # (no .grad written: no call)
    handle.remove()
    (p * 3).sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        (p * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="require gradient"):
        Tensor([1.0]).register_post_accumulate_grad_hook(print)
    p.register_post_accumulate_grad_hook(lambda t: t.grad)
    with pytest.raises(RuntimeError, match="should return None"):
        (p * 3).sum().backward()


def test_an_optimizer_steps_inside_the_backward_pass():
    layer = tg.nn.Linear(2, 1)
    before = [p.detach().clone() for p in layer.parameters()]
    optimizers = {p: tg.optim.SGD([p], lr=0.5) for p in layer.parameters()}

    def step(p):
        optimizers[p].step()
        optimizers[p].zero_grad()
    for p in layer.parameters():
        p.register_post_accumulate_grad_hook(step)
    layer(tg.ones(1, 2)).sum().backward()
    after = list(layer.parameters())
    assert after[0].tolist() == (before[0] - 0.5).tolist()
    assert after[1].tolist() == (before[1] - 0.5).tolist()
    assert all(p.grad is None for p in after)


def test_a_post_accumulate_hook_on_a_captured_step_is_refused():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    step = tg.capture(lambda x: (w * x).sum())
    x = np.array([3.0, 4.0])
    for _ in range(3):
        w.grad = None
        step(x)
    handle = w.register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(tg.CaptureError, match="gradient hook"):
        step(x)
    handle.remove()
    w.grad = None
    step(x)
    assert w.grad.tolist() == [3.0, 4.0]


# ---- torch.* functions ---------------------------------------------------------------------


def test_inference_mode_is_told_apart_from_no_grad():
    assert not tg.is_inference_mode_enabled()
    with tg.inference_mode():
        assert tg.is_inference_mode_enabled()
        with tg.inference_mode(False):
            assert not tg.is_inference_mode_enabled()
        assert tg.is_inference_mode_enabled()
    with tg.no_grad():
        assert not tg.is_inference_mode_enabled()


def test_asarray_frombuffer_fill_detach_and_chain_matmul():
    array = np.array([1.0, 2.0])
    shared = tg.asarray(array)
    array[0] = 5
    assert shared.tolist() == [5.0, 2.0]
    assert tg.asarray(array, copy=True)._data is not array
    with pytest.raises(ValueError, match="alias"):
        tg.asarray(array, dtype=tg.float32, copy=False)
    buffer = bytearray(np.array([1.0, 2.0], np.float32).tobytes())
    view = tg.frombuffer(buffer, dtype=tg.float32)
    view[0] = 4
    assert np.frombuffer(buffer, np.float32).tolist() == [4.0, 2.0]
    with pytest.raises(ValueError):
        tg.frombuffer(bytearray(7), dtype=tg.float32)
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert tg.fill(x, 3).tolist() == [3.0, 3.0] and x.tolist() == [1.0, 2.0]
    assert not tg.detach(x * 2).requires_grad
    with pytest.warns(UserWarning, match="chain_matmul is deprecated"):
        assert tg.chain_matmul(tg.ones(2, 3), tg.ones(3, 4)).tolist() == [[3.0] * 4] * 2


def test_the_in_place_functions_are_the_methods():
    for name in set(IN_PLACE_FUNCTIONS) - {"index_put_", "resize_as_", "gcd_", "lcm_",
                                           "ldexp_", "xlogy_", "addmv_", "clamp_", "clip_",
                                           "clamp_min_", "clamp_max_", "fill_"}:
        x, y = Tensor([0.25, 0.5]), Tensor([0.25, 0.5])
        assert getattr(tg, name)(x) is x, name
        np.testing.assert_array_equal(x.numpy(), getattr(y, name)().numpy(), err_msg=name)
    x = Tensor([-1.0, 2.0])
    assert tg.clamp_(x, 0, 1) is x and x.tolist() == [0.0, 1.0]
    assert "exp_" in dir(tg) or hasattr(tg, "exp_")


# ---- nn.init's old names, nn.utils ----------------------------------------------------------


def test_old_init_names_warn_and_do_what_the_new_do():
    for name in ("uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform",
                 "kaiming_normal", "orthogonal"):
        tg.manual_seed(3)
        with pytest.warns(FutureWarning, match=f"`nn.init.{name}` is now deprecated"):
            old = getattr(tg.nn.init, name)(tg.empty(3, 4))
        tg.manual_seed(3)
        assert old.tolist() == getattr(tg.nn.init, name + "_")(tg.empty(3, 4)).tolist()
    with pytest.warns(FutureWarning):
        assert tg.nn.init.constant(tg.empty(2), 0.5).tolist() == [0.5, 0.5]
    with pytest.warns(FutureWarning):
        assert tg.nn.init.eye(tg.empty(2, 2)).tolist() == [[1, 0], [0, 1]]


@pytest.mark.parametrize("transposed", [False, True])
def test_fused_conv_bn_computes_what_the_two_layers_compute(transposed):
    conv = (tg.nn.ConvTranspose2d(2, 3, 3) if transposed else tg.nn.Conv2d(2, 3, 3)).eval()
    bn = tg.nn.BatchNorm2d(3).eval()
    with tg.no_grad():
        bn.running_mean.copy_(Tensor([0.5, -1.0, 2.0]))
        bn.running_var.copy_(Tensor([2.0, 0.5, 1.5]))
        bn.weight.copy_(Tensor([1.5, -2.0, 0.5]))
        bn.bias.copy_(Tensor([0.1, 0.2, 0.3]))
    fused = tg.nn.utils.fuse_conv_bn_eval(conv, bn, transpose=transposed)
    x = Tensor(RNG.standard_normal((2, 2, 5, 5)))
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(),
                               atol=1e-12)
    assert fused is not conv and fused.weight.is_leaf
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        tg.nn.utils.fuse_conv_bn_eval(conv.train(), bn)


def test_fused_linear_bn_and_the_other_nn_utils_names():
    from tensorgrad.nn.utils.convert_parameters import parameters_to_vector
    from tensorgrad.nn.utils.fusion import fuse_linear_bn_eval

    linear, bn = tg.nn.Linear(3, 2).eval(), tg.nn.BatchNorm1d(2).eval()
    with tg.no_grad():
        bn.running_var.copy_(Tensor([4.0, 0.25]))
    x = Tensor(RNG.standard_normal((4, 3)))
    np.testing.assert_allclose(fuse_linear_bn_eval(linear, bn)(x).detach().numpy(),
                               bn(linear(x)).detach().numpy(), atol=1e-12)
    assert parameters_to_vector(linear.parameters()).shape == (8,)
    p = Tensor([1.0], requires_grad=True)
    p.grad = Tensor([4.0])
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        assert tg.nn.utils.clip_grad_norm([p], 1.0).item() == 4.0
    with pytest.warns(FutureWarning, match="torch.func.functional_call"):
        out = tg.nn.utils.stateless.functional_call(linear, {"bias": tg.zeros(2)}, (x,))
    np.testing.assert_allclose(out.detach().numpy(), (x @ linear.weight.T).detach().numpy())
    tg.manual_seed(0)
    first = tg.rand(1).item()
    tg.manual_seed(0)
    assert tg.nn.utils.skip_init(tg.nn.Linear, 4, 5).weight.shape == (5, 4)
    assert tg.rand(1).item() == first  # (no draws spent)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tg.nn.utils.fuse_conv_bn_weights is tg.nn.utils.fusion.fuse_conv_bn_weights


def test_a_shared_model_trains_in_a_forked_child_with_sgd():
    """Hogwild training's pattern: ``model.share_memory()``, then a forked child steps SGD
    (in place) on the model, and the parent sees the new weights."""
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    model = tg.nn.Linear(2, 1)
    assert model.share_memory() is model
    assert all(p.is_shared() for p in model.parameters())
    # (the gradient of sum(x @ w.T + b) at x = ones is all ones)
    expected = [p.detach() - 0.5 for p in model.parameters()]
    pid = os.fork()
    if pid == 0:
        optimizer = tg.optim.SGD(model.parameters(), lr=0.5)
        model(tg.ones(1, 2)).sum().backward()
        optimizer.step()
        os._exit(0)
    os.waitpid(pid, 0)
    for p, e in zip(model.parameters(), expected):
        assert p.tolist() == e.tolist()
