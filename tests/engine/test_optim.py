"""optim against the updates written out in plain Python (PyTorch itself: test_nn_torch.py,
and here copies made mid-run)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from torch_compare import assert_same

import tensorgrad
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
    reference = PlainAdam([p.flatten().tolist() for p in params], betas=betas, eps=eps)
    lr0, steps = 0.05, 8
    opt = optim.Adam(params, lr=lr0, betas=betas, eps=eps)
    for step in range(steps):
        x, y = rng.normal(size=(4, 2)), rng.normal(size=(4, 3))
        opt.zero_grad()
        loss_of(params, x, y).backward()
        grads = [p.grad.numpy().ravel().tolist() for p in params]
        lr = lr0 * (1 - step / steps)  # linear decay, set before every step
        opt.lr = lr
        opt.step()
        reference.step(grads, lr)
        for p, expected in zip(params, reference.params):
            np.testing.assert_allclose(p.detach().numpy().ravel(), expected, rtol=1e-12, atol=1e-12)


def test_a_parameter_without_a_gradient_is_left_alone_moments_too():
    rng = np.random.default_rng(4)
    params = make_params(rng)
    w, b, scale = params
    opt = optim.Adam(params, lr=0.05)
    reference = PlainAdam([w.flatten().tolist(), scale.flatten().tolist()])
    for _ in range(3):
        opt.zero_grad()
        frozen = b.detach().numpy().copy()
        ((w * w).sum() * scale).backward()  # b takes no part: it gets no gradient
        assert b.grad is None
        reference.step([w.grad.numpy().ravel().tolist(), scale.grad.numpy().ravel().tolist()], 0.05)
        opt.step()
        np.testing.assert_array_equal(b.data, frozen)
    for p, expected in zip((w, scale), reference.params):
        np.testing.assert_allclose(p.detach().numpy().ravel(), expected, rtol=1e-12, atol=1e-12)
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
        assert p.grad is None or not p.grad.any()


def test_gradients_after_zero_grad_do_not_include_the_previous_step():
    params = make_params(np.random.default_rng(2))
    x, y = np.ones((4, 2)), np.zeros((4, 3))
    opt = optim.Adam(params)
    loss_of(params, x, y).backward()
    opt.zero_grad()
    loss_of(params, x, y).backward()
    first = [p.grad.numpy().copy() for p in params]
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
    assert np.all(p.detach().numpy() < [1.0, 2.0])


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
    twins = [Tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
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
    copies = [Tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
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
    reference = PlainAdam([p.flatten().tolist() for p in params])
    opt = optim.Adam(params, lr=0.01)
    for _ in range(3):
        grads = [rng.normal(size=p.shape) for p in params]
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        reference.step([g.ravel().tolist() for g in grads], 0.01)
    for p, expected in zip(params, reference.params):
        np.testing.assert_allclose(p.detach().numpy().ravel(), expected, rtol=1e-12, atol=1e-12)


# ---- PyTorch's optimizers: groups, a step count per parameter, AdamW, SGD ------------------------


class PlainAdamW(PlainAdam):
    """PlainAdam with PyTorch's decoupled weight decay, and each parameter's own step count."""

    def __init__(self, params, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, betas, eps)
        self.weight_decay = weight_decay
        self.steps = [0] * len(params)

    def step(self, grads, lr):
        for k, (p, g, m, v) in enumerate(zip(self.params, grads, self.m, self.v)):
            if g is None:
                continue
            self.steps[k] += 1
            t = self.steps[k]
            for i in range(len(p)):
                p[i] *= 1 - lr * self.weight_decay
                m[i] = self.b1 * m[i] + (1 - self.b1) * g[i]
                v[i] = self.b2 * v[i] + (1 - self.b2) * g[i] ** 2
                p[i] -= lr * (m[i] / (1 - self.b1**t)) / ((v[i] / (1 - self.b2**t)) ** 0.5
                                                           + self.eps)


def test_each_parameter_counts_its_own_steps_as_in_pytorch():
    """A parameter first given a gradient at step 4 takes Adam's first step then (a step of
    about lr), not the fourth's."""
    rng = np.random.default_rng(12)
    params = make_params(rng)
    reference = PlainAdamW([p.flatten().tolist() for p in params])
    opt = optim.Adam(params, lr=0.05)
    for step in range(6):
        grads = [rng.normal(size=p.shape) for p in params]
        if step < 3:
            grads[1] = None  # b has no gradient for three steps
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        reference.step([None if g is None else g.ravel().tolist() for g in grads], 0.05)
        for p, expected in zip(params, reference.params):
            np.testing.assert_allclose(p.detach().numpy().ravel(), expected, rtol=1e-12, atol=1e-12)
    assert [opt.state[p]["step"] for p in params] == [6, 3, 6]
    assert [s["step"] for s in opt.state_dict()["state"].values()] == [6, 3, 6]


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adamw_decays_the_weights_apart_from_the_gradient(weight_decay):
    rng = np.random.default_rng(13)
    params = make_params(rng)
    reference = PlainAdamW([p.flatten().tolist() for p in params], betas=(0.9, 0.95),
                           weight_decay=weight_decay)
    opt = optim.AdamW(params, lr=0.02, betas=(0.9, 0.95), weight_decay=weight_decay)
    for _ in range(4):
        grads = [rng.normal(size=p.shape) for p in params]
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        reference.step([g.ravel().tolist() for g in grads], 0.02)
    for p, expected in zip(params, reference.params):
        np.testing.assert_allclose(p.detach().numpy().ravel(), expected, rtol=1e-12, atol=1e-12)


def test_adamws_defaults_are_pytorchs():
    opt = optim.AdamW([Tensor([1.0], requires_grad=True)])
    group = opt.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"]) == \
        (1e-3, (0.9, 0.999), 1e-8, 1e-2)
    assert optim.Adam([Tensor([1.0], requires_grad=True)]).param_groups[0]["weight_decay"] == 0


def test_adam_weight_decay_is_l2_through_the_gradient():
    p = Tensor([2.0, -1.0], requires_grad=True)
    q = Tensor([2.0, -1.0], requires_grad=True)
    opt, plain = optim.Adam([p], lr=0.1, weight_decay=0.5), optim.Adam([q], lr=0.1)
    for _ in range(3):
        g = np.array([0.3, 0.2])
        p.grad, q.grad = g, g + 0.5 * q.data  # the same gradient, the decay added by hand
        opt.step()
        plain.step()
    np.testing.assert_allclose(p.data, q.data, rtol=1e-14)


@pytest.mark.parametrize("momentum, dampening, nesterov, weight_decay",
                         [(0.0, 0.0, False, 0.0), (0.9, 0.0, False, 0.0),
                          (0.9, 0.0, True, 0.1), (0.5, 0.25, False, 0.0)])
def test_sgd_matches_its_update_written_out(momentum, dampening, nesterov, weight_decay):
    rng = np.random.default_rng(14)
    p = Tensor(rng.normal(size=5), requires_grad=True)
    x, buffer = p.detach().numpy().copy(), None
    opt = optim.SGD([p], lr=0.1, momentum=momentum, dampening=dampening, nesterov=nesterov,
                    weight_decay=weight_decay)
    for _ in range(4):
        g = rng.normal(size=5)
        p.grad = g
        opt.step()
        d = g + weight_decay * x
        if momentum:
            buffer = d.copy() if buffer is None else momentum * buffer + (1 - dampening) * d
            d = d + momentum * buffer if nesterov else buffer
        x = x - 0.1 * d
        np.testing.assert_allclose(p.data, x, rtol=1e-14)


def test_parameter_groups_have_their_own_settings():
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a], "lr": 0.5}, {"params": b}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.1]
    a.grad = b.grad = np.array([1.0])
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.5, 0.9])
    c = Tensor([1.0], requires_grad=True)
    opt.add_param_group({"params": [c], "momentum": 0.9})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.9
    layout = opt.state_dict()["param_groups"]
    assert [g["params"] for g in layout] == [[0], [1], [2]]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_adam_takes_in_a_parameter_added_to_a_groups_list():
    """PyTorch reads group["params"] at every step; so does Adam, though it keeps the values
    in flat buffers: a change to the list makes them anew, keeping each parameter's state."""
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0], requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    a.grad = np.array([1.0, 1.0])
    opt.step()
    kept = opt.state[a]["exp_avg"].copy()
    opt.param_groups[0]["params"].append(b)
    a.grad, b.grad = np.array([1.0, 1.0]), np.array([1.0])
    opt.step()
    assert opt.state[a]["step"] == 2 and opt.state[b]["step"] == 1
    np.testing.assert_allclose(b.data, [2.9])  # a first step: lr
    np.testing.assert_allclose(opt.state[a]["exp_avg"], kept * 0.9 + 0.1)
    opt.param_groups[0]["params"][1] = c = Tensor([5.0], requires_grad=True)
    c.grad = np.array([-1.0])
    opt.step()
    np.testing.assert_allclose(c.data, [5.1])
    np.testing.assert_allclose(b.data, [2.9])  # no longer in the optimizer


def test_state_dict_round_trip_with_groups_and_steps_apart():
    rng = np.random.default_rng(15)
    params = make_params(rng)
    twins = [Tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]

    def groups(ps):
        return [{"params": ps[:2], "weight_decay": 0.1}, {"params": ps[2:], "lr": 0.01}]

    opt = optim.AdamW(groups(params), lr=0.05, amsgrad=True)
    for step in range(3):
        for i, p in enumerate(params):
            p.grad = None if (i == 0 and step == 1) else rng.normal(size=p.shape)
        opt.step()
    state = opt.state_dict()
    assert [s["step"] for s in state["state"].values()] == [2, 3, 3]
    assert set(state["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    for twin, p in zip(twins, params):
        twin.data[...] = p.data
    resumed = optim.AdamW(groups(twins), lr=1.0, amsgrad=True)
    resumed.load_state_dict(state)
    assert [g["lr"] for g in resumed.param_groups] == [0.05, 0.01]
    for _ in range(2):
        grads = [rng.normal(size=p.shape) for p in params]
        for ps, o in ((params, opt), (twins, resumed)):
            for p, g in zip(ps, grads):
                p.grad = g
            o.step()
    for p, q in zip(params, twins):
        np.testing.assert_array_equal(p.data, q.data)
    state["state"][0]["exp_avg"][...] = 7.0  # the state dict's arrays are copies
    assert not np.any(opt.state[params[0]]["exp_avg"] == 7.0)


def test_loading_checks_groups_numbers_and_shapes():
    params = make_params(np.random.default_rng(16))
    opt = optim.Adam(params)
    state = opt.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam([{"params": params[:1]}, {"params": params[1:]}]).load_state_dict(state)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.Adam(params[:2]).load_state_dict(state)
    wrong = {"state": {0: {**state["state"][0], "exp_avg": np.zeros(3)}},
             "param_groups": state["param_groups"]}
    with pytest.raises(ValueError, match=r"exp_avg of shape \(3,\) for a parameter of shape"):
        opt.load_state_dict(wrong)
    with pytest.raises(ValueError, match="state for parameters \\[5\\]"):
        opt.load_state_dict({"state": {5: state["state"][0]}})
    with pytest.raises(ValueError, match="step count"):
        opt.load_state_dict({"state": {0: {**state["state"][0], "step": -1}}})


@pytest.mark.parametrize("make", [
    lambda ps: optim.Adam(ps, lr=-0.1), lambda ps: optim.AdamW(ps, betas=(0.9, 1.0)),
    lambda ps: optim.AdamW(ps, eps=-1.0), lambda ps: optim.SGD(ps, weight_decay=-1.0),
    lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), lambda ps: optim.AdamW(ps, capturable=True),
    lambda ps: optim.Adam(ps, differentiable=True), lambda ps: optim.SGD([ps[0], ps[0]]),
    lambda ps: optim.SGD([{"params": ps, "lr": -1.0}]),
], ids=["negative lr", "beta2 of 1", "negative eps", "negative weight decay",
        "nesterov without momentum", "capturable", "differentiable", "a parameter twice",
        "a group's negative lr"])
def test_bad_settings_raise(make):
    with pytest.raises(ValueError):
        make(make_params(np.random.default_rng(17)))


def test_step_takes_a_closure_and_returns_its_loss():
    p = Tensor([3.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with no_grad():  # the closure records a graph all the same, as PyTorch's does
        assert opt.step(closure).item() == 9.0
    np.testing.assert_allclose(p.data, [1.5])


def test_no_fused_or_foreach_kernels_but_the_keywords_exist():
    import inspect

    assert "fused" in inspect.signature(optim.AdamW).parameters
    optim.AdamW([Tensor([1.0], requires_grad=True)], fused=False, foreach=None)


def test_adam_refuses_a_parameter_converted_to_another_dtype_after_it_was_made():
    w = Tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([w])
    w.data = w.detach().numpy().astype(np.float32)  # what Module.to(float32) does
    w.grad = np.ones(3, np.float32)
    with pytest.raises(ValueError, match="float64 parameter was given float32 data"):
        opt.step()


def test_an_optimizer_written_as_for_pytorch_runs_on_the_base_class():
    class SignDescent(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        @no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]  # empty at first, as PyTorch's
                    state["count"] = state.get("count", 0) + 1
                    p -= group["lr"] * np.sign(p.grad)

    w = Tensor([1.0, -1.0], requires_grad=True)
    opt = SignDescent([w], lr=0.25)
    for _ in range(2):
        w.grad = np.array([2.0, -3.0])
        opt.step()
    np.testing.assert_array_equal(w.data, [0.5, -0.5])
    assert opt.state_dict()["state"] == {0: {"count": 2}}


# ---- copies: copy.deepcopy, pickle round trips, copy.copy -------------------------------------

COPIED = {  # optimizers to copy mid-run, made alike from tensorgrad or torch
    "SGD momentum": lambda lib, groups: lib.optim.SGD(groups, lr=0.1, momentum=0.9),
    "Adam": lambda lib, groups: lib.optim.Adam(groups, lr=0.05),
    "AdamW": lambda lib, groups: lib.optim.AdamW(groups, lr=0.05),
    "AdamW amsgrad": lambda lib, groups: lib.optim.AdamW(groups, lr=0.05, amsgrad=True),
}


def model_and_optimizer(lib, name, dtype):
    """A small model of ``dtype`` and its optimizer, with two groups: the weights decayed,
    the biases not (nanoGPT's)."""
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)).to(dtype)
    weights = [model[0].weight, model[2].weight]
    groups = [{"params": weights, "weight_decay": 0.1},
              {"params": [model[0].bias, model[2].bias], "weight_decay": 0.0}]
    return model, COPIED[name](lib, groups)


def train(lib, model, opt, steps: range) -> None:
    for step in steps:
        x = np.random.default_rng(step).normal(size=(5, 3))
        opt.zero_grad()
        (model(lib.tensor(x).to(model[0].weight.dtype)) ** 2).mean().backward()
        if step == 1:
            model[2].bias.grad = None  # it misses a step: the parameters' counts differ
        opt.step()


def assert_same_state(ours: dict, theirs: dict) -> None:
    """Two optimizers' ``state_dict()``s hold the same settings, counts and moments."""
    assert ours["param_groups"] == theirs["param_groups"]
    assert list(ours["state"]) == list(theirs["state"])
    for number, state in ours["state"].items():
        assert list(state) == list(theirs["state"][number])
        for key, value in state.items():
            expected = theirs["state"][number][key]
            assert np.asarray(value).dtype == np.asarray(expected).dtype
            np.testing.assert_array_equal(value, expected, err_msg=f"{number}: {key}")


def deepcopy_optimizer_first(both: dict) -> dict:
    return copy.deepcopy({"opt": both["opt"], "model": both["model"]})


@pytest.mark.parametrize("twin_of", [copy.deepcopy, deepcopy_optimizer_first,
                                     lambda both: pickle.loads(pickle.dumps(both))],
                         ids=["deepcopy", "deepcopy, optimizer first", "pickle"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", COPIED)
def test_a_model_and_its_optimizer_copied_together_train_on_apart_as_the_original(
        name, dtype, twin_of):
    model, opt = model_and_optimizer(tensorgrad, name, dtype)
    train(tensorgrad, model, opt, range(3))
    twin = twin_of({"model": model, "opt": opt})
    twin_model, twin_opt = twin["model"], twin["opt"]
    held = [p.data for p in twin_model.parameters()]  # updated in place, as PyTorch's
    # the copy steps the copied model's parameters (copied once, as one object graph)
    assert [id(p) for p in twin_opt.params] == [id(p) for p in (
        twin_model[0].weight, twin_model[2].weight, twin_model[0].bias, twin_model[2].bias)]
    assert_same_state(twin_opt.state_dict(), opt.state_dict())
    before = copy.deepcopy({"model": model.state_dict(), "opt": opt.state_dict()})
    train(tensorgrad, twin_model, twin_opt, range(3, 6))
    # the original is not moved by its copy's steps ...
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.data, before["model"][key].data)
    assert_same_state(opt.state_dict(), before["opt"])
    # ... and given the same batches goes where the copy went, bit for bit
    train(tensorgrad, model, opt, range(3, 6))
    for p, q in zip(model.parameters(), twin_model.parameters()):
        assert p.dtype == q.dtype == dtype
        assert not np.shares_memory(p.data, q.data)
        np.testing.assert_array_equal(q.data, p.data)
    for q, array in zip(twin_model.parameters(), held):
        np.testing.assert_array_equal(array, q.data)
    assert_same_state(twin_opt.state_dict(), opt.state_dict())


def test_data_assigned_before_a_copy_is_taken_in_by_the_copys_next_step_too():
    model, opt = model_and_optimizer(tensorgrad, "Adam", np.float64)
    train(tensorgrad, model, opt, range(3))
    model[0].weight.data = np.full((4, 3), 0.5)  # after the last step: the next takes it in
    twin = copy.deepcopy({"model": model, "opt": opt})
    for run in ({"model": model, "opt": opt}, twin):
        train(tensorgrad, run["model"], run["opt"], range(3, 5))
    for p, q in zip(model.parameters(), twin["model"].parameters()):
        np.testing.assert_array_equal(q.data, p.data)


@pytest.mark.parametrize("name", COPIED)
def test_an_optimizer_copied_alone_steps_copies_of_its_parameters_as_pytorchs(name):
    model, opt = model_and_optimizer(tensorgrad, name, np.float64)
    train(tensorgrad, model, opt, range(3))
    twin = copy.deepcopy(opt)
    assert not any(q is p for p, q in zip(opt.params, twin.params))
    kept = [p.detach().numpy().copy() for p in opt.params]
    for p in twin.params:
        p.grad = np.ones_like(p.data)
    twin.step()
    for p, values in zip(opt.params, kept):  # the model's own are as they were
        np.testing.assert_array_equal(p.data, values)
    for p in opt.params:
        p.grad = np.ones_like(p.data)
    opt.step()
    for p, q in zip(opt.params, twin.params):
        np.testing.assert_array_equal(q.data, p.data)
    assert_same_state(twin.state_dict(), opt.state_dict())


@pytest.mark.parametrize("name", COPIED)
def test_a_shallow_copy_of_an_optimizer_shares_its_groups_and_state_as_pytorchs(name):
    model, opt = model_and_optimizer(tensorgrad, name, np.float64)
    train(tensorgrad, model, opt, range(1))
    shallow = copy.copy(opt)
    assert shallow.param_groups is opt.param_groups
    kept = [p.detach().numpy().copy() for p in opt.params]
    train(tensorgrad, model, shallow, range(2, 3))
    assert all(not np.array_equal(p.data, values) for p, values in zip(opt.params, kept))
    assert_same_state(opt.state_dict(), shallow.state_dict())
    if name != "SGD momentum":  # (SGD counts no steps)
        assert {s["step"] for s in opt.state_dict()["state"].values()} == {2}


@pytest.mark.parametrize("name", COPIED)
def test_copying_a_model_and_optimizer_mid_run_gives_pytorchs_numbers(name):
    torch = pytest.importorskip("torch")
    reference, reference_opt = model_and_optimizer(torch, name, torch.float64)
    model, opt = model_and_optimizer(tensorgrad, name, tensorgrad.float64)
    model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    runs = []
    for lib, both in ((tensorgrad, {"model": model, "opt": opt}),
                      (torch, {"model": reference, "opt": reference_opt})):
        train(lib, both["model"], both["opt"], range(3))
        twin = copy.deepcopy(both)
        for run in (both, twin):
            train(lib, run["model"], run["opt"], range(3, 6))
        runs.append((both["model"], twin["model"]))
    for which, ours, theirs in zip(("original", "copy"), *runs):
        for (key, value), expected in zip(ours.state_dict().items(),
                                          theirs.state_dict().values()):
            assert_same(value, expected, f"{which}: {key}")
