"""nn.utils.rnn and the recurrent layers on packed sequences, without PyTorch: a packing
written out by hand, packing and padding round trips (layouts, dtypes, orders, NaN), a
packed run of ``RNN``, ``LSTM`` and ``GRU`` equal to running each sequence alone at its own
length, and the gradients of packing, padding and a packed run held against finite
differences (``gradcheck``).

test_packed_sequence_torch.py holds the same against PyTorch itself.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import module_as_function

import tensorgrad
from tensorgrad import Tensor, nn
from tensorgrad.nn.rnn import GRU, LSTM, RNN, GRUCell
from tensorgrad.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
)


def normal(*shape: int, seed: int = 0, requires_grad: bool = False) -> Tensor:
    return Tensor(np.random.default_rng(seed).standard_normal(shape),
                  requires_grad=requires_grad)


# ---- packing by hand --------------------------------------------------------------------------


def test_a_batch_packs_time_major_longest_first():
    padded = tensorgrad.tensor([[1, 2, 0], [3, 0, 0], [4, 5, 6]])  # batch first, lengths 2 1 3
    packed = pack_padded_sequence(padded, tensorgrad.tensor([2, 1, 3]), batch_first=True,
                                  enforce_sorted=False)
    assert isinstance(packed, tuple) and packed._fields == (
        "data", "batch_sizes", "sorted_indices", "unsorted_indices")
    assert packed.data.tolist() == [4, 1, 3, 5, 2, 6]
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.batch_sizes.dtype == np.int64
    assert packed.sorted_indices.tolist() == [2, 0, 1]
    assert packed.unsorted_indices.tolist() == [1, 2, 0]
    again, lengths = pad_packed_sequence(packed, batch_first=True, padding_value=-1)
    assert again.tolist() == [[1, 2, -1], [3, -1, -1], [4, 5, 6]]
    assert lengths.tolist() == [2, 1, 3] and lengths.dtype == np.int64
    time_major, _ = pad_packed_sequence(packed, total_length=4)
    assert time_major.tolist() == [[1, 3, 4], [2, 0, 5], [0, 0, 6], [0, 0, 0]]


def test_sorted_sequences_keep_no_indices_and_equal_lengths_keep_their_order():
    packed = pack_sequence([tensorgrad.tensor([1.0, 2.0, 3.0]), tensorgrad.tensor([4.0, 5.0])])
    assert packed.data.tolist() == [1.0, 4.0, 2.0, 5.0, 3.0]
    assert packed.batch_sizes.tolist() == [2, 2, 1]
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    ties = pack_padded_sequence(tensorgrad.zeros(3, 4), [1, 3, 1, 3], enforce_sorted=False)
    assert ties.sorted_indices.tolist() == [1, 3, 0, 2]  # a stable sort


def test_pad_sequence_pads_right_or_left_and_keeps_the_first_dtype():
    seqs = [tensorgrad.tensor([1.0, 2.0]), tensorgrad.tensor([3.0, 4.0, 5.0]),
            tensorgrad.zeros(0)]
    assert pad_sequence(seqs, padding_value=9).tolist() == [[1, 3, 9], [2, 4, 9], [9, 5, 9]]
    assert pad_sequence(seqs, True, 9, "left").tolist() == [[9, 1, 2], [3, 4, 5], [9, 9, 9]]
    assert pad_sequence([seqs[0].float(), seqs[1]]).dtype == np.float32
    assert pad_sequence(tensorgrad.ones(2, 3)).shape == (3, 2)  # a tensor is its rows


# ---- round trips ------------------------------------------------------------------------------


def layouts(x: np.ndarray) -> dict[str, np.ndarray]:
    return {"C": x, "Fortran": np.asfortranarray(x),
            "transposed view": np.ascontiguousarray(x.swapaxes(0, 1)).swapaxes(0, 1),
            "sliced": np.concatenate([x, x], axis=-1)[..., ::2]}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[5, 3, 3, 1], [2, 5, 1, 4], [3]])
def test_pack_then_pad_gives_the_batch_back_with_padding_past_each_length(
        lengths, batch_first, dtype):
    steps, batch = 6, len(lengths)
    base = np.random.default_rng(0).standard_normal((steps, batch, 2)).astype(dtype)
    base[0, 0, 1] = np.nan  # NaN and inf flow through as values
    base[1, 0, 0] = np.inf
    if batch_first:
        base = base.swapaxes(0, 1)
    sorted_ = lengths == sorted(lengths, reverse=True)
    for layout, array in layouts(base).items():
        packed = pack_padded_sequence(Tensor(array), lengths, batch_first, sorted_)
        assert packed.data.dtype == dtype and packed.data.shape == (sum(lengths), 2)
        again, back = pad_packed_sequence(packed, batch_first, padding_value=-7.0)
        assert back.tolist() == lengths
        expected = array[:, :max(lengths)] if batch_first else array[:max(lengths)]
        expected = expected.copy()
        for b, n in enumerate(lengths):
            if batch_first:
                expected[b, n:] = -7.0
            else:
                expected[n:, b] = -7.0
        np.testing.assert_array_equal(again.numpy(), expected, err_msg=layout)


def test_the_packed_data_is_each_step_of_the_sequences_running_in_length_order():
    lengths = [2, 4, 1]
    seqs = [normal(n, 3, seed=n) for n in lengths]
    packed = pack_sequence(seqs, enforce_sorted=False)
    order = [1, 0, 2]  # longest first
    rows = [seqs[b][t].numpy() for t in range(4) for b in order if t < lengths[b]]
    np.testing.assert_array_equal(packed.data.numpy(), np.stack(rows))
    assert packed.batch_sizes.tolist() == [3, 2, 1, 1]


def test_packed_sequence_is_a_named_tuple_with_its_inverse_order():
    data, sizes = tensorgrad.zeros(3, 2), tensorgrad.tensor([2, 1])
    packed = PackedSequence(data, sizes, tensorgrad.tensor([1, 0]))
    assert packed.unsorted_indices.tolist() == [1, 0]
    assert PackedSequence((data, sizes)).batch_sizes is sizes
    assert packed.float().data.dtype == np.float32 and packed.double() is packed
    assert packed.to(np.float64) is packed and packed.cpu() is packed and not packed.is_cuda
    data, batch_sizes, sorted_indices, unsorted_indices = packed  # unpacks as a tuple
    assert sorted_indices.tolist() == [1, 0]


def test_nn_utils_is_a_package_with_its_names():
    assert nn.utils.rnn.pack_sequence is pack_sequence
    assert callable(nn.utils.clip_grad_norm_) and callable(nn.utils.clip_grad_value_)


BAD = {  # name: (call, error, message)
    "unsorted": (lambda: pack_padded_sequence(tensorgrad.zeros(4, 3), [2, 3, 1]),
                 RuntimeError, "must be sorted in decreasing order"),
    "a length 0": (lambda: pack_padded_sequence(tensorgrad.zeros(4, 2), [3, 0]),
                   RuntimeError, "Length of all samples has to be greater than 0"),
    "a length past the input": (lambda: pack_padded_sequence(tensorgrad.zeros(4, 2), [5, 1]),
                                ValueError, "lengths: a sequence of length 5"),
    "lengths for another batch": (lambda: pack_padded_sequence(tensorgrad.zeros(4, 3), [3, 2]),
                                  RuntimeError, "to be equal to batch_size, but got 2"),
    "total_length short": (lambda: pad_packed_sequence(
        pack_sequence([tensorgrad.zeros(3)]), total_length=2), ValueError,
        "total_length=2 and max sequence length being 3"),
    "0-d sequence": (lambda: pad_sequence([tensorgrad.tensor(1.0)]), ValueError,
                     "sequences"),
    "other step shapes": (lambda: pad_sequence([tensorgrad.zeros(2, 3), tensorgrad.zeros(2, 4)]),
                          RuntimeError, "shaped as the first's"),
    "a cell": (lambda: GRUCell(2, 3)(pack_sequence([tensorgrad.zeros(2, 2)])),
               NotImplementedError, "not supported by a cell"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_arguments_are_refused(case):
    call, error, message = BAD[case]
    with pytest.raises(error, match=message):
        call()


# ---- a packed run is each sequence's own run --------------------------------------------------

MODULES = {
    "RNN": lambda: RNN(3, 4),
    "RNN, relu, two layers, bidirectional": lambda: RNN(3, 4, 2, "relu", bidirectional=True),
    "LSTM, two layers, bidirectional": lambda: LSTM(3, 4, 2, bidirectional=True),
    "LSTM, proj_size": lambda: LSTM(3, 4, proj_size=2, bidirectional=True),
    "GRU, two layers, bidirectional": lambda: GRU(3, 4, 2, bidirectional=True),
}


@pytest.mark.parametrize("given", [False, True], ids=["zero states", "given states"])
@pytest.mark.parametrize("module", MODULES)
def test_a_packed_run_is_each_sequence_run_alone_at_its_length(module, given):
    tensorgrad.manual_seed(0)
    m = MODULES[module]().requires_grad_(False)
    lstm = isinstance(m, LSTM)
    lengths = [3, 5, 1, 5]
    seqs = [normal(n, 3, seed=i) for i, n in enumerate(lengths)]
    layers = m.num_layers * (2 if m.bidirectional else 1)
    h0 = normal(layers, 4, m.proj_size or 4, seed=7)
    c0 = normal(layers, 4, 4, seed=8)
    hx = ((h0, c0) if lstm else h0) if given else None
    output, final = m(pack_sequence(seqs, enforce_sorted=False), hx)
    padded, back = pad_packed_sequence(output, batch_first=True)
    assert back.tolist() == lengths
    finals = final if lstm else (final,)
    for b, (seq, n) in enumerate(zip(seqs, lengths)):
        own_hx = None if not given else ((h0[:, b], c0[:, b]) if lstm else h0[:, b])
        alone, alone_final = m(seq, own_hx)  # unbatched
        np.testing.assert_allclose(padded[b, :n].numpy(), alone.numpy(), rtol=1e-12,
                                   atol=1e-14)
        assert not padded[b, n:].numpy().any()
        for ours, theirs in zip(finals, alone_final if lstm else (alone_final,)):
            np.testing.assert_allclose(ours[:, b].numpy(), theirs.numpy(), rtol=1e-12,
                                       atol=1e-14)


def test_a_packed_run_in_float32_stays_float32():
    m = LSTM(3, 4).float()
    packed = pack_sequence([normal(3, 3).float(), normal(2, 3).float()])
    output, (h_n, c_n) = m(packed)
    assert output.data.dtype == h_n.dtype == c_n.dtype == np.float32


# ---- gradients --------------------------------------------------------------------------------


def test_packing_and_padding_gradients():
    x = normal(4, 3, 2, requires_grad=True)

    def fn(x):
        packed = pack_padded_sequence(x * 1.5, [2, 4, 1], enforce_sorted=False)
        padded, _ = pad_packed_sequence(packed, batch_first=True, padding_value=3.0)
        return tensorgrad.cat([packed.data.reshape(-1), (padded * padded).reshape(-1)])

    assert tensorgrad.gradcheck(fn, x, reference="finite-difference")
    seqs = [normal(n, 2, seed=n, requires_grad=True) for n in (2, 3, 1)]
    assert tensorgrad.gradcheck(
        lambda *s: pad_sequence(list(s), True, 0.5, "left") ** 2, *seqs,
        reference="finite-difference")


@pytest.mark.parametrize("name", ["GRU", "LSTM"])
def test_two_layer_bidirectional_packed_gradients(name):
    tensorgrad.manual_seed(0)
    m = (GRU if name == "GRU" else LSTM)(2, 2, num_layers=2, bidirectional=True)
    x = normal(3, 3, 2, requires_grad=True)
    states = [normal(4, 3, 2, seed=i, requires_grad=True) for i in (1, 2)][:2 if name == "LSTM"
                                                                           else 1]

    def forward(m, x, *states):
        packed = pack_padded_sequence(x, [2, 3, 1], enforce_sorted=False)
        output, final = m(packed, tuple(states) if name == "LSTM" else states[0])
        finals = final if name == "LSTM" else (final,)
        return tensorgrad.cat([output.data.reshape(-1), *(f.reshape(-1) for f in finals)])

    names = [n for n, _ in m.named_parameters()]
    params = [p.detach().requires_grad_() for p in m.parameters()]
    assert tensorgrad.gradcheck(module_as_function(m, names, forward), x, *states, *params,
                                reference="finite-difference")


def test_unpad_and_unpack_give_back_the_sequences_with_their_gradients():
    from tensorgrad.nn.utils.rnn import (
        invert_permutation,
        pack_sequence,
        pad_sequence,
        unpack_sequence,
        unpad_sequence,
    )

    a = Tensor([[1.0], [2.0], [3.0]], requires_grad=True)
    b = Tensor([[4.0]], requires_grad=True)
    for batch_first in (False, True):
        back = unpad_sequence(pad_sequence([a, b], batch_first=batch_first), Tensor([3, 1]),
                              batch_first=batch_first)
        assert [x.tolist() for x in back] == [a.tolist(), b.tolist()]
    back = unpack_sequence(pack_sequence([b, a], enforce_sorted=False))
    assert [x.tolist() for x in back] == [b.tolist(), a.tolist()]
    (back[0].sum() * 2 + back[1].sum()).backward()
    assert a.grad.tolist() == [[1.0]] * 3 and b.grad.tolist() == [[2.0]]
    assert invert_permutation(Tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert invert_permutation(None) is None
