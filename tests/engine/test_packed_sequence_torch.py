"""nn.utils.rnn and the recurrent layers on packed sequences, held against PyTorch's.

Packing, padding and unpacking must give PyTorch's tensors (data, batch sizes, indices,
lengths) and gradients; ``RNN``, ``LSTM`` and ``GRU`` given a packed batch (sorted or not,
packed time or batch first, one or two layers, one or two directions, given or default
initial states) must give PyTorch's packed output, h_n (and c_n) and the gradients of the
padded input, the initial states and every parameter, in float64 and float32. Skipped
without torch (``test_packed_sequence.py`` checks them on their own).
"""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import assert_same, assert_same_runs

import tensorgrad
from tensorgrad.nn import rnn
from tensorgrad.nn.utils import rnn as packing

torch = pytest.importorskip("torch")
their_packing = torch.nn.utils.rnn

TOL = {"float64": 1e-10, "float32": 1e-5}
H_IN, H = 3, 4


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def normal(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def weighted_sum(results: list, lib, dtype: str):
    """One random weighting of the results, the same for both libraries."""
    rng = np.random.default_rng(1)
    return sum((r * lib.tensor(rng.standard_normal(tuple(r.shape)).astype(dtype))).sum()
               for r in results)


def assert_same_packed(ours, theirs, rtol: float) -> None:
    assert type(ours).__name__ == "PackedSequence" and ours._fields == theirs._fields
    for field, a, b in zip(ours._fields, ours, theirs):
        assert (a is None) == (b is None), field
        if a is not None:
            assert_same(a, b, field, rtol)


# ---- packing and padding ----------------------------------------------------------------------

PACKINGS = {  # name: (lengths, batch_first, enforce_sorted, T)
    "sorted": ([4, 3, 3, 1], False, True, 4),
    "sorted, batch first": ([4, 2, 1], True, True, 4),
    "unsorted, ties": ([2, 4, 2, 1, 4], False, False, 4),
    "unsorted, batch first, padding past the longest": ([1, 3, 2], True, False, 6),
    "one sequence": ([3], False, True, 3),
    "equal lengths, unsorted": ([2, 2, 2], True, False, 2),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", PACKINGS)
def test_pack_and_pad_are_pytorchs(case, dtype):
    lengths, batch_first, enforce_sorted, steps = PACKINGS[case]
    shape = (len(lengths), steps, 2) if batch_first else (steps, len(lengths), 2)
    runs = []
    for lib, utils in ((tensorgrad, packing), (torch, their_packing)):
        padded = lib.tensor(normal(*shape).astype(dtype), requires_grad=True)
        packed = utils.pack_padded_sequence(padded, lib.tensor(lengths), batch_first,
                                            enforce_sorted)
        # unpacked the other way round, with NaN padding: the gradient must not see it
        again, back = utils.pad_packed_sequence(packed, not batch_first, float("nan"),
                                                total_length=steps + 1)
        loss = weighted_sum([packed.data, again.nan_to_num(0.0)], lib, dtype)
        loss.backward()
        runs.append((packed, [again, back], padded.grad))
    (packed, results, grad), (their_packed, their_results, their_grad) = runs
    assert_same_packed(packed, their_packed, TOL[dtype])
    for i, (a, b) in enumerate(zip(results, their_results)):
        assert_same(a, b, f"result {i}", TOL[dtype])
    assert_same(grad, their_grad, "gradient", TOL[dtype])


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_and_pack_sequence_are_pytorchs(batch_first, padding_side):
    shapes = [(2, 3), (4, 3), (1, 3)]  # the second given as (3, 4) transposed
    runs = []
    for lib, utils in ((tensorgrad, packing), (torch, their_packing)):
        # the second float32 and a transposed view: the result is the first's dtype
        seqs = [lib.tensor(normal(*s, seed=i).astype("float32" if i == 1 else "float64"),
                           requires_grad=True) for i, s in enumerate(shapes)]
        viewed = [seqs[0], seqs[1].t().contiguous().t(), seqs[2]]
        padded = utils.pad_sequence(viewed, batch_first, -1.5, padding_side)
        packed = utils.pack_sequence(viewed, enforce_sorted=False)
        weighted_sum([padded, packed.data], lib, "float64").backward()
        runs.append(([padded, *packed[1:]], [s.grad for s in seqs], {}))
    assert_same_runs(*runs, 1e-6)


def test_an_integer_batch_packs_as_pytorchs():
    seqs = [[1, 2, 3], [4, 5], [6]]
    ours = packing.pack_sequence([tensorgrad.tensor(s) for s in seqs])
    theirs = their_packing.pack_sequence([torch.tensor(s) for s in seqs])
    assert_same_packed(ours, theirs, 0)
    for ours_out, their_out in zip(packing.pad_packed_sequence(ours, True, 9),
                                   their_packing.pad_packed_sequence(theirs, True, 9)):
        assert_same(ours_out, their_out, "padded", 0)


BAD = {  # name: call(lib, utils)
    "unsorted": lambda lib, u: u.pack_padded_sequence(lib.zeros(4, 3, 2), [2, 3, 1]),
    "a length 0": lambda lib, u: u.pack_padded_sequence(lib.zeros(4, 3, 2), [3, 2, 0]),
    "a length 0, unsorted": lambda lib, u: u.pack_padded_sequence(
        lib.zeros(4, 3, 2), [0, 3, 2], enforce_sorted=False),
    "lengths for another batch": lambda lib, u: u.pack_padded_sequence(
        lib.zeros(4, 3, 2), [3, 2]),
    "2-d lengths": lambda lib, u: u.pack_padded_sequence(lib.zeros(4, 3, 2),
                                                         lib.tensor([[3, 2, 1]])),
    "no batch": lambda lib, u: u.pack_padded_sequence(lib.zeros(4, 0, 2), []),
    "1-d input": lambda lib, u: u.pack_padded_sequence(lib.zeros(4), [3]),
    "total_length short": lambda lib, u: u.pad_packed_sequence(
        u.pack_sequence([lib.zeros(3), lib.zeros(2)]), total_length=2),
    "pack_sequence unsorted": lambda lib, u: u.pack_sequence([lib.zeros(1), lib.zeros(2)]),
    "no sequences": lambda lib, u: u.pad_sequence([]),
    "not iterable": lambda lib, u: u.pad_sequence(3),
    "padding side": lambda lib, u: u.pad_sequence([lib.zeros(2)], padding_side="up"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_arguments_raise_pytorchs_errors(case):
    with pytest.raises(Exception) as theirs:
        BAD[case](torch, their_packing)
    with pytest.raises(type(theirs.value)) as ours:
        BAD[case](tensorgrad, packing)
    assert str(ours.value) == str(theirs.value)


# ---- the recurrent layers on a packed batch ----------------------------------------------------

MODULES = {  # name: settings
    "RNN": {},
    "RNN, relu, two layers, bidirectional": {"nonlinearity": "relu", "num_layers": 2,
                                             "bidirectional": True},
    "LSTM": {},
    "LSTM, two layers, bidirectional": {"num_layers": 2, "bidirectional": True},
    "LSTM, proj_size, bidirectional": {"proj_size": 3, "bidirectional": True},
    "GRU, bidirectional": {"bidirectional": True},
    "GRU, two layers, bidirectional, batch_first (ignored)": {
        "num_layers": 2, "bidirectional": True, "batch_first": True},
}
BATCHES = {  # name: (lengths, packed batch first, enforce_sorted, initial states given)
    "sorted": ([5, 3, 3, 1], False, True, False),
    "sorted, initial states": ([5, 3, 3, 1], True, True, True),
    "unsorted, initial states": ([2, 5, 1, 5, 3], False, False, True),
    "unsorted, batch first": ([1, 4, 2], True, False, False),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("module", MODULES)
def test_a_packed_batch_runs_as_pytorchs(module, batch, dtype):
    name, settings = module.split(",")[0], {"input_size": H_IN, "hidden_size": H,
                                            **MODULES[module]}
    lengths, batch_first, enforce_sorted, given = BATCHES[batch]
    steps, count = max(lengths), len(lengths)
    torch.manual_seed(0)
    reference = getattr(torch.nn, name)(**settings).to(getattr(torch, dtype))
    model = getattr(rnn, name)(**settings).to(getattr(tensorgrad, dtype))
    model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    layers = settings.get("num_layers", 1) * (2 if settings.get("bidirectional") else 1)
    states = [(layers, count, settings.get("proj_size") or H)]
    if name == "LSTM":
        states.append((layers, count, H))
    runs = []
    for lib, utils, m in ((tensorgrad, packing, model), (torch, their_packing, reference)):
        shape = (count, steps, H_IN) if batch_first else (steps, count, H_IN)
        leaves = [lib.tensor(normal(*shape).astype(dtype), requires_grad=True)]
        if given:
            leaves += [lib.tensor(normal(*s, seed=2 + i).astype(dtype), requires_grad=True)
                       for i, s in enumerate(states)]
        packed = utils.pack_padded_sequence(leaves[0], lengths, batch_first, enforce_sorted)
        hx = None if not given else leaves[1] if name != "LSTM" else tuple(leaves[1:])
        output, final = m(packed, hx)
        padded, _ = utils.pad_packed_sequence(output, batch_first=True)
        results = [output.data, padded, *(final if name == "LSTM" else (final,))]
        assert all(a is b for a, b in zip(output[1:], packed[1:]))  # packed as the input
        weighted_sum(results, lib, dtype).backward()
        runs.append((results, [x.grad for x in leaves],
                     {n: p.grad for n, p in m.named_parameters()}))
    assert_same_runs(*runs, TOL[dtype], module)


def test_packed_inputs_raise_pytorchs_errors_for_bad_states():
    for lib, utils in ((tensorgrad, packing), (torch, their_packing)):
        lib.manual_seed(0)
        gru = lib.nn.GRU(H_IN, H, num_layers=2).double()
        packed = utils.pack_sequence([lib.zeros(3, H_IN, dtype=lib.float64),
                                      lib.zeros(2, H_IN, dtype=lib.float64)])
        with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 2, 4\), got "
                                               r"\[2, 3, 4\]"):
            gru(packed, lib.zeros(2, 3, H, dtype=lib.float64))
        with pytest.raises(ValueError, match="RNN input dtype"):
            gru(packed.float())
