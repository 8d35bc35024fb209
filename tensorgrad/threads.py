"""Both cores for the work BLAS does not do: ``set_num_threads`` and ``get_num_threads`` as
PyTorch's, and ``run_parts``, which calls independent pieces of work at once.

NumPy runs each elementwise op on one core; only its matrix products (BLAS) use more. Work
that splits into independent parts (the two halves of a batch, the chunks of Adam's update)
runs its parts on as many threads, which NumPy lets run together since it releases the GIL
inside its loops. BLAS is held to one thread while they run (``threadpoolctl``), so that its
own threads neither split each part's small products nor spin on the cores the parts need.
What this buys, and where it does not pay: benchmarks/SPEED.md, "Both cores".

    tensorgrad.set_num_threads(1)  # everything on the calling thread, as before
"""

from __future__ import annotations

import contextvars
import functools
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .grad_mode import is_grad_enabled, set_grad_enabled

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

T = TypeVar("T")

# speed: elementwise work on a large array goes through it a block of this many entries at a
# time, each block's passes in cache, and the blocks are shared between threads when each gets
# at least BLOCKS_PER_THREAD of them (``each_block``; benchmarks/SPEED.md, "Round five")
BLOCK = 1 << 15
BLOCKS_PER_THREAD = 4

_settings = {"threads": 0}  # set_num_threads's; 0: the cores this process may run on
_lock = threading.Lock()  # over the pool, the BLAS limit and its count
_state: dict[str, Any] = {"pool": None, "workers": 0, "controller": None, "limit": None,
                          "inside": 0}
_local = threading.local()  # .busy: this thread is running a part


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def get_num_threads() -> int:
    """The number of threads ``run_parts`` (and so Adam and microgpt's batched step) may use:
    the cores this process may run on, unless ``set_num_threads`` said otherwise."""
    return _settings["threads"] or _cores()


def set_num_threads(n: int) -> None:
    """Use at most ``n`` threads for work that splits into parts (1: none but the caller's).

    As PyTorch's, it sets a number for the whole process. BLAS keeps its own threads for the
    products outside such work.
    """
    if isinstance(n, bool) or not isinstance(n, int):  # RuntimeError, as PyTorch's
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _settings["threads"] = n


def _forget_pool() -> None:  # in a forked child: the parent's worker threads are not there
    global _lock
    _lock = threading.Lock()
    _state.update(pool=None, workers=0, limit=None, inside=0)


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forget_pool)


def _pool(workers: int) -> ThreadPoolExecutor:
    from concurrent.futures import ThreadPoolExecutor  # here: not at every start-up

    if _state["workers"] < workers:
        old = _state["pool"]
        _state["pool"] = ThreadPoolExecutor(workers, thread_name_prefix="tensorgrad")
        _state["workers"] = workers
        if old is not None:
            old.shutdown(wait=False)
    return _state["pool"]


def _hold_blas() -> None:
    """BLAS to one thread while any ``run_parts`` runs (from any thread)."""
    if _state["inside"] == 0:
        if _state["controller"] is None:
            from threadpoolctl import ThreadpoolController  # scans the loaded libraries: ms
            _state["controller"] = ThreadpoolController()
        _state["limit"] = _state["controller"].limit(limits=1, user_api="blas")
    _state["inside"] += 1


def _release_blas() -> None:
    _state["inside"] -= 1
    if _state["inside"] == 0 and _state["limit"] is not None:
        _state["limit"].restore_original_limits()
        _state["limit"] = None


def _address_space_capped() -> bool:
    """Whether the process's address space is capped (``ulimit -v``): OpenBLAS reserves a
    buffer for each thread that calls it and ends the whole process, with no exception to
    catch, when it cannot; so under a cap the parts run in turn on the calling thread."""
    try:
        import resource
    except ImportError:  # not on a Unix
        return False
    return resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY


def _in_part(part: Callable[[], T], grad_mode: bool) -> T:
    _local.busy = True
    try:
        with set_grad_enabled(grad_mode):
            return part()
    finally:
        _local.busy = False


def run_parts(parts: Sequence[Callable[[], T]]) -> list[T]:
    """Call every part at once on this thread and worker threads, and return their results
    in order.

    The parts must be independent: they run at the same time, each in the caller's grad mode
    and a copy of its context variables (NumPy's ``errstate``), with BLAS held to one thread.
    Each thread takes the next part not yet taken, so that a thread held up (by another
    process, say) leaves the parts after its own to the others. Every part has ended when
    this returns or raises (the first part's exception in order is raised). With one thread
    allowed, one part, from inside a part, or in a process whose address space is capped,
    the parts run one after another on this thread::

        halves = run_parts([lambda: np.exp(a[:n]), lambda: np.exp(a[n:])])
    """
    parts = list(parts)
    workers = min(len(parts), get_num_threads()) - 1
    if workers <= 0 or getattr(_local, "busy", False) or _address_space_capped():
        return [part() for part in parts]
    grad_mode = is_grad_enabled()
    results: list[Any] = [None] * len(parts)
    errors: list[BaseException | None] = [None] * len(parts)
    taken = [0]  # parts handed out so far
    taking = threading.Lock()

    def take_parts(context: contextvars.Context) -> None:
        while True:  # until every part is taken
            with taking:
                i = taken[0]
                taken[0] += 1
            if i >= len(parts):
                return
            try:
                results[i] = context.copy().run(_in_part, parts[i], grad_mode)
            except BaseException as error:  # noqa: BLE001 (raised below, once every part ended)
                errors[i] = error

    with _lock:
        pool = _pool(workers)
        _hold_blas()
    try:
        # Each part runs in its own copy of the caller's context: NumPy's errstate, for one,
        # lives there, and what a part sets there stays in the part.
        context = contextvars.copy_context()
        futures: list[Future] = [pool.submit(take_parts, context) for _ in range(workers)]
        take_parts(context)
        for future in futures:
            if not future.cancel():  # not cancelled: it started, and may hold a part
                future.result()
        for error in errors:
            if error is not None:
                raise error
        return results
    finally:
        with _lock:
            _release_blas()


def run_each(function: Callable[[Any], None], items: Sequence[Any], least: int = 1) -> None:
    """``function(item)`` for every item, the items shared out between threads in runs of
    consecutive ones, at least ``least`` to a thread (``run_parts``)."""
    count = max(1, min(get_num_threads(), len(items) // least))
    size = -(-len(items) // count)

    def run(chunk: Sequence[Any]) -> None:
        for item in chunk:
            function(item)

    run_parts([functools.partial(run, items[i:i + size]) for i in range(0, len(items), size)])


def each_block(kernel: Callable[[slice], None], size: int) -> None:
    """``kernel(s)`` for consecutive slices ``s`` of ``BLOCK`` entries that together cover
    ``range(size)``, shared between threads (``run_each``) when there are enough of them.

    ``kernel`` works on the slices of flat arrays, each slice apart from the others::

        each_block(lambda s: np.exp(x[s], out=out[s]), x.size)
    """
    blocks = [slice(start, start + BLOCK) for start in range(0, size, BLOCK)]
    if len(blocks) < 2 * BLOCKS_PER_THREAD:
        for block in blocks:
            kernel(block)
    else:
        run_each(kernel, blocks, BLOCKS_PER_THREAD)
