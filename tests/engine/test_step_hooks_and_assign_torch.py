"""An optimizer's step hooks held against PyTorch's: what they are called with, in which
order, a pre-hook's new arguments, removal, and a copy without them; and a module's
``load_state_dict(assign=True)``. Skipped without torch."""

from __future__ import annotations

import copy
from functools import partial

import pytest

import tensorgrad

torch = pytest.importorskip("torch")


def _calls(lib, name):
    p = lib.nn.Parameter(lib.ones(2))
    opt = getattr(lib.optim, name)([p], lr=0.1)
    seen = []

    def pre(optimizer, args, kwargs):
        seen.append(("pre", optimizer is opt, args[0] is opt, len(args), dict(kwargs)))

    def closure():
        seen.append(("closure",))
        return lib.tensor(1.5)

    def replace(optimizer, args, kwargs):
        seen.append(("replace", len(args)))
        return args, {"closure": closure}  # (args: the optimizer first, as PyTorch passes them)

    def post(optimizer, args, kwargs):
        seen.append(("post", optimizer is opt, len(args), sorted(kwargs)))

    handles = [opt.register_step_pre_hook(pre), opt.register_step_pre_hook(replace),
               opt.register_step_post_hook(post)]
    p.grad = lib.ones(2)
    loss = opt.step()
    seen.append(("loss", float(loss)))
    handles[1].remove()
    handles[1].remove()  # (again: nothing)
    opt.step()
    twin = copy.deepcopy(opt)
    twin.step()  # a copy has no hooks
    for handle in handles:
        handle.remove()
    opt.step()
    return seen, [round(float(v), 6) for v in p.detach()]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Rprop"])
def test_step_hooks_are_called_as_torch_calls_them(name):
    assert _calls(tensorgrad, name) == _calls(torch, name)


def test_a_pre_hook_must_return_none_or_args_and_kwargs():
    for lib in (tensorgrad, torch):
        p = lib.nn.Parameter(lib.ones(1))
        opt = lib.optim.SGD([p], lr=0.1)
        opt.register_step_pre_hook(lambda o, a, k: 3)
        with pytest.raises(RuntimeError, match="must return None or a tuple"):
            opt.step()


def _note(calls, optimizer, args, kwargs):
    calls.append("post")


@pytest.mark.parametrize("hook_first", [True, False])
def test_step_hooks_and_a_schedule_go_together(hook_first, recwarn):
    outcome = []
    for lib in (tensorgrad, torch):
        p = lib.nn.Parameter(lib.ones(1))
        opt = lib.optim.SGD([p], lr=1.0)
        calls: list[str] = []
        hook = partial(_note, calls)
        if hook_first:
            opt.register_step_post_hook(hook)
        schedule = lib.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
        if not hook_first:
            opt.register_step_post_hook(hook)
        for _ in range(3):
            p.grad = lib.ones(1)
            opt.step()
            schedule.step()
        outcome.append((calls, float(p.detach()[0]), schedule.get_last_lr()))
    assert outcome[0] == outcome[1]
    assert not [w for w in recwarn if "lr_scheduler.step()" in str(w.message)]


def test_load_state_dict_with_assign_takes_the_values_themselves_as_torch():
    outcome = []
    for lib in (tensorgrad, torch):
        model = lib.nn.Sequential(lib.nn.Linear(2, 1), lib.nn.BatchNorm1d(1)).double()
        model[0].bias.requires_grad_(False)
        state = {k: v.detach().clone().float() for k, v in model.state_dict().items()}
        model.load_state_dict(state, assign=True)
        state["0.weight"].add_(1)  # the model's weight is that tensor now
        state["1.running_mean"].add_(5)
        outcome.append((
            [(n, str(p.dtype).split(".")[-1], p.requires_grad, type(p).__name__)
             for n, p in model.named_parameters()],
            model[0].weight.detach().tolist() == state["0.weight"].tolist(),
            model[1].running_mean.tolist()))
        with pytest.raises(RuntimeError, match="size mismatch"):
            model.load_state_dict({**state, "0.weight": lib.ones(3, 2)}, assign=True)
    assert outcome[0] == outcome[1]
