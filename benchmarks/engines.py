"""The engines under test, each a ``Trainer``: the same GPT from the same weights, one step at a
time, forward (``loss``), then backward and Adam with microgpt's linear learning-rate decay
(``update``), returning the loss so that engines can be compared step by step.

* ``scalar``: ``microgpt.gpt_scalar`` (every number a ``Value``); one document per step only.
* ``tensor``: ``microgpt.gpt_tensor`` and ``tensorgrad.optim.Adam``, each step through
  ``gpt_tensor.training_step`` as ``microgpt train`` runs it (a replay of the captured graph).
* ``tensor-eager``: the same, each step built and differentiated anew (``loss.backward()``).
* ``tensor-1t``: ``tensor`` on one thread (``tensorgrad.set_num_threads(1)``, BLAS at one
  thread too), to set beside ``torch-1t``.
* ``numpy``: ``benchmarks.numpy_gpt``, the step written by hand in NumPy, no graph.
* ``torch-1t`` / ``torch``: ``benchmarks.torch_gpt`` and ``torch.optim.Adam``, at one thread and
  at PyTorch's default thread count; torch is imported only when one of them runs.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import threadpoolctl

import tensorgrad
from microgpt import gpt_scalar, gpt_tensor
from microgpt.model import GPTConfig, pad_batch
from microgpt.train import DTYPES, Hyperparameters, cast
from tensorgrad import Tensor, Value

from . import numpy_gpt

Batch = Sequence[Sequence[int]]
REFERENCE = "tensor"  # every engine's losses are checked against this one's


class Trainer:
    def __init__(self, state: dict[str, np.ndarray], config: GPTConfig, hp: Hyperparameters):
        self.config, self.hp = config, hp

    def activate(self) -> None:  # before each run of steps: to set a thread count
        pass

    def loss(self, batch: Batch) -> Any:
        """Forward pass: the engine's loss object (the root of its graph, if it has one)."""
        raise NotImplementedError

    def update(self, loss: Any, step: int) -> float:
        """Backward pass and Adam update at ``step``; returns the loss as a float."""
        raise NotImplementedError

    def step(self, batch: Batch, step: int) -> float:
        return self.update(self.loss(batch), step)

    def lr(self, step: int) -> float:
        return self.hp.lr * (1 - step / self.hp.steps)


class ModuleTrainer(Trainer):
    """A ``microgpt`` model module (``gpt_scalar`` or ``gpt_tensor``) and the module's Adam.

    A step is the module's ``training_step``, as ``microgpt train`` runs it (on the tensor
    engine, a replay of the captured graph), or with ``eager`` the loss and ``backward()``.
    """

    def __init__(self, module: ModuleType, state: dict[str, np.ndarray], config: GPTConfig,
                 hp: Hyperparameters, eager: bool = False, threads: int | None = None):
        super().__init__(state, config, hp)
        self.module, self.eager, self.threads = module, eager, threads
        self.params = module.from_state_dict(cast(state, hp.dtype))
        self.backward_step = module.training_step(self.params, config)
        self.optimizer = module.Adam(module.parameters(self.params), lr=hp.lr,
                                     betas=(hp.beta1, hp.beta2), eps=hp.eps)

    def activate(self) -> None:
        if self.threads:  # for the rest of the process: a worker runs this engine alone
            tensorgrad.set_num_threads(self.threads)
            threadpoolctl.threadpool_limits(self.threads, user_api="blas")

    def loss(self, batch: Batch) -> Any:
        if len(batch) == 1:  # microgpt's own path: one document per step
            return self.module.document_loss(self.params, self.config, list(batch[0]))
        return self.module.batch_loss(self.params, self.config, [list(t) for t in batch])

    def update(self, loss: Any, step: int) -> float:
        loss.backward()
        return self._adam(loss, step)

    def step(self, batch: Batch, step: int) -> float:
        if self.eager:
            return self.update(self.loss(batch), step)
        return self._adam(self.backward_step(batch), step)

    def _adam(self, loss: Any, step: int) -> float:
        self.optimizer.lr = self.lr(step)
        self.optimizer.step()
        self.optimizer.zero_grad()
        return loss.item() if isinstance(loss, Tensor) else loss.data


class NumpyTrainer(Trainer):
    """``benchmarks.numpy_gpt``: loss and gradients in one call, then its flat-buffer Adam."""

    def __init__(self, state: dict[str, np.ndarray], config: GPTConfig, hp: Hyperparameters):
        super().__init__(state, config, hp)
        # numpy_gpt.Adam moves the parameters into one buffer, replacing the dict's entries.
        self.state = {name: w.copy() for name, w in state.items()}
        self.optimizer = numpy_gpt.Adam(self.state, lr=hp.lr, b1=hp.beta1, b2=hp.beta2,
                                        eps=hp.eps)

    def loss(self, batch: Batch) -> tuple[float, dict[str, np.ndarray]]:
        if len(batch) == 1:  # one document: no padding, no mask (as gpt_tensor.document_loss)
            ids = np.asarray(batch[0][: self.config.block_size + 1])
            return numpy_gpt.loss_and_grads(self.state, ids[:-1], ids[1:], None,
                                            self.config.n_head)
        inputs, targets, mask = pad_batch(batch, self.config.block_size)
        return numpy_gpt.loss_and_grads(self.state, inputs, targets, mask, self.config.n_head)

    def update(self, loss: tuple[float, dict[str, np.ndarray]], step: int) -> float:
        value, grads = loss
        self.optimizer.step(grads, lr=self.lr(step))
        return value


class TorchTrainer(Trainer):
    """``benchmarks.torch_gpt`` and ``torch.optim.Adam`` at ``threads`` threads (None: leave
    PyTorch's default, which a worker process, where only this engine runs, still has)."""

    def __init__(self, state: dict[str, np.ndarray], config: GPTConfig, hp: Hyperparameters,
                 threads: int | None = None):
        super().__init__(state, config, hp)
        self.torch = importlib.import_module("torch")
        self.torch_gpt = importlib.import_module("benchmarks.torch_gpt")
        self.threads = threads
        self.model = self.torch_gpt.from_state_dict(state, config.n_head,
                                                    getattr(self.torch, hp.dtype))
        self.optimizer = self.torch.optim.Adam(self.model.parameters(), lr=hp.lr,
                                               betas=(hp.beta1, hp.beta2), eps=hp.eps)

    def activate(self) -> None:
        if self.threads:
            self.torch.set_num_threads(self.threads)

    def loss(self, batch: Batch) -> Any:
        return self.torch_gpt.loss(self.model, *pad_batch(batch, self.config.block_size))

    def update(self, loss: Any, step: int) -> float:
        loss.backward()
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr(step)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.item()


def graph_nodes(loss: Any) -> int:
    """How many nodes the autograd graph behind ``loss`` has (0 without a graph).

    The one place that knows how each engine links its graph: a ``Tensor`` through its
    ``grad_fn.inputs``, a ``Value`` through its children, PyTorch through
    ``grad_fn.next_functions`` (``AccumulateGrad`` nodes included). Parameters count.
    """
    if isinstance(loss, Tensor):
        root = loss

        def inputs(node: Any) -> list:
            fn = node.grad_fn
            return [] if fn is None else [x for x in fn.inputs if isinstance(x, Tensor)]
    elif isinstance(loss, Value):
        root = loss

        def inputs(node: Any) -> list:
            return list(node.children)
    elif hasattr(loss, "grad_fn"):
        root = loss.grad_fn

        def inputs(node: Any) -> list:
            return [fn for fn, _ in node.next_functions if fn is not None]
    else:
        return 0
    seen, stack = {id(root)}, [root]
    while stack:
        for node in inputs(stack.pop()):
            if id(node) not in seen:
                seen.add(id(node))
                stack.append(node)
    return len(seen)


@dataclass(frozen=True)
class Engine:
    make: Callable[[dict[str, np.ndarray], GPTConfig, Hyperparameters], Trainer]
    batched: bool = True  # can train on several documents per step
    dtypes: tuple[str, ...] = DTYPES  # what it can compute in (Hyperparameters.dtype)
    needs_torch: bool = False
    by_default: bool = True  # measured when --engines is not given


ENGINES = {
    "scalar": Engine(functools.partial(ModuleTrainer, gpt_scalar), batched=False,
                     dtypes=("float64",)),
    "tensor": Engine(functools.partial(ModuleTrainer, gpt_tensor)),
    "tensor-eager": Engine(functools.partial(ModuleTrainer, gpt_tensor, eager=True)),
    "tensor-1t": Engine(functools.partial(ModuleTrainer, gpt_tensor, threads=1),
                        by_default=False),
    "numpy": Engine(NumpyTrainer, dtypes=("float64",)),
    "torch-1t": Engine(functools.partial(TorchTrainer, threads=1), needs_torch=True),
    "torch": Engine(TorchTrainer, needs_torch=True),
}


def unavailable(module: str) -> str | None:
    """Why ``module`` cannot be imported (a short reason), or None if it can."""
    try:
        importlib.import_module(module)
    except ImportError as exc:
        return str(exc) or type(exc).__name__
    return None
