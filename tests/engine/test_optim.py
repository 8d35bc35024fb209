"""optim.Adam against the update written out in plain Python floats."""

from __future__ import annotations

import numpy as np
import pytest

from tensorgrad import Tensor, no_grad, optim


class PlainAdam:
    """The Adam update on flat lists of Python floats, one parameter element at a time."""

    def __init__(self, params: list[list[float]], betas=(0.9, 0.999), eps=1e-8):
        self.params = params
        self.b1, self.b2 = betas
        self.eps = eps
        self.m = [[0.0] * len(p) for p in params]
        self.v = [[0.0] * len(p) for p in params]
        self.t = 0

    def step(self, grads: list[list[float]], lr: float) -> None:
        self.t += 1
        b1, b2 = self.b1, self.b2
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            for i in range(len(p)):
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2
                mhat = m[i] / (1 - b1**self.t)
                vhat = v[i] / (1 - b2**self.t)
                p[i] -= lr * mhat / (vhat**0.5 + self.eps)


def make_params(rng: np.random.Generator) -> list[Tensor]:
    return [
        Tensor(rng.normal(size=(3, 2)), requires_grad=True),
        Tensor(rng.normal(size=(3,)), requires_grad=True),
        Tensor(rng.normal(size=()), requires_grad=True),
    ]


def loss_of(params: list[Tensor], x: np.ndarray, y: np.ndarray) -> Tensor:
    w, b, scale = params
    prediction = (x @ w.T + b) * scale  # x: (4, 2) -> (4, 3)
    return ((prediction - y) ** 2).mean() + (w * w).sum() * 0.01


@pytest.mark.parametrize(
    "betas, eps", [((0.9, 0.999), 1e-8), ((0.85, 0.99), 1e-6), ((0.0, 0.5), 1e-3)]
)
def test_adam_matches_plain_python_update_with_decaying_lr(betas, eps):
    rng = np.random.default_rng(7)
    params = make_params(rng)
    reference = PlainAdam([p.data.ravel().tolist() for p in params], betas=betas, eps=eps)
    lr0, steps = 0.05, 8
    opt = optim.Adam(params, lr=lr0, betas=betas, eps=eps)
    for step in range(steps):
        x, y = rng.normal(size=(4, 2)), rng.normal(size=(4, 3))
        opt.zero_grad()
        loss_of(params, x, y).backward()
        grads = [p.grad.ravel().tolist() for p in params]
        lr = lr0 * (1 - step / steps)  # linear decay, set before every step
        opt.lr = lr
        opt.step()
        reference.step(grads, lr)
        for p, expected in zip(params, reference.params):
            np.testing.assert_allclose(p.data.ravel(), expected, rtol=1e-12, atol=1e-12)


def test_a_parameter_without_a_gradient_is_left_alone_moments_too():
    rng = np.random.default_rng(4)
    params = make_params(rng)
    w, b, scale = params
    opt = optim.Adam(params, lr=0.05)
    reference = PlainAdam([w.data.ravel().tolist(), scale.data.ravel().tolist()])
    for _ in range(3):
        opt.zero_grad()
        frozen = b.data.copy()
        ((w * w).sum() * scale).backward()  # b takes no part: it gets no gradient
        assert b.grad is None
        reference.step([w.grad.ravel().tolist(), scale.grad.ravel().tolist()], 0.05)
        opt.step()
        np.testing.assert_array_equal(b.data, frozen)
    for p, expected in zip((w, scale), reference.params):
        np.testing.assert_allclose(p.data.ravel(), expected, rtol=1e-12, atol=1e-12)
    state = opt.state_dict()["state"]  # b's moments stayed zero; the others moved
    assert not state[1]["exp_avg"].any() and not state[1]["exp_avg_sq"].any()
    assert state[0]["exp_avg"].all() and state[2]["exp_avg"].all()


def test_adam_first_step_moves_each_element_by_about_lr():
    """With bias correction, the first update is lr * g / (|g| + eps): a step of ~lr."""
    p = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    (p * Tensor([2.0, -5.0, 0.5])).sum().backward()
    opt.step()
    np.testing.assert_allclose(p.data, [0.9, -1.9, 2.9], rtol=1e-6)


def test_adam_zero_grad_clears_every_parameter_grad():
    params = make_params(np.random.default_rng(1))
    opt = optim.Adam(params)
    loss_of(params, np.ones((4, 2)), np.zeros((4, 3))).backward()
    assert all(p.grad is not None for p in params)
    opt.zero_grad()
    for p in params:
        assert p.grad is None or not np.any(p.grad)


def test_gradients_after_zero_grad_do_not_include_the_previous_step():
    params = make_params(np.random.default_rng(2))
    x, y = np.ones((4, 2)), np.zeros((4, 3))
    opt = optim.Adam(params)
    loss_of(params, x, y).backward()
    opt.zero_grad()
    loss_of(params, x, y).backward()
    first = [p.grad.copy() for p in params]
    opt.zero_grad()
    loss_of(params, x, y).backward()
    for p, g in zip(params, first):
        np.testing.assert_array_equal(p.grad, g)


def test_adam_keeps_float32_parameters_float32():
    p = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
    assert p.dtype == np.float32
    assert np.all(p.data < [1.0, 2.0])


def test_adam_keeps_each_parameter_dtype_when_dtypes_are_mixed():
    single = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    double = Tensor(np.array([3.0]), requires_grad=True)
    optim.Adam([single, double])
    assert single.dtype == np.float32
    assert double.dtype == np.float64


def test_adam_takes_in_data_assigned_to_a_parameter_and_updates_it():
    """As in PyTorch, `p.data = new` between steps: the next step starts from the new values."""
    rng = np.random.default_rng(5)
    params = make_params(rng)
    twins = [Tensor(p.data.copy(), requires_grad=True) for p in params]
    opt, twin_opt = optim.Adam(params, lr=0.05), optim.Adam(twins, lr=0.05)
    x, y = rng.normal(size=(4, 2)), rng.normal(size=(4, 3))
    for step in range(3):
        if step == 1:
            params[0].data = np.asfortranarray(params[0].data * 2.0 + 1.0)  # new, same shape
            params[2].data = np.array(0.5)
            with no_grad():  # the twin changes the same values in place
                twins[0] *= 2.0
                twins[0] += 1.0
                twins[2] *= 0.0
                twins[2] += 0.5
        for o, ps in ((opt, params), (twin_opt, twins)):
            o.zero_grad()
            loss_of(ps, x, y).backward()
            o.step()
        for p, twin in zip(params, twins):
            np.testing.assert_array_equal(p.data, twin.data)
    assert params[0].data.shape == (3, 2)


def test_adam_refuses_data_of_another_shape_naming_both():
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    opt = optim.Adam([w])
    w.data = np.ones((3, 2))
    w.grad = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"shape \(2, 3\) was given data of shape \(3, 2\)"):
        opt.step()


def test_adam_state_dict_round_trip_continues_the_same_run():
    rng = np.random.default_rng(6)
    params = make_params(rng)
    x, y = rng.normal(size=(4, 2)), rng.normal(size=(4, 3))
    opt = optim.Adam(params, lr=0.05, betas=(0.8, 0.9), eps=1e-6)
    for _ in range(2):
        opt.zero_grad()
        loss_of(params, x, y).backward()
        opt.step()
    state = opt.state_dict()
    assert state["param_groups"][0]["lr"] == 0.05 and state["state"][0]["step"] == 2
    assert state["state"][0]["exp_avg"].shape == (3, 2)
    copies = [Tensor(p.data.copy(), requires_grad=True) for p in params]
    resumed = optim.Adam(copies, lr=1.0)
    resumed.load_state_dict(state)
    assert resumed.lr == 0.05 and resumed.param_groups[0]["betas"] == (0.8, 0.9)
    for o, ps in ((opt, params), (resumed, copies)):
        o.zero_grad()
        loss_of(ps, x, y).backward()
        o.step()
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(p.data, q.data)


def test_adam_lr_property_and_param_groups_are_one_setting():
    opt = optim.Adam([Tensor([1.0], requires_grad=True)], lr=0.1)
    opt.lr = 0.2
    assert opt.param_groups[0]["lr"] == 0.2
    opt.param_groups[0]["lr"] = 0.3
    assert opt.lr == 0.3


def test_a_model_larger_than_one_update_chunk_matches_plain_python():
    """Large models are updated in cache-sized chunks: every element, once, as a small one."""
    rng = np.random.default_rng(11)
    sizes = [(150, 130), (7,), (20000,)]  # together more than two chunks, cut mid-tensor
    params = [Tensor(rng.normal(size=shape), requires_grad=True) for shape in sizes]
    reference = PlainAdam([p.data.ravel().tolist() for p in params])
    opt = optim.Adam(params, lr=0.01)
    for _ in range(3):
        grads = [rng.normal(size=p.shape) for p in params]
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        reference.step([g.ravel().tolist() for g in grads], 0.01)
    for p, expected in zip(params, reference.params):
        np.testing.assert_allclose(p.data.ravel(), expected, rtol=1e-12, atol=1e-12)
