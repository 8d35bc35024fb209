"""torch.optim.swa_utils: running averages of a model's weights, as PyTorch's.
``AveragedModel`` keeps a copy of a model whose parameters (and, with ``use_buffers``, buffers)
are the equal average of the model's at each ``update_parameters`` (stochastic weight
averaging), or any other average (``get_ema_multi_avg_fn``: an exponential moving average,
as diffusion models keep); ``SWALR`` anneals the learning rate to a constant one for the
averaging phase; ``update_bn`` recomputes batch norm's statistics for the averaged weights.
``tensorgrad.optim`` imports this module when ``swa_utils`` is first asked for."""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable
from typing import Any, Literal

import numpy as np

from ..grad_mode import no_grad
from ..nn.module import Module
from ..nn.normalization import _BatchNorm
from ..tensor import Tensor, as_leaf
from . import Optimizer
from .lr_scheduler import LRScheduler, per_group

__all__ = ["SWALR", "AveragedModel", "get_ema_avg_fn", "get_ema_multi_avg_fn",
           "get_swa_avg_fn", "get_swa_multi_avg_fn", "update_bn"]

Tensors = list[Tensor]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable[[Tensors, Tensors, Any], None]:
    """The update of an exponential moving average, for ``AveragedModel(multi_avg_fn=)``:
    each average moves (1 - decay) of the way to the model's value, in place::

        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999))
    """
    _check_decay(decay)

    def ema_update(averages: Tensors, currents: Tensors, _: Any) -> None:
        with no_grad():
            for average, current in zip(averages, currents, strict=True):
                if average.is_floating_point():
                    average.lerp_(current, 1 - decay)
                else:
                    average.copy_(average * decay + current * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn() -> Callable[[Tensors, Tensors, Any], None]:
    """The update of an equal average of ``num_averaged`` models and one more, in place."""
    def swa_update(averages: Tensors, currents: Tensors, num_averaged: Any) -> None:
        with no_grad():
            for average, current in zip(averages, currents, strict=True):
                if average.is_floating_point():
                    average.lerp_(current, 1 / (float(num_averaged) + 1))
                else:
                    average.add_((current - average) / (num_averaged + 1))
    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable[[Tensor, Tensor, Any], Tensor]:
    """The new exponential moving average of one tensor, for ``AveragedModel(avg_fn=)``:
    decay * average + (1 - decay) * current."""
    _check_decay(decay)

    def ema_update(average: Tensor, current: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return decay * average + (1 - decay) * current
    return ema_update


def get_swa_avg_fn() -> Callable[[Tensor, Tensor, Any], Tensor]:
    """The new equal average of one tensor: average + (current - average) / (n + 1)."""
    def swa_update(average: Tensor, current: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return average + (current - average) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are a running average of ``model``'s, taken at
    each ``update_parameters(model)``: the first copies them, the next average them, by
    default equally (SWA); ``avg_fn`` (one tensor at a time, returning the new average) or
    ``multi_avg_fn`` (lists of tensors, in place) average otherwise. With ``use_buffers`` the
    buffers are averaged too; otherwise they are copied from ``model``. Calling it runs the
    copy. ``n_averaged`` (an int64 buffer) counts the updates::

        swa_model = AveragedModel(model)
        swa_model.update_parameters(model)    # after each epoch of the averaging phase
    """

    def __init__(self, model: Module, device: Any = None,
                 avg_fn: Callable[[Tensor, Tensor, Any], Tensor] | None = None,
                 multi_avg_fn: Callable[[Tensors, Tensors, Any], None] | None = None,
                 use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", as_leaf(np.array(0, np.int64)))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Average ``model``'s parameters (and buffers, with ``use_buffers``) into this
        copy's; copy them the first time."""
        if self.use_buffers:
            averages = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            currents = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            averages, currents = list(self.parameters()), list(model.parameters())
        pairs = [(a.detach(), c.detach()) for a, c in zip(averages, currents)]
        count = self.n_averaged
        with no_grad():
            if int(count) == 0:
                for average, current in pairs:
                    average.copy_(current)
            elif self.avg_fn is not None:
                for average, current in pairs:
                    average.copy_(self.avg_fn(average, current, count))
            else:  # by dtype, as PyTorch groups them
                for dtype in dict.fromkeys(a.dtype for a, _ in pairs):
                    same = [(a, c) for a, c in pairs if a.dtype == dtype]
                    if self.multi_avg_fn is not None:
                        self.multi_avg_fn([a for a, _ in same], [c for _, c in same], count)
                    else:  # (PyTorch's CPU path: one tensor at a time)
                        for average, current in same:
                            average.copy_(get_swa_avg_fn()(average, current, count))
            if not self.use_buffers:  # the buffers follow the model's
                for own, theirs in zip(self.module.buffers(), model.buffers(), strict=True):
                    own.copy_(theirs.detach())
            count += 1


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute the running statistics of ``model``'s batch norm layers from ``loader``'s
    batches (each a tensor, or a list or tuple whose first entry is): one pass in training
    mode with a cumulative average (momentum None), the momenta and the mode put back after;
    a model without batch norm is left as it is."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """The learning rate annealed from each group's to ``swa_lr`` (one, or one per group)
    over ``anneal_epochs`` steps, by a half cosine (``anneal_strategy="cos"``) or a line,
    then held there, as PyTorch's: the schedule of SWA's averaging phase::

        swa_scheduler = SWALR(optimizer, swa_lr=0.05, anneal_epochs=5)
    """

    def __init__(self, optimizer: Optimizer, swa_lr: float | list[float],
                 anneal_epochs: int = 10, anneal_strategy: Literal["cos", "linear"] = "cos",
                 last_epoch: int = -1) -> None:
        for lr, group in zip(per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups,
                             strict=True):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._anneal_strategy = anneal_strategy
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _anneal(self, t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2 if self._anneal_strategy == "cos" else t

    def get_lr(self) -> list[float]:
        self._warn_outside_step()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        # the rate the group would have started from, given where the last step left it
        previous = self._anneal(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        starts = [group["swa_lr"] if previous == 1 else
                  (group["lr"] - previous * group["swa_lr"]) / (1 - previous)
                  for group in self.optimizer.param_groups]
        alpha = self._anneal(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + start * (1 - alpha)
                for group, start in zip(self.optimizer.param_groups, starts, strict=True)]
