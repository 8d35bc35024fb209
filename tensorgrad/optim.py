"""Adam: microgpt.py's update, vectorized over one flat buffer of parameters."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .tensor import _REUSE_MIN_SIZE, Tensor

_CHUNK = 1 << 14  # elements per chunk of an update: a few arrays of it fit in a core's L2


def _chunks(sizes: list[int]) -> list[tuple[slice, list[tuple[int, slice | None]]]]:
    """The arrays of these sizes, end to end, cut into chunks of at most _CHUNK elements.

    For each chunk: its place in the whole, and the pieces that fill it in order, as
    (array number, part of the flattened array; None for all of it).
    """
    chunks, bounds = [], np.cumsum([0, *sizes]).tolist()
    for start in range(0, bounds[-1], _CHUNK):
        stop = min(start + _CHUNK, bounds[-1])
        pieces = []
        for i, (first, end) in enumerate(zip(bounds[:-1], bounds[1:])):
            a, b = max(start, first), min(stop, end)
            if a < b:
                whole = (a, b) == (first, end)
                pieces.append((i, None if whole else slice(a - first, b - first)))
        chunks.append((slice(start, stop), pieces))
    return chunks


class _FlatGroup:
    """Parameters of one dtype, their values in one flat buffer, their moments beside it.

    Each ``p.data`` becomes a view of the buffer (same values, same shape), so an update
    is a handful of vectorized NumPy calls however many tensors there are.
    """

    def __init__(self, params: list[Tensor]):
        self.params = params
        self.flat = np.concatenate([p.data.ravel() for p in params])
        self.slices = []
        start = 0
        for p in params:
            stop = start + p.data.size
            p.data = self.flat[start:stop].reshape(p.data.shape)
            self.slices.append(slice(start, stop))
            start = stop
        self.m = np.zeros_like(self.flat)  # first moments, end to end
        self.v = np.zeros_like(self.flat)  # second moments
        self.chunks = _chunks([p.data.size for p in params])
        # Scratch space for a chunk, so that large models allocate nothing per step.
        self.grad = np.empty(min(self.flat.size, _CHUNK), self.flat.dtype)
        self.scratch = np.empty_like(self.grad)


class Adam:
    """Adam with bias correction by step count; set ``lr`` before any ``step()`` to schedule it.

    The parameters' values move into one flat buffer per dtype (each ``p.data`` becomes a
    view of it), so keep using the tensors, not arrays taken from them before.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        self.params = list(params)
        if not self.params:
            raise ValueError("Adam got an empty parameter list")
        if not all(isinstance(p, Tensor) and p.requires_grad for p in self.params):
            raise ValueError("Adam parameters must be tensors that require grad")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError("Adam got the same parameter twice")
        self.lr, self.betas, self.eps = lr, betas, eps
        self.step_count = 0
        by_dtype: dict[np.dtype, list[Tensor]] = {}
        for p in self.params:
            by_dtype.setdefault(p.data.dtype, []).append(p)
        self._groups = [_FlatGroup(group) for group in by_dtype.values()]
        self._large_params = [p for p in self.params if p.data.size >= _REUSE_MIN_SIZE]
        self._small_params = [p for p in self.params if p.data.size < _REUSE_MIN_SIZE]

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (PyTorch's default, set_to_none=True)."""
        for p in self._large_params:
            p.zero_grad()  # it may keep the array for the next gradient: see Tensor.zero_grad
        for p in self._small_params:
            p.grad = None

    def step(self) -> None:
        """One Adam update of every parameter that has a gradient."""
        self.step_count += 1
        for group in self._groups:
            present = [p.grad is not None for p in group.params]
            if all(present):
                self._update(group, group.params, slice(None))
            elif any(present):
                # As in PyTorch, a parameter without a gradient is left alone, moments too.
                chosen = [(p, s) for p, s, ok in zip(group.params, group.slices, present) if ok]
                index = np.concatenate([np.arange(s.start, s.stop) for _, s in chosen])
                self._update(group, [p for p, _ in chosen], index)

    def _update(self, group: _FlatGroup, params: list[Tensor], index: slice | np.ndarray) -> None:
        if isinstance(index, slice):  # every parameter: the buffers themselves
            flat, m, v = group.flat, group.m, group.v
        else:  # fancy indexing copies: written back below
            flat, m, v = group.flat[index], group.m[index], group.v[index]
        grads = [p.grad.ravel() for p in params]
        chunks = group.chunks if isinstance(index, slice) else _chunks([g.size for g in grads])
        if len(chunks) == 1:  # a small model: one gathering, one update, no slicing
            g, tmp = group.grad, group.scratch
            if flat.size < g.size:  # only some of the parameters
                g, tmp = g[:flat.size], tmp[:flat.size]
            np.concatenate(grads, out=g, casting="same_kind")
            self._update_chunk(flat, m, v, g, tmp)
        else:  # chunk by chunk, so that a large model's dozen passes run in cache, not memory;
            # each chunk's gradients are gathered there too: no flat gradient goes to memory
            for part, pieces in chunks:
                size = part.stop - part.start
                g, tmp = group.grad[:size], group.scratch[:size]
                np.concatenate([grads[i] if piece is None else grads[i][piece]
                                for i, piece in pieces], out=g, casting="same_kind")
                self._update_chunk(flat[part], m[part], v[part], g, tmp)
        if not isinstance(index, slice):
            group.flat[index], group.m[index], group.v[index] = flat, m, v

    def _update_chunk(self, p: np.ndarray, m: np.ndarray, v: np.ndarray, g: np.ndarray,
                      tmp: np.ndarray) -> None:
        """microgpt.py's update, p -= lr * m_hat / (v_hat**0.5 + eps), in place.

        The bias corrections and lr are folded into scalars, using
        sqrt(v_hat) + eps = sqrt(c2) * (sqrt(v) + eps / sqrt(c2)) with v_hat = c2 * v: a dozen
        passes over the arrays and one division, where microgpt.py's order of operations
        takes three. The results may differ from its in the last bits (float64 rounding).
        ``g`` and ``tmp`` are scratch (``g`` holds the gradient on entry).
        """
        beta1, beta2 = self.betas
        m_correction = 1 / (1 - beta1**self.step_count)
        v_correction = 1 / (1 - beta2**self.step_count)
        m *= beta1
        m += np.multiply(g, 1 - beta1, out=tmp)
        g *= g
        g *= 1 - beta2
        v *= beta2
        v += g
        np.sqrt(v, out=tmp)
        tmp += self.eps / v_correction**0.5
        np.divide(m, tmp, out=g)
        g *= self.lr * m_correction / v_correction**0.5
        p -= g

    def state_dict(self) -> dict[str, np.ndarray]:
        """The moments (flat, one dtype group after another) and the step count, as arrays."""
        return {
            "m": np.concatenate([group.m for group in self._groups]),
            "v": np.concatenate([group.v for group in self._groups]),
            "step": np.array(self.step_count),
        }

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        sizes = [group.m.size for group in self._groups]
        if state["m"].shape != (sum(sizes),) or state["v"].shape != (sum(sizes),):
            raise ValueError("optimizer state does not match the parameters")
        bounds = np.cumsum([0, *sizes])
        for group, start, stop in zip(self._groups, bounds[:-1], bounds[1:]):
            group.m[:], group.v[:] = state["m"][start:stop], state["v"][start:stop]
        self.step_count = int(state["step"])
