"""The one source of randomness: ``randn``, ``rand``, ``randint``, ``randperm``,
``multinomial``, dropout and ``nn.init`` all draw from ``default_generator``, so that
``manual_seed(seed)`` makes a run repeat, as ``torch.manual_seed`` does.

A ``Generator`` holds a NumPy ``Generator``; the draws follow NumPy's algorithms, so the
numbers differ from PyTorch's for the same seed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from .devices import CPU, check_device, device


class Generator:
    """A random number generator, as ``torch.Generator``: pass one as ``generator=`` to draw
    from it instead of the default one."""

    def __init__(self, device: object = "cpu") -> None:
        check_device(device)
        # NumPy's generator is made at the first draw: numpy.random takes about a tenth of
        # microgpt's start-up to import (benchmarks/SPEED.md, "Start-up")
        self._rng: np.random.Generator | None = None
        self._seed: int | None = None  # None: an unpredictable one

    @property
    def rng(self) -> np.random.Generator:
        """The NumPy generator this one draws from."""
        if self._rng is None:
            if self._seed is None:  # unpredictable, but kept: initial_seed() tells it
                self._seed = _fresh_seed()
            self._rng = np.random.default_rng(self._seed)
        return self._rng

    @property
    def device(self) -> device:
        """Where it draws for: the CPU (as PyTorch's ``Generator().device``)."""
        return CPU

    def initial_seed(self) -> int:
        """The seed the sequence started from (the last ``manual_seed``'s, else the one
        picked unpredictably at the first draw or this call)."""
        self.rng  # noqa: B018 (an unseeded generator picks its seed here)
        return self._seed  # type: ignore[return-value]  # (set by the line above)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the sequence from ``seed``; returns this generator."""
        self._seed, self._rng = _seed(seed), None
        return self

    def seed(self) -> int:
        """Restart from a fresh, unpredictable seed; returns it."""
        seed = _fresh_seed()
        self.manual_seed(seed)
        return seed

    def get_state(self) -> Any:
        """Where the sequence stands, as a uint8 tensor for ``set_state`` (as PyTorch's; the
        bytes are NumPy's generator state written as JSON, not PyTorch's)."""
        import json

        from .tensor import as_leaf

        state = {"seed": self.initial_seed(), "bit_generator": self.rng.bit_generator.state}
        return as_leaf(np.frombuffer(json.dumps(state).encode(), np.uint8).copy())

    def set_state(self, new_state: Any) -> Generator:
        """Go back to where ``get_state()`` was taken; returns this generator."""
        data = np.asarray(getattr(new_state, "_data", new_state))
        if data.dtype != np.uint8 or data.ndim != 1:
            raise TypeError(f"expected a 1-d uint8 tensor from get_state(), not "
                            f"{data.dtype} of shape {data.shape}")
        import json

        try:
            state = json.loads(data.tobytes().decode())
            name = state["bit_generator"]["bit_generator"]
            if name not in _BIT_GENERATORS:
                raise ValueError(name)
            rng = np.random.Generator(getattr(np.random, name)())
            rng.bit_generator.state = state["bit_generator"]
            seed = _seed(state["seed"])
        except (ValueError, TypeError, KeyError, AttributeError):
            raise RuntimeError("set_state: not a state that get_state() gave") from None
        self._seed, self._rng = seed, rng
        return self


# the bit generators a state may name (NumPy's own; nothing else of numpy.random is called)
_BIT_GENERATORS = frozenset({"PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"})


def _fresh_seed() -> int:
    return int(np.random.default_rng().integers(1 << 63))


def _seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"a seed is an integer, not {type(seed).__name__}")
    return int(seed) % (1 << 64)  # as PyTorch: negative seeds wrap around


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator, so that every draw after it repeats from run to run."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator unpredictably; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The default generator's seed (``torch.initial_seed()``)."""
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    """The default generator's state (``Generator.get_state``), for ``set_rng_state``."""
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    """Put the default generator back where ``get_rng_state()`` was taken."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, device_type: str = "cpu"
             ) -> Iterator[None]:
    """Draws inside the block leave the default generator as it was before it, as PyTorch's
    ``torch.random.fork_rng`` (``enabled=False``: they do not)."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def rng(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, or the default one's."""
    if generator is None:
        return default_generator.rng
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a tensorgrad.Generator, not "
                        f"{type(generator).__name__}")
    return generator.rng


def normal(shape: tuple[int, ...], mean: float, std: float,
           generator: Generator | None = None) -> np.ndarray:
    """Draws from N(mean, std**2): what ``Tensor.normal_`` and ``nn.init.normal_`` fill."""
    return mean + std * rng(generator).standard_normal(shape)


def uniform(shape: tuple[int, ...], low: float, high: float,
            generator: Generator | None = None) -> np.ndarray:
    """Draws from [low, high): what ``Tensor.uniform_`` and ``nn.init.uniform_`` fill."""
    return low + (high - low) * rng(generator).random(shape)
