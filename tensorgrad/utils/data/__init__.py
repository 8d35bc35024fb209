"""torch.utils.data on tensorgrad: datasets, samplers, and the ``DataLoader`` that draws
batches from them, with PyTorch's names, arguments, defaults and errors.

A training script written for PyTorch runs with its imports pointed here::

    >>> import tensorgrad as torch
    >>> from tensorgrad.utils.data import DataLoader, TensorDataset, random_split
    >>> _ = torch.manual_seed(0)
    >>> x, y = torch.randn(10, 3), torch.arange(10)
    >>> train, val = random_split(TensorDataset(x, y), [0.8, 0.2])
    >>> loader = DataLoader(train, batch_size=3, shuffle=True)
    >>> len(loader), [tuple(xb.shape) for xb, _ in loader]
    (3, [(3, 3), (3, 3), (2, 3)])
    >>> sorted(i for _, yb in loader for i in yb.tolist()) == sorted(train.indices)
    True

What there is:

* datasets: ``Dataset`` (map-style: a subclass gives ``__getitem__`` and ``__len__``; ``a + b``
  is their ``ConcatDataset``), ``IterableDataset`` (a subclass gives ``__iter__``; ``a + b``
  is a ``ChainDataset``), ``TensorDataset``, ``ConcatDataset``, ``ChainDataset``, ``Subset``
  and ``random_split`` (lengths as counts or as fractions);
* samplers: ``Sampler`` (the base), ``SequentialSampler``, ``RandomSampler``,
  ``SubsetRandomSampler``, ``WeightedRandomSampler``, ``BatchSampler``;
* ``DataLoader``, ``default_collate`` (what makes a batch of samples), ``default_convert``
  (what ``batch_size=None`` does to each sample) and ``get_worker_info``.

A sample can be a tensor, a NumPy array or scalar, a Python number, a string, or a tuple,
list, dict or named tuple of those; ``default_collate`` batches each kind as PyTorch does:
tensors and arrays stacked along a new first dimension, ints to int64, floats to float64
(PyTorch's choice for Python floats, whatever the default dtype), bools to bool, strings
left as they come, tuples and lists element by element (a tuple comes back as a list), dicts
key by key, named tuples field by field.

Where it differs from PyTorch, on purpose:

* ``num_workers > 0`` starts no processes: the batches are loaded in this process, the same
  batches in the same order as with ``num_workers=0`` (PyTorch's workers deliver them in that
  order too), so a script that asks for workers runs unchanged and gets the data it expects.
  The dataset is the one object, not a copy per worker, and what its ``__getitem__`` draws
  at random comes from this process's generators. ``get_worker_info()`` is ``None``
  there, as in a single-process load, so an ``IterableDataset`` that splits its data among
  workers yields all of it once; ``worker_init_fn`` is not called (there is no worker), and
  ``timeout``, ``prefetch_factor``, ``persistent_workers`` and ``multiprocessing_context``
  are checked as PyTorch checks them, then have nothing to act on. Raising instead would
  stop every script that sets ``num_workers``, for no gain in what it computes.
* Shuffling draws from tensorgrad's generator: the default one (``tensorgrad.manual_seed``
  makes the order repeat from run to run) or ``generator=``. The order is not PyTorch's for
  the same seed: the generators differ (see ``tensorgrad.random``).
* ``pin_memory=True`` is accepted and does nothing, as in PyTorch on a machine without an
  accelerator (which warns; there is never one here, so this does not).
* Python numbers batched together whose first is an int and some others floats (the
  samples 1 and 2.5, say) make float64 (PyTorch: float32, its default dtype).
* ``Subset`` has no ``__getitems__``: the loader reads a subset one index at a time, so a
  subclass that overrides ``__getitem__`` is always obeyed. A dataset of your own with a
  ``__getitems__`` (a list of indices in, a list of samples out) is read a batch at a time,
  as PyTorch reads it.
* For an ``IterableDataset``, ``loader.sampler`` and ``loader.batch_sampler`` are ``None``
  (PyTorch: samplers of placeholder indices).

Not there: ``StackDataset``, ``DistributedSampler``, the ``datapipes``.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import math
import operator
import warnings
from collections.abc import (
    Callable,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    MutableSequence,
    Sequence,
    Sized,
)
from typing import Any, Generic, TypeVar

import numpy as np

from ... import dtypes
from ...creation import as_tensor, multinomial, randint, randperm, tensor
from ...ops import stack
from ...random import Generator
from ...tensor import Tensor

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
    "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset",
    "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "default_collate",
    "default_convert", "get_worker_info", "random_split",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


# ---- datasets -----------------------------------------------------------------------------------


class Dataset(Generic[T_co]):
    """The base of a map-style dataset: a subclass gives ``__getitem__`` (index -> sample)
    and, for the samplers and ``len(loader)``, ``__len__``::

        class Squares(Dataset):
            def __len__(self):
                return 10

            def __getitem__(self, i):
                return i * i

    ``Squares() + Squares()`` is a ``ConcatDataset`` of both.
    """

    def __getitem__(self, index: Any) -> T_co:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: Dataset[Any]) -> ConcatDataset[Any]:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co], Iterable[T_co]):
    """The base of a dataset read as a stream: a subclass gives ``__iter__`` (and may give
    ``__len__``, for ``len(loader)``)::

        class Counting(IterableDataset):
            def __iter__(self):
                return iter(range(5))

    A ``DataLoader`` batches what it yields, in order; ``a + b`` chains two of them.
    """

    def __add__(self, other: Dataset[Any]) -> ChainDataset:  # type: ignore[override]
        # (streams chain: indices mean nothing to them)
        return ChainDataset([self, other])


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Tensors of equal first dimension, sample ``i`` the tuple of their ``[i]``::

        TensorDataset(x, y)[0]    # (x[0], y[0])
    """

    tensors: tuple[Tensor, ...]

    def __init__(self, *tensors: Tensor) -> None:
        if any(t.size(0) != tensors[0].size(0) for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class StackDataset(Dataset[Any]):
    """Datasets of one length side by side: sample i is the tuple of each one's sample i, or
    (given by name) the dict::

        StackDataset(images, labels)[3]    # (images[3], labels[3])
        StackDataset(x=images, y=labels)[3]    # {"x": images[3], "y": labels[3]}
    """

    datasets: tuple[Any, ...] | dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        self.datasets = args or kwargs
        sizes = [len(d) for d in (args or kwargs.values())]
        if any(n != sizes[0] for n in sizes):
            raise ValueError("Size mismatch between datasets")
        self._length = sizes[0]

    def __getitem__(self, index: int) -> Any:
        if isinstance(self.datasets, dict):
            return {name: d[index] for name, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


class ConcatDataset(Dataset[T_co]):
    """Map-style datasets one after the other: index ``len(a)`` is ``b[0]``::

        ConcatDataset([a, b])    # or a + b
    """

    datasets: list[Dataset[T_co]]
    cumulative_sizes: list[int]

    def __init__(self, datasets: Iterable[Dataset[T_co]]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        if any(isinstance(d, IterableDataset) for d in self.datasets):
            raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> T_co:
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        # (past the end, datasets[which] raises the IndexError that ends iteration)
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset[Any]):
    """Iterable datasets one after the other, read lazily::

        ChainDataset([a, b])    # or a + b
    """

    def __init__(self, datasets: Iterable[Dataset[Any]]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            yield from _iterable(d)

    def __len__(self) -> int:
        return sum(len(_iterable(d)) for d in self.datasets)


def _iterable(dataset: Dataset[Any]) -> Any:
    """``dataset``, which ``ChainDataset`` reads as a stream."""
    if not isinstance(dataset, IterableDataset):
        raise AssertionError("ChainDataset only supports IterableDataset")
    return dataset


class Subset(Dataset[T_co]):
    """The samples of ``dataset`` at ``indices``, in that order::

        Subset(dataset, [4, 0, 2])[1]    # dataset[0]
    """

    dataset: Dataset[T_co]
    indices: Sequence[int]

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):  # a batch of indices, for a dataset that takes one
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Dataset[T], lengths: Sequence[int | float],
                 generator: Generator | None = None) -> list[Subset[T]]:
    """Split ``dataset`` at random into non-overlapping subsets of the given lengths:
    counts that sum to ``len(dataset)``, or fractions that sum to 1 (each gets the floor of
    its share, and what is left goes one by one to the first splits)::

        train, val = random_split(dataset, [0.9, 0.1], generator=torch.Generator().manual_seed(0))

    The order is drawn from ``generator``, by default tensorgrad's default generator.
    """
    size = len(dataset)  # type: ignore[arg-type]
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        counts = [math.floor(size * fraction) for fraction in lengths]
        for i in range(size - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. "
                              "This might result in an empty dataset.", stacklevel=2)
    else:
        counts = [operator.index(n) for n in lengths]  # type: ignore[arg-type]
    if sum(counts) != size:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = randperm(size, generator=generator).tolist()
    return [Subset(dataset, order[end - count:end])
            for end, count in zip(itertools.accumulate(counts), counts)]


# ---- samplers -----------------------------------------------------------------------------------


class Sampler(Generic[T_co]):
    """The base of a sampler: a subclass gives ``__iter__`` (the indices, or for a batch
    sampler the lists of indices, in the order to read them) and, for ``len(loader)``,
    ``__len__``::

        class Backwards(Sampler[int]):
            def __init__(self, data):
                self.data = data

            def __iter__(self):
                return iter(range(len(self.data) - 1, -1, -1))
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1, every time: ``DataLoader``'s order without
    ``shuffle``."""

    data_source: Sized

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """The indices of ``data_source`` in a new random order at each pass: ``DataLoader``'s
    order with ``shuffle=True``::

        RandomSampler(dataset)                                       # each index once
        RandomSampler(dataset, replacement=True, num_samples=1000)   # 1000 draws

    Without replacement, ``num_samples`` beyond ``len(data_source)`` goes through more than
    one shuffled pass. The draws come from ``generator``, by default tensorgrad's default
    generator, when iteration starts.
    """

    data_source: Sized
    replacement: bool

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator: Generator | None = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        """How many indices a pass yields: ``len(data_source)`` unless given."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n, count = len(self.data_source), self.num_samples
        if self.replacement:
            # 32 draws at a time, as PyTorch's: a sampler of 1e10 draws (minGPT's, to train
            # until stopped) does not make them all before the first
            for _ in range(count // 32):
                yield from randint(n, (32,), generator=self.generator).tolist()
            yield from randint(n, (count % 32,), generator=self.generator).tolist()
            return
        for _ in range(count // n):
            yield from randperm(n, generator=self.generator).tolist()
        if count % n:
            yield from randperm(n, generator=self.generator).tolist()[:count % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices`` in a new random order at each pass (from ``generator``, by
    default tensorgrad's default generator)::

        DataLoader(dataset, sampler=SubsetRandomSampler(train_indices))
    """

    indices: Sequence[int]

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices of ``weights`` (non-negative, not necessarily summing to 1),
    each drawn with probability in proportion to its weight; with ``replacement=False`` an
    index is drawn at most once a pass::

        WeightedRandomSampler([0.1, 0.9], num_samples=100)    # mostly 1s
    """

    weights: Tensor
    num_samples: int
    replacement: bool

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Generator | None = None) -> None:
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        weights_tensor = as_tensor(weights, dtype=dtypes.float64)
        if weights_tensor.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_tensor.shape)}")
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        drawn = multinomial(self.weights, self.num_samples, self.replacement,
                            generator=self.generator)
        yield from drawn.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """The indices of ``sampler`` (a sampler or any iterable) in lists of ``batch_size``; the
    last list is shorter unless ``drop_last`` drops it::

        >>> list(BatchSampler(range(7), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6]]
    """

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int,
                 drop_last: bool) -> None:
        _check_batching(batch_size, drop_last)
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        return _batched(iter(self.sampler), self.batch_size, self.drop_last)

    def __len__(self) -> int:
        return _batch_count(len(self.sampler), self.batch_size, self.drop_last)  # type: ignore[arg-type]


def _check_batching(batch_size: int, drop_last: bool) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size should be a positive integer value, but got "
                         f"batch_size={batch_size}")
    if not isinstance(drop_last, bool):
        raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")


def _batch_count(samples: int, size: int, drop_last: bool) -> int:
    return samples // size if drop_last else -(-samples // size)


def _batched(items: Iterator[T], size: int, drop_last: bool) -> Iterator[list[T]]:
    """``items`` in lists of ``size``; the last one shorter, unless ``drop_last``. Stops at
    the first short list: an exhausted iterator is not asked again."""
    while True:
        batch = list(itertools.islice(items, size))
        if len(batch) < size:
            if batch and not drop_last:
                yield batch
            return
        yield batch


# ---- making batches -----------------------------------------------------------------------------

_NOT_A_SAMPLE = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                 "or lists; found {}")


def default_collate(batch: Sequence[Any]) -> Any:
    """One batch made of a list of samples, as ``DataLoader`` makes it by default: tensors
    stacked along a new first dimension, NumPy arrays and scalars and Python numbers made
    tensors (ints int64, floats float64, bools bool), strings and bytes left as they are,
    and containers batched element by element, keeping their kind (a tuple becomes a list)::

        >>> batch = default_collate([(1, 0.5, "a"), (2, 1.5, "b")])
        >>> batch[0].dtype, batch[1].dtype, batch[2]
        (tensorgrad.int64, tensorgrad.float64, ('a', 'b'))
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "SUO":  # text and Python objects: no tensor of those
            raise TypeError(_NOT_A_SAMPLE.format(elem.dtype))
        return stack([as_tensor(b) for b in batch], 0)
    if isinstance(elem, (np.bool_, np.number)):
        return as_tensor(batch)  # (the scalars' own dtype)
    if isinstance(elem, float):
        return tensor(batch, dtype=dtypes.float64)
    if isinstance(elem, int):  # bools too: a batch of bools is bool
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        return _rebuilt(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(column) for column in zip(*batch)]
        return columns if isinstance(elem, tuple) else _rebuilt(elem, columns)
    raise TypeError(_NOT_A_SAMPLE.format(type(elem)))


def default_convert(data: Any) -> Any:
    """One sample as ``DataLoader(batch_size=None)`` hands it out: NumPy arrays and scalars
    made tensors, inside tuples (which become lists), lists, dicts and named tuples too;
    everything else, Python numbers included, as it is::

        >>> default_convert((np.arange(2), 3))
        [Tensor([0, 1]), 3]
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "SUO" else as_tensor(data)
    if isinstance(data, (np.bool_, np.number)):
        return as_tensor(data)
    if isinstance(data, Mapping):
        return _rebuilt(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return _rebuilt(data, [default_convert(d) for d in data])
    return data


def _rebuilt(like: Any, items: Any) -> Any:
    """``items`` (a dict or a list) in the container type of ``like`` where that type takes
    them: a copy of a mutable one updated (keeping what a subclass adds), else a new one made
    of them; a plain dict or list when the type refuses both (a ``range``, say)."""
    try:
        if isinstance(like, MutableMapping):
            clone = copy.copy(like)
            clone.update(items)
            return clone
        if isinstance(like, MutableSequence):
            sequence = copy.copy(like)
            sequence[:] = items
            return sequence
        return type(like)(items)
    except TypeError:
        return items


def get_worker_info() -> None:
    """Information on the worker process loading data: always ``None`` here, where data is
    loaded in the calling process (as PyTorch's answer there)."""
    return None


# ---- the loader ---------------------------------------------------------------------------------

# PyTorch refuses to change these once a loader is made: its samplers were built from them
_FIXED_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                     "persistent_workers")


class DataLoader(Generic[T_co]):
    """The batches of a dataset, in an order its sampler gives, made by ``collate_fn``::

        loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
        for epoch in range(3):
            for xb, yb in loader:
                ...

    As PyTorch's: a map-style dataset is read in the order of ``sampler`` (by default
    ``SequentialSampler``, or ``RandomSampler`` with ``shuffle=True``, drawing from
    ``generator``), ``batch_size`` indices at a time (``drop_last`` drops a short last batch),
    or in the batches of ``batch_sampler``; an ``IterableDataset`` is read in its own order.
    ``collate_fn`` (by default ``default_collate``) makes each batch of samples;
    ``batch_size=None`` turns batching off, each sample going through ``collate_fn`` (by
    default ``default_convert``) on its own. ``len(loader)`` is the number of batches.

    ``num_workers`` > 0 loads in this process (see the module's notes); ``pin_memory`` is
    accepted and does nothing, there being no accelerator.
    """

    dataset: Dataset[T_co]
    batch_size: int | None
    drop_last: bool
    sampler: Sampler[Any] | Iterable[Any] | None
    batch_sampler: Sampler[list[Any]] | Iterable[list[Any]] | None
    collate_fn: Callable[[Any], Any]
    _initialized = False

    def __init__(self, dataset: Dataset[T_co], batch_size: int | None = 1,
                 shuffle: bool | None = None,
                 sampler: Sampler[Any] | Iterable[Any] | None = None,
                 batch_sampler: Sampler[list[Any]] | Iterable[list[Any]] | None = None,
                 num_workers: int = 0, collate_fn: Callable[[Any], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None,
                 *, prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError(f"multiprocessing_context can only be used with multi-process "
                             f"loading (num_workers > 0), but got num_workers={num_workers}")

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if self._iterable:  # read in its own order, batched in __iter__
            if batch_size is not None:
                _check_batching(batch_size, drop_last)
        else:
            if sampler is None:
                sampler = (RandomSampler(dataset, generator=generator) if shuffle  # type: ignore[arg-type]
                           else SequentialSampler(dataset))  # type: ignore[arg-type]
            if batch_size is not None and batch_sampler is None:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        if collate_fn is None:
            collate_fn = default_collate if self._batching else default_convert
        self.collate_fn = collate_fn
        self._initialized = True

    @property
    def _batching(self) -> bool:
        return self.batch_sampler is not None or (self._iterable and self.batch_size is not None)

    def __setattr__(self, name: str, value: Any) -> None:
        if self._initialized and name in _FIXED_AFTER_INIT:
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    def __len__(self) -> int:
        if self._iterable:
            samples = len(self.dataset)  # type: ignore[arg-type]
            if self.batch_size is None:
                return samples
            return _batch_count(samples, self.batch_size, self.drop_last)
        return len(self.batch_sampler if self.batch_sampler is not None  # type: ignore[arg-type]
                   else self.sampler)

    def __iter__(self) -> Iterator[Any]:
        if self.timeout != 0 and self.num_workers == 0:
            # (PyTorch's single-process loader refuses it the same way, when iterated)
            raise AssertionError("timeout applies to worker processes: with num_workers=0 "
                                 "it must be 0")
        return self._batches()

    def _batches(self) -> Iterator[Any]:
        collate = self.collate_fn
        if self._iterable:
            samples = iter(self.dataset)
            if self.batch_size is None:
                yield from map(collate, samples)
            else:
                yield from map(collate, _batched(samples, self.batch_size, self.drop_last))
        elif self.batch_sampler is None:
            for index in self.sampler:  # type: ignore[union-attr]
                yield collate(self.dataset[index])
        else:
            read_batch = getattr(self.dataset, "__getitems__", None)
            for indices in self.batch_sampler:
                yield collate(read_batch(indices) if read_batch
                              else [self.dataset[i] for i in indices])
