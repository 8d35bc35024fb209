"""Each engine in a process of its own, so that no engine's timing depends on which ran before.

Engines in one process share more than the CPU: the C library's memory allocator adapts its
thresholds to the allocations it has seen (after the NumPy baseline at n_embd 256 freed its
large arrays, PyTorch's step there took 8.2 ms instead of the 10.5 ms it takes alone, because
its own fresh arrays stopped costing page faults), and BLAS and OpenMP keep thread pools that
spin after use. So the harness runs each engine's trainer in a worker process and only sends
it commands; the worker times its own steps, so the messages cost the timings nothing.

``EngineProcess`` is the parent's handle: it behaves as the ``Trainer`` it stands for where the
harness needs one (``run_steps``, ``footprint``, ``close``).
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
from typing import Any

from microgpt.train import Hyperparameters

from .engines import ENGINES, Trainer
from .workloads import Workload


class WorkerError(RuntimeError):
    """An engine's worker process failed: the message is the worker's exception."""


class EngineProcess:
    """Engine ``name`` training on ``workload``, in a new process (started with "spawn": a
    fresh interpreter, no state inherited from this one). The process starts at once and is
    waited for at the first command, so several start side by side."""

    def __init__(self, name: str, workload: Workload, hp: Hyperparameters):
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, name, workload, hp),
                                        name=f"benchmark engine {name}", daemon=True)
        self._process.start()
        child.close()
        self._started = False  # until the worker reports its trainer built

    def run_steps(self, workload: Workload, first: int, count: int,
                  max_seconds: float = math.inf) -> tuple[list[float], float]:
        return self._call("run_steps", first, count, max_seconds)

    def footprint(self, workload: Workload, step: int) -> dict[str, Any]:
        return self._call("footprint", step)

    def restart(self) -> None:
        """Start over from the initial weights: a new trainer, in the same (warm) process."""
        self._call("restart")

    def close(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(OSError):  # if the worker is gone already
                self._conn.send(("close",))
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        self._conn.close()

    def _call(self, command: str, *args: Any) -> Any:
        if not self._started:
            self._started = True
            self._receive()
        self._conn.send((command, *args))
        return self._receive()

    def _receive(self) -> Any:
        try:
            status, value = self._conn.recv()
        except EOFError:
            self.close()
            raise WorkerError(f"{self._process.name} exited (status "
                              f"{self._process.exitcode})") from None
        if status == "error":
            raise WorkerError(value)
        return value


def _serve(conn: Any, name: str, workload: Workload, hp: Hyperparameters) -> None:
    """The worker: build the trainer, then answer commands until told to close."""
    def build() -> Trainer:
        return ENGINES[name].make(workload.state, workload.config, hp)

    try:
        trainer = build()
        conn.send(("ok", None))
        while True:
            command, *args = conn.recv()
            if command == "close":
                return
            try:
                if command == "run_steps":
                    value = trainer.run_steps(workload, *args)
                elif command == "footprint":
                    value = trainer.footprint(workload, *args)
                else:  # restart
                    trainer, value = build(), None
            except Exception as exc:  # report it: the parent raises it as a WorkerError
                conn.send(("error", f"{name}: {type(exc).__name__}: {exc}"))
            else:
                conn.send(("ok", value))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        return  # interrupted (the parent handles it), or the parent is gone
    except Exception as exc:  # the trainer could not be built
        conn.send(("error", f"{name}: {type(exc).__name__}: {exc}"))
    finally:
        conn.close()
