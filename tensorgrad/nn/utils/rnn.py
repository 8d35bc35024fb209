"""torch.nn.utils.rnn: batches of sequences of different lengths, padded or packed.

A ``PackedSequence`` holds the sequences' steps time-major with no padding: the first step
of every sequence, then the second of those that have one, and so on; ``batch_sizes[t]``
counts the sequences still running at step t. The sequences are sorted by decreasing
length inside it (``sorted_indices`` says from where, ``unsorted_indices`` back). The
recurrent layers take one and step each sequence only as far as its own length.

Packing and padding are each one fused ``Function``: a gather of rows at computed indices
(transposing, sorting and dropping the padding in one go) whose backward scatters the
gradient back to those rows, and the scatter whose backward gathers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ...tensor import Function, Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pack_sequence",
           "pad_packed_sequence", "pad_sequence", "unpack_sequence", "unpad_sequence"]


# ---- the ops: rows gathered from a padded batch, and scattered into one ----------------------


class _GatherRows(Function):
    """The rows ``rows`` of ``x`` seen as (T * B, *features) (its first two dimensions
    flattened); backward, the gradient's rows go back where they came from (the padding
    left out gets none)."""

    @staticmethod
    def forward(ctx, x, rows):
        ctx.save_for_backward(rows)
        ctx.shape = x.shape
        return x.reshape(-1, *x.shape[2:])[rows]

    @staticmethod
    def backward(ctx, grad):
        (rows,) = ctx.saved_tensors
        shape = ctx.shape
        out = np.zeros((shape[0] * shape[1], *shape[2:]), grad.dtype)
        out[rows] = grad  # (each row is gathered once)
        return out.reshape(shape), None


class _ScatterRows(Function):
    """A (``outer``, ``inner``, *features) array of ``padding_value`` with the rows of
    ``data`` written at rows ``rows`` of it seen as (outer * inner, *features); backward,
    the gradient's rows there (the padding passes none back)."""

    @staticmethod
    def forward(ctx, data, rows, outer, inner, padding_value):
        out = np.full((outer * inner, *data.shape[1:]), padding_value, data.dtype)
        out[rows] = data
        ctx.save_for_backward(rows)
        return out.reshape(outer, inner, *data.shape[1:])

    @staticmethod
    def backward(ctx, grad):
        (rows,) = ctx.saved_tensors
        return grad.reshape(-1, *grad.shape[2:])[rows], None, None, None, None


class _PadSequences(Function):
    """The sequences (L_i, *features) stacked along a new dimension 1, each padded to the
    longest with ``padding_value`` after its steps (or before them, with ``left``), in the
    first sequence's dtype; (T, B, *features). Backward, each sequence's span of the
    gradient, in its own dtype."""

    @staticmethod
    def forward(ctx, padding_value, left, *sequences):
        longest = max(s.shape[0] for s in sequences)
        features = sequences[0].shape[1:]
        out = np.full((longest, len(sequences), *features), padding_value, sequences[0].dtype)
        for b, s in enumerate(sequences):
            start = longest - s.shape[0] if left else 0
            out[start:start + s.shape[0], b] = s
        ctx.spans = [(longest - s.shape[0] if left else 0, s.shape[0], s.dtype)
                     for s in sequences]
        return out

    @staticmethod
    def backward(ctx, grad):
        return (None, None, *(grad[start:start + length, b].astype(dtype, copy=False)
                              for b, (start, length, dtype) in enumerate(ctx.spans)))


def _index_array(index: Tensor | None) -> np.ndarray | None:
    return None if index is None else np.asarray(index._data, np.int64)


def _rows(batch_sizes: np.ndarray, order: np.ndarray | None, batch: int, steps: int,
          batch_first: bool) -> np.ndarray:
    """Where each packed row sits in a padded (``steps``, ``batch``) (``batch_first``: the
    other way round) batch flattened, the packed batch's k-th sequence being the padded
    one's ``order[k]``."""
    times = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    ranks = np.concatenate([np.arange(n) for n in batch_sizes])
    columns = ranks if order is None else order[ranks]
    return columns * steps + times if batch_first else times * batch + columns


# ---- PackedSequence -------------------------------------------------------------------------


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedFields):
    """A batch of sequences of different lengths, packed (a named tuple, as PyTorch's): the
    steps in ``data`` (sum of lengths, *features), time-major, ``batch_sizes`` (int64, the
    sequences still running at each step), and ``sorted_indices`` / ``unsorted_indices``
    (int64, or None when the sequences came sorted by decreasing length). Make one with
    ``pack_padded_sequence`` or ``pack_sequence``::

        packed = pack_sequence([tensor([1.0, 2.0, 3.0]), tensor([4.0, 5.0])])
        packed.data, packed.batch_sizes  # [1, 4, 2, 5, 3], [2, 2, 1]

    Given ``sorted_indices`` alone, ``unsorted_indices`` is its inverse.
    """

    def __new__(cls, data: Any, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PyTorch's other form: (data, batch_sizes) as one pair
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """This sequence with ``data`` converted as ``Tensor.to`` does (itself if nothing
        changes); the sizes and indices stay."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def double(self) -> PackedSequence:
        """``to(float64)``."""
        return self.to(np.float64)

    def float(self) -> PackedSequence:
        """``to(float32)``."""
        return self.to(np.float32)

    def cpu(self) -> PackedSequence:
        """Itself: tensors live on the CPU."""
        return self

    @property
    def is_cuda(self) -> bool:
        """False: no tensor here is on a GPU."""
        return False


# ---- packing and padding --------------------------------------------------------------------


def _check_lengths(lengths: np.ndarray, batch: int, steps: int, enforce_sorted: bool) -> None:
    if lengths.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f"{lengths.ndim}D cpu Long tensor")
    if len(lengths) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lengths)} (batch_size={batch})")
    if batch == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if (lengths <= 0).any():
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if enforce_sorted and (np.diff(lengths) > 0).any():
        raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                           "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                           "pack_padded_sequence and/or pack_sequence to sidestep this "
                           "requirement if you do not need ONNX exportability.")
    if lengths.max() > steps:  # (PyTorch reads past the input's end here)
        raise ValueError(f"lengths: a sequence of length {lengths.max()} in an input of "
                         f"{steps} time steps")


def pack_padded_sequence(input: Tensor, lengths: Tensor | Sequence[int],
                         batch_first: bool = False, enforce_sorted: bool = True
                         ) -> PackedSequence:
    """Pack a padded batch (T, B, *) (``batch_first``: (B, T, *)) of sequences of the given
    ``lengths``: the steps past each length are dropped. With ``enforce_sorted`` (the
    default) the lengths must decrease; else the sequences are sorted here (stably) and the
    order kept in the result::

        packed = pack_padded_sequence(padded, [3, 1, 2], batch_first=True,
                                      enforce_sorted=False)
        output, h_n = rnn(packed)
    """
    if input.dim() < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(input.dim(), 1)}, {max(input.dim(), 1) - 1}], but got 1)")
    sizes = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths)
    sizes = sizes.astype(np.int64)  # (as PyTorch: 2.5 is 2)
    steps, batch = input.shape[:2][::-1] if batch_first else input.shape[:2]
    order = None
    if not enforce_sorted and sizes.ndim == 1:
        order = np.argsort(-sizes, kind="stable")
        sizes = sizes[order]
    _check_lengths(sizes, batch, steps, enforce_sorted)
    batch_sizes = (sizes[None, :] > np.arange(sizes[0])[:, None]).sum(1)
    rows = _rows(batch_sizes, order, batch, steps, batch_first)
    return PackedSequence(_GatherRows.apply(input, rows), Tensor(batch_sizes),
                          None if order is None else Tensor(order))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None
                        ) -> tuple[Tensor, Tensor]:
    """Unpack ``sequence`` into a padded batch (T, B, *) (``batch_first``: (B, T, *)), the
    steps past each sequence's length ``padding_value``, in the order the sequences were
    packed from; return it with the lengths (int64). ``total_length`` pads to that many
    steps (at least the longest)::

        padded, lengths = pad_packed_sequence(output, batch_first=True)
    """
    batch_sizes = np.asarray(sequence.batch_sizes._data, np.int64)
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps = total_length
    batch = int(batch_sizes[0])
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1)
    order = _index_array(sequence.sorted_indices)
    rows = _rows(batch_sizes, order, batch, steps, batch_first)
    outer, inner = (batch, steps) if batch_first else (steps, batch)
    padded = _ScatterRows.apply(sequence.data, rows, outer, inner, padding_value)
    unsorted = _index_array(sequence.unsorted_indices)
    return padded, Tensor(lengths if unsorted is None else lengths[unsorted])


def pad_sequence(sequences: Tensor | Iterable[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stack sequences (L_i, *) of different lengths into one (T, B, *) tensor
    (``batch_first``: (B, T, *)), each padded with ``padding_value`` to the longest, after
    its steps (``padding_side="left"``: before them); in the first sequence's dtype::

        padded = pad_sequence([a, b, c], batch_first=True)  # (3, longest, *)
    """
    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    if any(s.dim() == 0 for s in sequences):
        raise ValueError("sequences: each must have a time dimension, not be 0-d")
    features = sequences[0].shape[1:]
    for s in sequences[1:]:
        if s.shape[1:] != features:  # (PyTorch broadcasts some; here they must be equal)
            raise RuntimeError(f"pad_sequence: each sequence's steps must be shaped as the "
                               f"first's, {tuple(features)}, not {tuple(s.shape[1:])}")
    padded = _PadSequences.apply(padding_value, padding_side == "left", *sequences)
    return padded.transpose(0, 1) if batch_first else padded


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack sequences (L_i, *) of different lengths: ``pad_sequence`` then
    ``pack_padded_sequence``; with ``enforce_sorted`` they must come longest first::

        packed = pack_sequence([a, b, c], enforce_sorted=False)
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor | Sequence[int],
                   batch_first: bool = False) -> list[Tensor]:
    """``pad_sequence`` undone: each sequence of the padded batch (T, B, *), or (B, T, *)
    with ``batch_first``, cut to its length, as slices in the graph::

        a, b = unpad_sequence(pad_sequence([a, b]), [len(a), len(b)])
    """
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    counts = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    return [sequence[:int(n)] for sequence, n in zip(padded_sequences, counts)]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """``pack_sequence`` undone: the sequences, each of its own length, in their order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (None for None), as ``unsorted_indices``
    undoes ``sorted_indices``."""
    if permutation is None:
        return None
    order = np.asarray(permutation._data, np.int64)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return Tensor(inverse)

