"""tensorgrad.utils.data: datasets, samplers, default_collate and the DataLoader.

The tests named ``*_as_torch`` hold the module against torch.utils.data (skipped without
torch): the same batches in SequentialSampler's order, the same batch structure, dtypes and
shapes for every kind of sample, the same ``len(loader)``, the same errors for bad
arguments. The others need no torch: each sample once per shuffled epoch, ``manual_seed`` and
``generator=`` repeating the order, ``random_split`` partitioning, the edge cases.
"""

from __future__ import annotations

import collections
import doctest
import warnings

import numpy as np
import pytest

import tensorgrad
import tensorgrad.utils.data
from tensorgrad.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)

Point = collections.namedtuple("Point", "x y")


def values(loader) -> list:
    """Each batch of a loader over ints, as a list."""
    return [batch.tolist() for batch in loader]


def flat(loader) -> list[int]:
    return [i for batch in values(loader) for i in batch]


def stream_type(base: type) -> type:
    """A stream of 0..n-1, with a length or without, on ``base`` (ours or PyTorch's)."""

    class Stream(base):
        def __init__(self, n: int, sized: bool = True) -> None:
            self.n, self.sized = n, sized

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self) -> int:
            if not self.sized:
                raise TypeError("a stream of unknown length")
            return self.n

    return Stream


Stream = stream_type(IterableDataset)


# ---- the module's own examples ------------------------------------------------------------------


def test_the_docstring_examples_run():
    assert doctest.testmod(tensorgrad.utils.data).failed == 0


def test_import_torch_style_reaches_the_module():
    assert tensorgrad.utils.data.DataLoader is DataLoader


# ---- datasets -----------------------------------------------------------------------------------


def test_pytorchs_submodules_of_utils_data_have_the_same_objects():
    from tensorgrad.utils.data import dataloader, dataset, sampler

    for module in (dataloader, dataset, sampler):
        for name in module.__all__:
            assert getattr(module, name) is getattr(tensorgrad.utils.data, name)
    assert {"DataLoader", "Dataset", "RandomSampler"} <= {
        *dataloader.__all__, *dataset.__all__, *sampler.__all__}


@pytest.mark.parametrize("count", [5, 32, 70, 10**12])
def test_draws_with_replacement_come_as_they_are_asked_for(count):
    # minGPT's trainer samples 1e10 indices to run until stopped: none made before asked
    tensorgrad.manual_seed(0)
    draws = iter(RandomSampler(range(7), replacement=True, num_samples=count))
    first = [next(draws) for _ in range(min(count, 100))]
    assert all(0 <= i < 7 for i in first) and len(set(first)) > 1
    if count < 100:
        assert next(draws, None) is None  # exactly count of them


def test_tensor_dataset_gives_a_tuple_of_rows():
    x, y = tensorgrad.arange(12.0).reshape(4, 3), tensorgrad.arange(4)
    dataset = TensorDataset(x, y)
    assert len(dataset) == 4
    row, label = dataset[2]
    assert row.tolist() == [6.0, 7.0, 8.0] and label.item() == 2
    with pytest.raises(AssertionError, match="^Size mismatch between tensors$"):
        TensorDataset(x, tensorgrad.arange(5))


def test_a_dataset_without_getitem_says_so():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]


def test_adding_datasets_concatenates_them_and_streams_chain():
    joined = TensorDataset(tensorgrad.arange(3)) + TensorDataset(tensorgrad.arange(10, 12))
    assert isinstance(joined, ConcatDataset)
    assert [s[0].item() for s in joined] == [0, 1, 2, 10, 11]
    chained = Stream(2) + Stream(3)
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5


def test_an_iterable_dataset_must_define_iter():
    with pytest.raises(TypeError):
        IterableDataset()


def test_concat_dataset_indexes_across_its_parts():
    dataset = ConcatDataset([[0, 1, 2], [], [3, 4]])
    assert len(dataset) == 5 and dataset.cumulative_sizes == [3, 3, 5]
    assert [dataset[i] for i in range(5)] == [0, 1, 2, 3, 4]
    assert dataset[-1] == 4 and dataset[-5] == 0
    with pytest.raises(IndexError):
        dataset[5]
    with pytest.raises(ValueError):
        dataset[-6]
    with pytest.raises(AssertionError):
        ConcatDataset([])
    with pytest.raises(AssertionError):
        ConcatDataset([[0], Stream(2)])


def test_chain_dataset_takes_only_streams():
    with pytest.raises(AssertionError):
        list(ChainDataset([Stream(2), [0, 1]]))


def test_subset_reads_through_its_indices():
    subset = Subset([10, 11, 12, 13], [3, 0])
    assert len(subset) == 2 and [subset[0], subset[1]] == [13, 10]
    rows = Subset(tensorgrad.arange(10, 14), [3, 0, 1])
    assert rows[[0, 2]].tolist() == [13, 11]  # a list of indices, for a dataset that takes it


# ---- random_split -------------------------------------------------------------------------------


@pytest.mark.parametrize("lengths, sizes", [
    ([3, 7], [3, 7]),
    ([0.8, 0.2], [8, 2]),
    ([0.33, 0.33, 0.34], [4, 3, 3]),  # 3, 3, 3 and one left over, to the first
    ([0.25, 0.25, 0.25, 0.25], [3, 3, 2, 2]),
])
def test_random_split_partitions_the_dataset(lengths, sizes):
    parts = random_split(range(10), lengths)
    assert [len(p) for p in parts] == sizes
    assert sorted(i for p in parts for i in p) == list(range(10))


def test_random_split_repeats_with_the_seed_or_the_generator():
    tensorgrad.manual_seed(3)
    first = [p.indices for p in random_split(range(20), [0.5, 0.5])]
    tensorgrad.manual_seed(3)
    assert [p.indices for p in random_split(range(20), [0.5, 0.5])] == first
    again = [[p.indices for p in random_split(range(20), [10, 10],
                                              generator=tensorgrad.Generator().manual_seed(1))]
             for _ in range(2)]
    assert again[0] == again[1] != [list(range(10)), list(range(10, 20))]


def test_random_split_warns_of_an_empty_split_and_refuses_bad_lengths():
    with pytest.warns(UserWarning, match="index 1 is 0"):
        parts = random_split(range(2), [0.9, 0.1])
    assert [len(p) for p in parts] == [2, 0]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="index 0 is not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])


# ---- samplers -----------------------------------------------------------------------------------


def test_sequential_sampler_counts_up():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert len(SequentialSampler(range(4))) == 4


def test_random_sampler_shuffles_each_pass_anew():
    tensorgrad.manual_seed(0)
    sampler = RandomSampler(range(20))
    passes = [list(sampler) for _ in range(3)]
    assert all(sorted(p) == list(range(20)) for p in passes)
    assert passes[0] != passes[1] != passes[2] and len(sampler) == 20


def test_random_sampler_draws_num_samples():
    tensorgrad.manual_seed(0)
    drawn = list(RandomSampler(range(5), replacement=True, num_samples=50))
    assert len(drawn) == 50 and set(drawn) <= set(range(5))
    # without replacement: whole shuffled passes, then part of one
    counts = collections.Counter(RandomSampler(range(4), num_samples=10))
    assert sorted(counts.values()) == [2, 2, 3, 3]
    assert len(RandomSampler(range(4), num_samples=10)) == 10


def test_subset_random_sampler_shuffles_the_indices():
    tensorgrad.manual_seed(0)
    assert sorted(SubsetRandomSampler([7, 3, 9])) == [3, 7, 9]
    assert len(SubsetRandomSampler([7, 3, 9])) == 3


def test_weighted_random_sampler_follows_the_weights():
    tensorgrad.manual_seed(0)
    drawn = list(WeightedRandomSampler([1.0, 0.0, 3.0], 200))
    assert len(drawn) == 200 and 1 not in drawn and drawn.count(2) > drawn.count(0)
    assert sorted(WeightedRandomSampler([1.0, 2.0, 3.0], 3, replacement=False)) == [0, 1, 2]


@pytest.mark.parametrize("n, size, drop_last, batches", [
    (7, 3, False, [[0, 1, 2], [3, 4, 5], [6]]),
    (7, 3, True, [[0, 1, 2], [3, 4, 5]]),
    (6, 3, True, [[0, 1, 2], [3, 4, 5]]),
    (2, 3, True, []),
    (0, 3, False, []),
])
def test_batch_sampler_groups_indices(n, size, drop_last, batches):
    sampler = BatchSampler(SequentialSampler(range(n)), size, drop_last)
    assert list(sampler) == batches and len(sampler) == len(batches)


# ---- the loader: order, epochs, seeds -----------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 3, 10, 25])
def test_shuffling_sees_every_sample_once_an_epoch(batch_size):
    tensorgrad.manual_seed(0)
    loader = DataLoader(range(20), batch_size=batch_size, shuffle=True)
    epochs = [flat(loader) for _ in range(2)]
    assert all(sorted(epoch) == list(range(20)) for epoch in epochs)
    assert epochs[0] != epochs[1]  # a new order each epoch


def test_shuffling_with_drop_last_sees_distinct_samples():
    seen = flat(DataLoader(range(20), batch_size=6, shuffle=True, drop_last=True))
    assert len(seen) == 18 and len(set(seen)) == 18


def test_manual_seed_repeats_the_shuffled_order():
    loader = DataLoader(range(50), batch_size=8, shuffle=True)
    tensorgrad.manual_seed(7)
    first = values(loader)
    tensorgrad.manual_seed(7)
    assert values(loader) == first
    assert flat(loader) != [i for batch in first for i in batch]  # the next epoch: another


def test_a_generator_repeats_the_order_and_leaves_the_default_one_alone():
    def epoch() -> list[int]:
        return flat(DataLoader(range(50), batch_size=8, shuffle=True,
                               generator=tensorgrad.Generator().manual_seed(1)))

    tensorgrad.manual_seed(0)
    expected = tensorgrad.rand(3).tolist()
    tensorgrad.manual_seed(0)
    first = epoch()
    assert epoch() == first != list(range(50))
    assert tensorgrad.rand(3).tolist() == expected


def test_shuffle_false_keeps_the_dataset_order():
    assert values(DataLoader(range(7), batch_size=3)) == [[0, 1, 2], [3, 4, 5], [6]]


# ---- the loader: edge cases ---------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 3, None])
def test_an_empty_dataset_gives_no_batches(batch_size):
    loader = DataLoader([], batch_size=batch_size)
    assert list(loader) == [] and len(loader) == 0


def test_an_empty_dataset_cannot_be_shuffled():
    with pytest.raises(ValueError, match="num_samples=0"):  # as PyTorch's RandomSampler
        DataLoader([], shuffle=True)


def test_a_batch_larger_than_the_dataset():
    assert values(DataLoader(range(3), batch_size=10)) == [[0, 1, 2]]
    assert len(DataLoader(range(3), batch_size=10)) == 1
    dropped = DataLoader(range(3), batch_size=10, drop_last=True)
    assert list(dropped) == [] and len(dropped) == 0


def test_batch_size_none_hands_out_samples_one_by_one():
    loader = DataLoader([np.arange(2), 3, (np.float32(1.5), "a")], batch_size=None)
    first, second, third = list(loader)
    assert isinstance(first, tensorgrad.Tensor) and first.tolist() == [0, 1]
    assert second == 3  # Python numbers stay as they are
    assert isinstance(third, list) and third[0].dtype == np.float32 and third[1] == "a"
    assert len(loader) == 3


def test_an_iterable_dataset_is_batched_in_its_order():
    assert values(DataLoader(Stream(7), batch_size=3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert values(DataLoader(Stream(7), batch_size=3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(DataLoader(Stream(7), batch_size=3)) == 3
    assert len(DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]
    assert values(DataLoader(Stream(4, sized=False), batch_size=2)) == [[0, 1], [2, 3]]
    with pytest.raises(TypeError):
        len(DataLoader(Stream(4, sized=False)))


def test_workers_load_in_this_process_the_same_batches():
    dataset = TensorDataset(tensorgrad.arange(10))
    one = [b[0].tolist() for b in DataLoader(dataset, batch_size=3)]
    calls = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loader = DataLoader(dataset, batch_size=3, num_workers=4, persistent_workers=True,
                            prefetch_factor=4, timeout=5, worker_init_fn=calls.append,
                            pin_memory=True)
        assert [b[0].tolist() for b in loader] == one
    assert calls == []  # no worker to start


def test_a_stream_that_splits_among_workers_yields_everything_once():
    class Sharded(IterableDataset):
        def __iter__(self):
            info = get_worker_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return iter(range(start, 10, step))

    assert flat(DataLoader(Sharded(), batch_size=4, num_workers=2)) == list(range(10))


def test_timeout_without_workers_is_refused_when_iterated():
    loader = DataLoader(range(3), timeout=1)
    with pytest.raises(AssertionError):
        iter(loader)


def test_collate_fn_sampler_and_batch_sampler_of_ones_own():
    loader = DataLoader(range(6), batch_size=2, sampler=[5, 4, 3, 2, 1, 0], collate_fn=sum)
    assert list(loader) == [9, 5, 1]
    batches = DataLoader(range(6), batch_sampler=[[0, 5], [1, 2, 3]])
    assert values(batches) == [[0, 5], [1, 2, 3]] and len(batches) == 2
    assert batches.batch_size is None and batches.drop_last is False


def test_a_dataset_with_getitems_is_read_a_batch_at_a_time():
    class Batched(Dataset):
        def __init__(self):
            self.asked = []

        def __len__(self):
            return 5

        def __getitems__(self, indices):
            self.asked.append(indices)
            return [i * 10 for i in indices]

    dataset = Batched()
    assert values(DataLoader(dataset, batch_size=2)) == [[0, 10], [20, 30], [40]]
    assert dataset.asked == [[0, 1], [2, 3], [4]]


def test_the_samplers_cannot_change_after_the_loader_is_made():
    loader = DataLoader(range(4), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3
    loader.num_workers = 2  # the rest can


# ---- default_collate ----------------------------------------------------------------------------


def test_default_collate_dtypes():
    assert default_collate([1, 2]).dtype == np.int64
    assert default_collate([0.5, 1.0]).dtype == np.float64
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([np.float32(1), np.float32(2)]).dtype == np.float32
    stacked = default_collate([np.zeros((2, 3), np.float32)] * 4)
    assert stacked.shape == (4, 2, 3) and stacked.dtype == np.float32


def test_default_collate_keeps_the_structure():
    batch = default_collate([{"p": Point(1, [2.0, 3.0]), "s": "a", "t": (4, "x")},
                             {"p": Point(5, [6.0, 7.0]), "s": "b", "t": (8, "y")}])
    assert isinstance(batch["p"], Point) and batch["p"].x.tolist() == [1, 5]
    assert [c.tolist() for c in batch["p"].y] == [[2.0, 6.0], [3.0, 7.0]]
    assert batch["s"] == ["a", "b"]
    assert isinstance(batch["t"], list) and batch["t"][1] == ("x", "y")


def test_default_collate_keeps_the_graph():
    w = tensorgrad.ones(2, requires_grad=True)
    default_collate([w * 2, w * 3]).sum().backward()
    assert w.grad.tolist() == [5.0, 5.0]


def test_default_collate_refuses_what_it_cannot_batch():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found <class 'NoneType'>"):
        default_collate([None, None])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_default_convert_converts_arrays_inside_containers():
    converted = default_convert({"a": np.arange(2), "b": (np.int32(3), 4.0)})
    assert isinstance(converted["a"], tensorgrad.Tensor)
    assert converted["b"][0].dtype == np.int32 and converted["b"][1] == 4.0


# ---- against PyTorch ----------------------------------------------------------------------------


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def assert_same(ours, theirs, torch, where: str = "batch") -> None:
    """The same structure (container types, tensor or not), dtypes, shapes and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, tensorgrad.Tensor), where
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), where
        assert tuple(ours.shape) == tuple(theirs.shape), where
        assert ours.tolist() == theirs.tolist(), where
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs), where
        for key in theirs:
            assert_same(ours[key], theirs[key], torch, f"{where}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, torch, f"{where}[{i}]")
    else:
        assert type(ours) is type(theirs) and ours == theirs, where


SAMPLES = {  # kind -> sample i, given the library's tensor factory
    "float tensor": lambda t, i: t(np.arange(6.0).reshape(2, 3) * i),
    "int tensor": lambda t, i: t([i, i + 1]),
    "bool tensor": lambda t, i: t([i % 2 == 0]),
    "float32 array": lambda t, i: np.full(3, i, np.float32),
    "int64 array": lambda t, i: np.arange(i, i + 2),
    "0-d array": lambda t, i: np.array(i / 2),
    "int": lambda t, i: i,
    "float": lambda t, i: i / 2,
    "bool": lambda t, i: i % 2 == 0,
    "numpy float32": lambda t, i: np.float32(i),
    "numpy int32": lambda t, i: np.int32(i),
    "numpy bool": lambda t, i: np.bool_(i % 2),
    "str": lambda t, i: f"s{i}",
    "bytes": lambda t, i: b"b%d" % i,
    "tuple": lambda t, i: (t([i, i]), i, f"s{i}"),
    "list": lambda t, i: [i, i / 2],
    "dict": lambda t, i: {"x": t(np.full(2, i / 2)), "label": i, "name": f"s{i}"},
    "named tuple": lambda t, i: Point(t([i]), i / 2),
    "nested": lambda t, i: {"pair": (i, [i, np.int64(i)]), "points": [Point(i, 1.0)]},
}


@pytest.mark.parametrize("kind", SAMPLES)
@pytest.mark.parametrize("batch_size", [3, None])
def test_batches_of_every_kind_of_sample_as_torch(torch, kind, batch_size):
    make = SAMPLES[kind]
    ours = list(DataLoader([make(tensorgrad.tensor, i) for i in range(4)],
                           batch_size=batch_size))
    theirs = list(torch.utils.data.DataLoader([make(torch.tensor, i) for i in range(4)],
                                              batch_size=batch_size))
    assert_same(ours, theirs, torch)


@pytest.mark.parametrize("n", [0, 1, 5, 8, 9])
@pytest.mark.parametrize("batch_size", [1, 3, 8, 10])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_batches_and_lengths_as_torch(torch, n, batch_size, drop_last):
    ours = DataLoader(range(n), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(range(n), batch_size=batch_size, drop_last=drop_last)
    assert values(ours) == values(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("n", [0, 1, 5, 9])
@pytest.mark.parametrize("batch_size", [1, 3, None])
@pytest.mark.parametrize("drop_last", [False, True])
def test_stream_batches_and_lengths_as_torch(torch, n, batch_size, drop_last):
    if batch_size is None and drop_last:
        return  # refused by both: see the argument checks
    ours = DataLoader(Stream(n), batch_size=batch_size, drop_last=drop_last)
    their_stream = stream_type(torch.utils.data.IterableDataset)(n)
    theirs = torch.utils.data.DataLoader(their_stream, batch_size=batch_size,
                                         drop_last=drop_last)
    assert [b if batch_size is None else b.tolist() for b in ours] == \
        [b if batch_size is None else b.tolist() for b in theirs]
    assert len(ours) == len(theirs)


@pytest.mark.parametrize("n", [0, 1, 7, 10, 11])
@pytest.mark.parametrize("lengths", [[0.8, 0.2], [1 / 3] * 3, [0.5, 0.5, 0.0], [1.0],
                                     [0.1] * 10])
def test_random_split_lengths_as_torch(torch, n, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (both warn of empty splits)
        ours = random_split(range(n), lengths)
        theirs = torch.utils.data.random_split(range(n), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]


def test_datasets_index_as_torch(torch):
    x = np.arange(12.0).reshape(4, 3)
    ours = ConcatDataset([TensorDataset(tensorgrad.tensor(x)), Subset(range(10), [7, 2])])
    theirs = torch.utils.data.ConcatDataset([torch.utils.data.TensorDataset(torch.tensor(x)),
                                             torch.utils.data.Subset(range(10), [7, 2])])
    assert len(ours) == len(theirs)
    for i in range(-len(ours), len(ours)):
        assert_same(ours[i], theirs[i], torch, f"[{i}]")
    assert_same(list(DataLoader(ours, batch_size=2))[:2],
                list(torch.utils.data.DataLoader(theirs, batch_size=2))[:2], torch)


BAD = {  # what each library must refuse alike: (m, t) -> the call, m the data module
    "num_workers < 0": lambda m, t: m.DataLoader(range(3), num_workers=-1),
    "timeout < 0": lambda m, t: m.DataLoader(range(3), timeout=-1),
    "prefetch_factor, no workers": lambda m, t: m.DataLoader(range(3), prefetch_factor=2),
    "prefetch_factor < 0": lambda m, t: m.DataLoader(range(3), num_workers=2, prefetch_factor=-1),
    "persistent, no workers": lambda m, t: m.DataLoader(range(3), persistent_workers=True),
    "context, no workers": lambda m, t: m.DataLoader(range(3), multiprocessing_context="spawn"),
    "sampler and shuffle": lambda m, t: m.DataLoader(range(3), sampler=[0, 1], shuffle=True),
    "batch_sampler and batch_size": lambda m, t: m.DataLoader(range(3), batch_sampler=[[0]],
                                                              batch_size=2),
    "batch_sampler and shuffle": lambda m, t: m.DataLoader(range(3), batch_sampler=[[0]],
                                                           shuffle=True),
    "batch_sampler and sampler": lambda m, t: m.DataLoader(range(3), batch_sampler=[[0]],
                                                           sampler=[0]),
    "batch_sampler and drop_last": lambda m, t: m.DataLoader(range(3), batch_sampler=[[0]],
                                                             drop_last=True),
    "batch_size None, drop_last": lambda m, t: m.DataLoader(range(3), batch_size=None,
                                                            drop_last=True),
    "batch_size 0": lambda m, t: m.DataLoader(range(3), batch_size=0),
    "batch_size float": lambda m, t: m.DataLoader(range(3), batch_size=2.0),
    "batch_size bool": lambda m, t: m.DataLoader(range(3), batch_size=True),
    "drop_last int": lambda m, t: m.DataLoader(range(3), drop_last=1),
    "shuffle an empty dataset": lambda m, t: m.DataLoader([], shuffle=True),
    "stream, shuffle": lambda m, t: m.DataLoader(m.ChainDataset([]), shuffle=True),
    "stream, sampler": lambda m, t: m.DataLoader(m.ChainDataset([]), sampler=[0]),
    "stream, batch_sampler": lambda m, t: m.DataLoader(m.ChainDataset([]), batch_sampler=[[0]]),
    "stream, batch_size 0": lambda m, t: m.DataLoader(m.ChainDataset([]), batch_size=0),
    "timeout, no workers": lambda m, t: iter(m.DataLoader(range(3), timeout=2)),
    "replacement int": lambda m, t: m.RandomSampler(range(3), replacement=1),
    "num_samples 0": lambda m, t: m.RandomSampler(range(3), num_samples=0),
    "num_samples float": lambda m, t: m.RandomSampler(range(3), num_samples=2.0),
    "weighted, num_samples 0": lambda m, t: m.WeightedRandomSampler([1.0, 2.0], 0),
    "weighted, replacement int": lambda m, t: m.WeightedRandomSampler([1.0], 1, replacement=1),
    "weighted, 2-d weights": lambda m, t: m.WeightedRandomSampler([[1.0, 2.0]], 1),
    "batch sampler, drop_last None": lambda m, t: m.BatchSampler(range(3), 2, None),
    "tensors of two lengths": lambda m, t: m.TensorDataset(t([1, 2]), t([1, 2, 3])),
    "concat nothing": lambda m, t: m.ConcatDataset([]),
    "concat a stream": lambda m, t: m.ConcatDataset([m.ChainDataset([])]),
    "chain a map-style dataset": lambda m, t: list(m.ChainDataset([[1]])),
    "index below -len": lambda m, t: m.ConcatDataset([[1, 2]])[-3],
    "split lengths off": lambda m, t: m.random_split(range(5), [2, 2]),
    "split fraction > 1": lambda m, t: m.random_split(range(5), [1.25, -0.25]),
    "collate None": lambda m, t: m.default_collate([None]),
    "collate strings array": lambda m, t: m.default_collate([np.array(["a"])]),
    "collate ragged": lambda m, t: m.default_collate([[1], [1, 2]]),
}
OWN_WORDS = {"timeout, no workers"}  # the same error, said in other words


@pytest.mark.parametrize("case", BAD)
def test_bad_arguments_raise_as_torch(torch, case):
    with pytest.raises(Exception) as theirs:
        BAD[case](torch.utils.data, torch.tensor)
    with pytest.raises(Exception) as ours:
        BAD[case](tensorgrad.utils.data, tensorgrad.tensor)
    assert ours.type is theirs.type
    if case not in OWN_WORDS:
        assert str(ours.value) == str(theirs.value)


def test_stack_dataset_gives_each_datasets_sample_side_by_side():
    from tensorgrad.utils.data import StackDataset, TensorDataset

    images, labels = TensorDataset(tensorgrad.arange(3)), [10, 11, 12]
    pairs = StackDataset(images, labels)
    assert len(pairs) == 3 and pairs[1][1] == 11 and pairs[1][0][0].item() == 1
    named = StackDataset(x=images, y=labels)
    assert named[2]["y"] == 12 and named[2]["x"][0].item() == 2
    for args, kwargs, message in [((), {}, "At least one dataset"),
                                  ((images,), {"y": labels}, "both types are given"),
                                  ((images, [1]), {}, "Size mismatch")]:
        with pytest.raises(ValueError, match=message):
            StackDataset(*args, **kwargs)
