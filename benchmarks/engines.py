"""The engines under test, behind one small interface: a ``Trainer`` that takes training steps.

Every engine trains the same GPT from the same state dict on the same documents with the same
hyperparameters, one step at a time: forward (``loss``), then backward and the Adam update with
microgpt's linear learning-rate decay (``update``). A step takes a batch of token lists (each
``[BOS, ..., BOS]``) and returns the loss before the update, so the harness can compare the
engines step by step.

Engines:

* ``scalar``: ``microgpt.gpt_scalar`` (every number a ``Value``) and its Adam; batch size 1 only.
* ``tensor``: ``microgpt.gpt_tensor`` and ``tensorgrad.optim.Adam``; ``document_loss`` for one
  document, ``batch_loss`` for several.
* ``numpy``: ``benchmarks.numpy_gpt``, hand-derived forward and backward, no graph.
* ``torch-1t`` / ``torch``: ``benchmarks.torch_gpt`` with ``torch.optim.Adam``, at one thread and
  at PyTorch's default thread count. Imported only when asked for.

All compute in ``hp.dtype``: float64 (microgpt's), or float32 where ``Engine.dtypes`` allows.

Each trainer also says how big its autograd graph is (``graph_nodes``) and how to measure the
peak memory of a step (``peak_memory``). ``run_steps`` (a timed run of steps) and ``footprint``
(memory and graph of one step) are what the harness calls, here or, through
``benchmarks.isolation``, in the trainer's own process.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

import numpy as np

from microgpt import gpt_scalar, gpt_tensor
from microgpt.model import GPTConfig, pad_batch
from microgpt.train import DTYPES, Hyperparameters, cast
from tensorgrad import Tensor

from . import memory, numpy_gpt
from .workloads import Workload

Batch = Sequence[Sequence[int]]
T = TypeVar("T")


class Trainer:
    """One engine's model and optimizer; ``step`` is what the benchmark times."""

    graph_method = "no autograd graph"
    memory_method = memory.TRACEMALLOC_METHOD

    def __init__(self, state: dict[str, np.ndarray], config: GPTConfig, hp: Hyperparameters):
        self.config, self.hp = config, hp

    def activate(self) -> None:
        """Called before each run of steps (e.g. to set a thread count); nothing by default."""

    def loss(self, batch: Batch) -> Any:
        """Forward pass: the engine's loss object (the root of its graph, if it has one)."""
        raise NotImplementedError

    def update(self, loss: Any, step: int) -> float:
        """Backward pass and Adam update at ``step``; returns the loss as a float."""
        raise NotImplementedError

    def step(self, batch: Batch, step: int) -> float:
        """One training step: forward, backward, Adam update. Returns the loss before it."""
        return self.update(self.loss(batch), step)

    def run_steps(self, workload: Workload, first: int, count: int,
                  max_seconds: float = math.inf) -> tuple[list[float], float]:
        """Steps ``first``, ``first + 1``, ... of ``workload``: ``count`` of them, or fewer (at
        least one) once ``max_seconds`` have passed. Returns their losses and wall seconds."""
        self.activate()
        losses = []
        start = now = time.perf_counter()
        for step in range(first, first + count):
            losses.append(self.step(workload.batch(step), step))
            now = time.perf_counter()
            if now - start >= max_seconds:
                break
        return losses, now - start

    def footprint(self, workload: Workload, step: int) -> dict[str, Any]:
        """Peak memory and graph size of training step ``step`` on the workload's first batch
        (the first batch: the same for every engine, whatever it has trained on before)."""
        batch, graph = workload.batch(0), {}

        def one_step() -> float:
            graph["loss"] = loss = self.loss(batch)
            return self.update(loss, step)

        self.activate()
        peak, _ = self.peak_memory(one_step)
        return {"peak_memory_bytes": peak, "memory_method": self.memory_method,
                "graph_nodes": self.graph_nodes(graph["loss"]), "graph_method": self.graph_method}

    def close(self) -> None:
        """Release what the trainer holds outside this process (nothing, here)."""

    def graph_nodes(self, loss: Any) -> int | None:
        """The number of autograd graph nodes behind ``loss`` (0 without a graph)."""
        return 0

    def peak_memory(self, fn: Callable[[], T]) -> tuple[int | None, T]:
        """Peak bytes this engine allocates while ``fn`` runs (``fn`` takes a step), and its
        result."""
        return memory.tracemalloc_peak(fn)

    def lr(self, step: int) -> float:
        """microgpt's schedule: linear decay from ``hp.lr`` to zero over ``hp.steps`` steps."""
        return self.hp.lr * (1 - step / self.hp.steps)


def count_reachable(root: Any, inputs: Callable[[Any], Iterable[Any]]) -> int:
    """The number of distinct objects reachable from ``root`` through ``inputs`` (root included)."""
    seen, stack = {id(root)}, [root]
    while stack:
        for node in inputs(stack.pop()):
            if id(node) not in seen:
                seen.add(id(node))
                stack.append(node)
    return len(seen)


class ModuleTrainer(Trainer):
    """A ``microgpt`` model module (``gpt_scalar`` or ``gpt_tensor``) and the module's Adam."""

    def __init__(self, module: ModuleType, state: dict[str, np.ndarray], config: GPTConfig,
                 hp: Hyperparameters):
        super().__init__(state, config, hp)
        self.module = module
        self.params = module.from_state_dict(cast(state, hp.dtype))
        self.optimizer = module.Adam(module.parameters(self.params), lr=hp.lr,
                                     betas=(hp.beta1, hp.beta2), eps=hp.eps)

    def loss(self, batch: Batch) -> Any:
        if len(batch) == 1:  # microgpt's own path: one document per step
            return self.module.document_loss(self.params, self.config, list(batch[0]))
        return self.module.batch_loss(self.params, self.config, [list(t) for t in batch])

    def update(self, loss: Any, step: int) -> float:
        loss.backward()
        self.optimizer.lr = self.lr(step)
        self.optimizer.step()
        self.optimizer.zero_grad()
        return float(loss.data)


class ScalarTrainer(ModuleTrainer):
    graph_method = "Value nodes reachable from the loss (parameters and constants included)"

    def __init__(self, state: dict[str, np.ndarray], config: GPTConfig, hp: Hyperparameters):
        super().__init__(gpt_scalar, state, config, hp)

    def graph_nodes(self, loss: Any) -> int | None:
        return count_reachable(loss, lambda value: value._children)


class TensorTrainer(ModuleTrainer):
    graph_method = "Tensor nodes reachable from the loss (parameters and constants included)"

    def __init__(self, state: dict[str, np.ndarray], config: GPTConfig, hp: Hyperparameters):
        super().__init__(gpt_tensor, state, config, hp)

    def graph_nodes(self, loss: Any) -> int | None:
        return count_reachable(loss, _tensor_inputs)


def _tensor_inputs(tensor: Tensor) -> list[Tensor]:
    """The tensors an op's result was computed from (none for a leaf)."""
    if tensor.grad_fn is None:
        return []
    return [x for x in tensor.grad_fn.inputs if isinstance(x, Tensor)]


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
    """``benchmarks.torch_gpt`` with ``torch.optim.Adam``, at a given thread count."""

    graph_method = "grad_fn nodes reachable through next_functions (AccumulateGrad included)"
    memory_method = memory.TORCH_METHOD

    def __init__(self, state: dict[str, np.ndarray], config: GPTConfig, hp: Hyperparameters,
                 threads: int):
        super().__init__(state, config, hp)
        self.torch = importlib.import_module("torch")
        self.torch_gpt = importlib.import_module("benchmarks.torch_gpt")
        self.threads = threads
        self.model = self.torch_gpt.from_state_dict(state, config.n_head,
                                                    getattr(self.torch, hp.dtype))
        self.optimizer = self.torch.optim.Adam(self.model.parameters(), lr=hp.lr,
                                               betas=(hp.beta1, hp.beta2), eps=hp.eps)

    def activate(self) -> None:
        self.torch.set_num_threads(self.threads)

    def loss(self, batch: Batch) -> Any:
        inputs, targets, mask = pad_batch(batch, self.config.block_size)
        return self.torch_gpt.loss(self.model, inputs, targets, mask)

    def update(self, loss: Any, step: int) -> float:
        loss.backward()
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr(step)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.item()

    def graph_nodes(self, loss: Any) -> int | None:
        return count_reachable(
            loss.grad_fn, lambda fn: [nxt for nxt, _ in fn.next_functions if nxt is not None]
        )

    def peak_memory(self, fn: Callable[[], T]) -> tuple[int | None, T]:
        return memory.torch_allocator_peak(self.torch, fn)


# ---- the registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Engine:
    """An engine as the command line names it, and how to build its trainer."""

    name: str
    description: str
    batched: bool  # can train on several documents per step
    make: Callable[[dict[str, np.ndarray], GPTConfig, Hyperparameters], Trainer]
    needs_torch: bool = False
    dtypes: tuple[str, ...] = ("float64",)  # what it can compute in (Hyperparameters.dtype)


def _torch_default_threads() -> int:
    return importlib.import_module("torch").get_num_threads()


_DEFAULT_TORCH_THREADS: list[int] = []  # PyTorch's own thread count, read once before any change


def _torch_trainer(threads: int | None) -> Callable[..., Trainer]:
    def make(state: dict[str, np.ndarray], config: GPTConfig, hp: Hyperparameters) -> Trainer:
        if not _DEFAULT_TORCH_THREADS:
            _DEFAULT_TORCH_THREADS.append(_torch_default_threads())
        return TorchTrainer(state, config, hp, threads or _DEFAULT_TORCH_THREADS[0])

    return make


ENGINES: dict[str, Engine] = {
    engine.name: engine
    for engine in (
        Engine("scalar", "microgpt.gpt_scalar (Value) + its Adam", False, ScalarTrainer),
        Engine("tensor", "microgpt.gpt_tensor (Tensor) + tensorgrad.optim.Adam", True,
               TensorTrainer, dtypes=DTYPES),
        Engine("numpy", "benchmarks.numpy_gpt: hand-derived NumPy backward", True, NumpyTrainer),
        Engine("torch-1t", "benchmarks.torch_gpt, 1 thread", True, _torch_trainer(1),
               needs_torch=True, dtypes=DTYPES),
        Engine("torch", "benchmarks.torch_gpt, default threads", True,
               _torch_trainer(None), needs_torch=True, dtypes=DTYPES),
    )
}
REFERENCE = "tensor"  # every engine's losses are checked against this one's


def torch_unavailable() -> str | None:
    """Why the torch engines cannot run (a short reason), or None if they can."""
    try:
        importlib.import_module("torch")
        importlib.import_module("benchmarks.torch_gpt")
    except ImportError as exc:
        return str(exc) or type(exc).__name__
    return None


def torch_threads() -> int | None:
    """The thread count the ``torch`` row runs at, once a torch trainer has been built."""
    return _DEFAULT_TORCH_THREADS[0] if _DEFAULT_TORCH_THREADS else None


def restore_torch_threads() -> None:
    """Give PyTorch back its default thread count (the torch-1t row lowers it)."""
    if _DEFAULT_TORCH_THREADS:
        importlib.import_module("torch").set_num_threads(_DEFAULT_TORCH_THREADS[0])
