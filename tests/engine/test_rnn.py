"""The recurrent layers by their behaviour, without PyTorch: PyTorch's parameter names,
shapes and printout (recorded here from PyTorch 2.13), its starting range and messages, one
LSTM and one GRU step computed by hand in NumPy, the sequence modules against their cells'
steps, the reverse direction against a forward one on the flipped sequence, dropout only
between layers, and every gradient held against finite differences (``gradcheck``).

test_rnn_torch.py holds the same modules against PyTorch itself.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import module_as_function

import tensorgrad
from tensorgrad import Tensor, nn
from tensorgrad.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

# ---- PyTorch's names, shapes and printout -------------------------------------------------------

# (name, shape) of each state_dict() entry, in order, as PyTorch 2.13 gives them
LSTM_STATE = [
    ("weight_ih_l0", (24, 4)), ("weight_hh_l0", (24, 3)), ("bias_ih_l0", (24,)),
    ("bias_hh_l0", (24,)), ("weight_hr_l0", (3, 6)), ("weight_ih_l0_reverse", (24, 4)),
    ("weight_hh_l0_reverse", (24, 3)), ("bias_ih_l0_reverse", (24,)),
    ("bias_hh_l0_reverse", (24,)), ("weight_hr_l0_reverse", (3, 6)),
    ("weight_ih_l1", (24, 6)), ("weight_hh_l1", (24, 3)), ("bias_ih_l1", (24,)),
    ("bias_hh_l1", (24,)), ("weight_hr_l1", (3, 6)), ("weight_ih_l1_reverse", (24, 6)),
    ("weight_hh_l1_reverse", (24, 3)), ("bias_ih_l1_reverse", (24,)),
    ("bias_hh_l1_reverse", (24,)), ("weight_hr_l1_reverse", (3, 6))]
STATES = {
    "LSTM, 2 layers, bidirectional, proj_size": (
        lambda: LSTM(4, 6, 2, bidirectional=True, proj_size=3), LSTM_STATE),
    "GRU, 2 layers, bias=False": (
        lambda: GRU(3, 4, num_layers=2, bias=False),
        [("weight_ih_l0", (12, 3)), ("weight_hh_l0", (12, 4)), ("weight_ih_l1", (12, 4)),
         ("weight_hh_l1", (12, 4))]),
    "RNN, bidirectional": (
        lambda: RNN(3, 4, bidirectional=True),
        [("weight_ih_l0", (4, 3)), ("weight_hh_l0", (4, 4)), ("bias_ih_l0", (4,)),
         ("bias_hh_l0", (4,)), ("weight_ih_l0_reverse", (4, 3)),
         ("weight_hh_l0_reverse", (4, 4)), ("bias_ih_l0_reverse", (4,)),
         ("bias_hh_l0_reverse", (4,))]),
    "LSTMCell": (lambda: LSTMCell(3, 4), [("weight_ih", (16, 3)), ("weight_hh", (16, 4)),
                                          ("bias_ih", (16,)), ("bias_hh", (16,))]),
    "GRUCell, bias=False": (lambda: GRUCell(3, 4, bias=False),
                            [("weight_ih", (12, 3)), ("weight_hh", (12, 4))]),
    "RNNCell": (lambda: RNNCell(3, 4), [("weight_ih", (4, 3)), ("weight_hh", (4, 4)),
                                        ("bias_ih", (4,)), ("bias_hh", (4,))]),
}


@pytest.mark.parametrize("name", list(STATES))
def test_state_dict_names_and_shapes_are_pytorchs(name):
    build, expected = STATES[name]
    module = build()
    assert [(k, v.shape) for k, v in module.state_dict().items()] == expected
    assert [n for n, _ in module.named_parameters()] == [n for n, _ in expected]
    twin = build()
    assert not twin.load_state_dict({k: v.numpy() for k, v in module.state_dict().items()}
                                    ).missing_keys
    for (k, v), w in zip(module.state_dict().items(), twin.state_dict().values()):
        np.testing.assert_array_equal(v.data, w.data, err_msg=k)


def test_the_printouts_and_attributes_are_pytorchs():
    assert repr(LSTM(4, 6, 2, bidirectional=True, proj_size=3)) == \
        "LSTM(4, 6, proj_size=3, num_layers=2, bidirectional=True)"
    assert repr(RNN(4, 5, nonlinearity="relu", bias=False, batch_first=True, dropout=0.5,
                    num_layers=2)) == \
        "RNN(4, 5, num_layers=2, bias=False, batch_first=True, dropout=0.5)"
    assert repr(RNNCell(4, 5, nonlinearity="relu", bias=False)) == \
        "RNNCell(4, 5, bias=False, nonlinearity=relu)"
    assert repr(GRUCell(3, 4)) == "GRUCell(3, 4)"
    assert repr(LSTMCell(3, 4, bias=False)) == "LSTMCell(3, 4, bias=False)"
    gru = GRU(3, 4, num_layers=2, dropout=1, bidirectional=True)
    assert (gru.mode, gru.input_size, gru.hidden_size, gru.num_layers, gru.bias,
            gru.batch_first, gru.dropout, gru.bidirectional, gru.proj_size) == \
        ("GRU", 3, 4, 2, True, False, 1.0, True, 0)
    assert isinstance(gru.dropout, float)
    assert RNN(3, 4, 1, "relu").mode == "RNN_RELU" and RNN(3, 4).nonlinearity == "tanh"
    assert gru._all_weights[1] == ["weight_ih_l0_reverse", "weight_hh_l0_reverse",
                                   "bias_ih_l0_reverse", "bias_hh_l0_reverse"]
    assert gru.all_weights[3][1] is gru.weight_hh_l1_reverse
    gru.flatten_parameters()  # (nothing to do, as on PyTorch's CPU)


def test_every_weight_starts_uniform_in_pytorchs_range():
    tensorgrad.manual_seed(0)
    for module in (GRU(5, 16, num_layers=2, bidirectional=True), LSTMCell(5, 16),
                   LSTM(5, 16, proj_size=4)):
        for name, p in module.named_parameters():
            assert 0.9 / 4 < np.abs(p.data).max() <= 1 / 4, name  # 1 / sqrt(hidden_size)
    tensorgrad.manual_seed(0)
    first = GRU(5, 16).weight_ih_l0.detach().numpy().copy()
    tensorgrad.manual_seed(0)
    np.testing.assert_array_equal(GRU(5, 16).weight_ih_l0.data, first)  # one generator


# ---- PyTorch's messages -------------------------------------------------------------------------


def normal(*shape: int, seed: int = 0, requires_grad: bool = False) -> Tensor:
    return tensorgrad.tensor(np.random.default_rng(seed).standard_normal(shape),
                             requires_grad=requires_grad)


CONSTRUCTION_ERRORS = [
    (lambda: LSTM(4, 6, dropout=1.5), ValueError, "dropout should be a number in range [0, 1] "
     "representing the probability of an element being zeroed"),
    (lambda: GRU(4, 6, dropout=True), ValueError, "dropout should be a number in range"),
    (lambda: RNN(4, 0), ValueError, "hidden_size must be greater than zero"),
    (lambda: RNN(4, 2.0), TypeError, "hidden_size should be of type int, got: float"),
    (lambda: GRU(4, 6, num_layers=0), ValueError, "num_layers must be greater than zero"),
    (lambda: LSTM(4, 6, proj_size=-1), ValueError,
     "proj_size should be a positive integer or zero to disable projections"),
    (lambda: LSTM(4, 6, proj_size=6), ValueError, "proj_size has to be smaller than hidden_size"),
    (lambda: RNN(4, 5, nonlinearity="sig"), ValueError,
     "Unknown nonlinearity 'sig'. Select from 'tanh' or 'relu'."),
]


@pytest.mark.parametrize("build, kind, message", CONSTRUCTION_ERRORS)
def test_bad_arguments_get_pytorchs_errors(build, kind, message):
    with pytest.raises(kind) as error:
        build()
    assert message in str(error.value)


def test_dropout_with_one_layer_warns_as_pytorch():
    with pytest.warns(UserWarning, match=r"^dropout option adds dropout after all but last "
                      r"recurrent layer, so non-zero dropout expects num_layers greater than 1, "
                      r"but got dropout=0.2 and num_layers=1$") as caught:
        GRU(3, 4, dropout=0.2)
    assert caught[0].filename == __file__  # the caller's line


def forward_errors():
    rnn, lstm, gru = RNN(4, 5, num_layers=2), LSTM(4, 5, num_layers=2), GRU(4, 5, 2)
    x = normal(3, 2, 4)
    return [
        ("RNN input size", lambda: rnn(normal(3, 2, 3)), RuntimeError,
         "input.size(-1) must be equal to input_size. Expected 4, got 3"),
        ("LSTM unbatched input size", lambda: lstm(normal(3, 3)), RuntimeError,
         "input.size(-1) must be equal to input_size. Expected 4, got 3"),
        ("RNN 4-D", lambda: rnn(normal(3, 2, 2, 4)), ValueError,
         "RNN: Expected input to be 2D or 3D, got 4D tensor instead"),
        ("GRU 1-D", lambda: gru(normal(4)), ValueError,
         "GRU: Expected input to be 2D or 3D, got 1D instead"),
        ("RNN h_0", lambda: rnn(x, normal(1, 2, 5)), RuntimeError,
         "Expected hidden size (2, 2, 5), got [1, 2, 5]"),
        ("LSTM c_0", lambda: lstm(x, (normal(2, 2, 5), normal(2, 2, 6))), RuntimeError,
         "Expected hidden[1] size (2, 2, 5), got [2, 2, 6]"),
        ("LSTM h_0", lambda: lstm(x, (normal(1, 2, 5), normal(2, 2, 5))), RuntimeError,
         "Expected hidden[0] size (2, 2, 5), got [1, 2, 5]"),
        ("GRU 2-D h_0", lambda: gru(x, normal(2, 5)), RuntimeError,
         "For batched 3-D input, hx should also be 3-D but got 2-D tensor"),
        ("RNN 3-D h_0 unbatched", lambda: rnn(normal(3, 4), normal(2, 1, 5)), RuntimeError,
         "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor"),
        ("LSTM 2-D states", lambda: lstm(x, (normal(2, 5), normal(2, 5))), RuntimeError,
         "For batched 3-D input, hx and cx should also be 3-D but got (2-D, 2-D) tensors"),
        ("LSTM one state", lambda: lstm(x, normal(2, 2, 5)), TypeError,
         "hx must be a pair (h_0, c_0)"),
        ("empty sequence", lambda: gru(normal(0, 2, 4)), RuntimeError,
         "Expected sequence length to be larger than 0 in RNN"),
        ("dtype", lambda: gru(x.float()), ValueError,
         "RNN input dtype (float32) does not match weight dtype (float64)"),
        ("h_0 dtype", lambda: gru(x, normal(2, 2, 5).float()), RuntimeError,
         "hidden is float32"),
        ("packed", lambda: gru(type("PackedSequence", (tuple,), {})((x, x))),
         NotImplementedError, "PackedSequence inputs are not supported"),
        ("cell input size", lambda: GRUCell(4, 5)(normal(2, 3)), RuntimeError,
         "input has inconsistent input_size: got 3 expected 4"),
        ("cell 3-D", lambda: LSTMCell(4, 5)(normal(2, 2, 4)), ValueError,
         "LSTMCell: Expected input to be 1D or 2D, got 3D instead"),
        ("cell batch", lambda: RNNCell(4, 5)(normal(2, 4), normal(3, 5)), RuntimeError,
         "Input batch size 2 doesn't match hidden0 batch size 3"),
        ("cell c", lambda: LSTMCell(4, 5)(normal(2, 4), (normal(2, 5), normal(2, 6))),
         RuntimeError, "hidden1 has inconsistent hidden_size: got 6, expected 5"),
        ("cell nonlinearity", lambda: RNNCell(4, 5, nonlinearity="sig")(normal(4)),
         RuntimeError, "Unknown nonlinearity: sig"),
    ]


@pytest.mark.parametrize("case", range(len(forward_errors())),
                         ids=[case[0] for case in forward_errors()])
def test_bad_inputs_get_pytorchs_errors(case):
    _, call, kind, message = forward_errors()[case]
    with pytest.raises(kind) as error:
        call()
    assert message in str(error.value)


# ---- one step by hand ---------------------------------------------------------------------------


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


def test_an_lstm_step_is_the_textbook_one_with_pytorchs_gate_order():
    cell = LSTMCell(3, 4)
    x, h, c = normal(2, 3), normal(2, 4, seed=1), normal(2, 4, seed=2)
    w_ih, w_hh, b_ih, b_hh = (p.data for p in cell.parameters())
    gates = x.data @ w_ih.T + b_ih + h.data @ w_hh.T + b_hh
    i, f, g, o = sigmoid(gates[:, :4]), sigmoid(gates[:, 4:8]), np.tanh(gates[:, 8:12]), \
        sigmoid(gates[:, 12:])
    c_next = f * c.data + i * g
    h_next, c_ours = cell(x, (h, c))
    np.testing.assert_allclose(c_ours.data, c_next, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(h_next.data, o * np.tanh(c_next), rtol=1e-13, atol=1e-14)


def test_a_gru_step_resets_the_hidden_part_of_n_after_its_bias():
    cell = GRUCell(3, 4)
    x, h = normal(2, 3), normal(2, 4, seed=1)
    w_ih, w_hh, b_ih, b_hh = (p.data for p in cell.parameters())
    xg, hg = x.data @ w_ih.T + b_ih, h.data @ w_hh.T + b_hh
    r = sigmoid(xg[:, :4] + hg[:, :4])
    z = sigmoid(xg[:, 4:8] + hg[:, 4:8])
    n = np.tanh(xg[:, 8:] + r * hg[:, 8:])  # r * (W_hn h + b_hn)
    np.testing.assert_allclose(cell(x, h).data, (1 - z) * n + z * h.data, rtol=1e-13,
                               atol=1e-14)


def test_an_rnn_cell_step_and_defaults():
    for nonlinearity, act in (("tanh", np.tanh), ("relu", lambda a: np.maximum(a, 0))):
        cell = RNNCell(3, 4, bias=False, nonlinearity=nonlinearity)
        x = normal(3)  # unbatched
        w_ih, w_hh = (p.data for p in cell.parameters())
        h = cell(x)  # from h = 0
        np.testing.assert_allclose(h.data, act(w_ih @ x.data), rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(cell(x, h).data, act(w_ih @ x.data + w_hh @ h.data),
                                   rtol=1e-13, atol=1e-14)


# ---- the sequence modules from their cells ------------------------------------------------------

PAIRS = [(RNN, RNNCell, {"nonlinearity": "relu"}), (LSTM, LSTMCell, {}), (GRU, GRUCell, {})]


@pytest.mark.parametrize("module, cell_type, settings", PAIRS, ids=["RNN", "LSTM", "GRU"])
def test_a_layer_is_its_cell_stepped_over_time(module, cell_type, settings):
    layer, cell = module(3, 4, **settings), cell_type(3, 4, **settings)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})  # "_l0" cut
    x = normal(5, 2, 3)
    state = None
    hs = []
    for t in range(5):
        state = cell(x[t], state)
        hs.append(state[0] if isinstance(state, tuple) else state)
    output, final = layer(x)
    np.testing.assert_allclose(output.data, np.stack([h.data for h in hs]), rtol=1e-13,
                               atol=1e-14)
    finals = final if isinstance(final, tuple) else (final,)
    for ours, theirs in zip(finals, state if isinstance(state, tuple) else (state,)):
        np.testing.assert_allclose(ours.data[0], theirs.data, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("module", [RNN, LSTM, GRU])
def test_the_reverse_direction_reads_the_sequence_from_its_end(module):
    both = module(3, 4, bidirectional=True)
    forward, backward = module(3, 4), module(3, 4)
    state = both.state_dict()
    forward.load_state_dict({k: v for k, v in state.items() if "reverse" not in k})
    backward.load_state_dict({k.replace("_reverse", ""): v for k, v in state.items()
                              if "reverse" in k})
    x = normal(5, 2, 3)
    output, h_n = both(x)
    out_f, h_f = forward(x)
    out_b, h_b = backward(x.flip(0))
    expected = np.concatenate([out_f.data, out_b.data[::-1]], axis=-1)
    np.testing.assert_allclose(output.data, expected, rtol=1e-13, atol=1e-14)
    h_n, h_f, h_b = (h[0] if isinstance(h, tuple) else h for h in (h_n, h_f, h_b))
    np.testing.assert_allclose(h_n.data, np.concatenate([h_f.data, h_b.data]), rtol=1e-13,
                               atol=1e-14)  # (layers * directions, N, H): forward first


def test_batch_first_and_unbatched_are_the_same_numbers():
    tensorgrad.manual_seed(1)
    seq = LSTM(3, 4, num_layers=2, bidirectional=True)
    batch = LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    batch.load_state_dict(seq.state_dict())
    x = normal(5, 2, 3)
    out, (h, c) = seq(x)
    out_b, (h_b, c_b) = batch(x.transpose(0, 1))
    np.testing.assert_array_equal(out_b.data, out.data.swapaxes(0, 1))
    np.testing.assert_array_equal(h_b.data, h.data)  # h_n and c_n are never batch first
    out_u, (h_u, c_u) = batch(x[:, 1])  # unbatched: batch_first does not apply
    np.testing.assert_allclose(out_u.data, out.data[:, 1], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(c_u.data, c.data[:, 1], rtol=1e-13, atol=1e-14)


def test_dropout_applies_between_layers_in_training_only():
    tensorgrad.manual_seed(0)
    x = normal(4, 3, 5)
    with pytest.warns(UserWarning):
        one = GRU(5, 6, dropout=1.0)  # nothing to drop: no layer follows
    trained, _ = one(x)
    np.testing.assert_array_equal(trained.data, one.eval()(x)[0].data)
    two = GRU(5, 6, num_layers=2, dropout=0.5)
    trained, h_trained = two(x)
    evaluated, h_evaluated = two.eval()(x)
    assert not np.allclose(trained.data, evaluated.data)  # the second layer saw dropout
    assert np.count_nonzero(trained.data == 0) == 0  # and its own outputs were not dropped
    np.testing.assert_array_equal(h_trained.data[0], h_evaluated.data[0])  # nor the first's


def test_a_float32_module_computes_in_float32():
    lstm = LSTM(3, 4, dtype=tensorgrad.float32)
    out, (h, c) = lstm(normal(2, 3).float())
    assert out.dtype == h.dtype == c.dtype == np.float32
    assert GRU(3, 4).float()(normal(2, 3).float())[0].dtype == np.float32


# ---- gradients ----------------------------------------------------------------------------------


def gradcheck_module(module, forward, *inputs: Tensor) -> None:
    names = [n for n, _ in module.named_parameters()]
    params = [p.detach().requires_grad_() for p in module.parameters()]
    assert tensorgrad.gradcheck(module_as_function(module, names, forward), *inputs, *params,
                                reference="finite-difference")


def test_the_gradchecks_run_the_module_on_the_parameters_they_are_given():
    """Else the parameters' gradients would go unchecked: the copies would be unused."""
    module = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    names = [n for n, _ in module.named_parameters()]
    zeros = [tensorgrad.zeros_like(p) for p in module.parameters()]
    x = normal(5, 3)
    fn = module_as_function(module, names, lambda m, x: m(x))
    np.testing.assert_array_equal(fn(x, *zeros).data, np.zeros((5, 2)))
    assert np.abs(module(x).data).sum() > 0  # its own parameters again afterwards


def flat(*parts: Tensor) -> Tensor:
    return tensorgrad.cat([p.reshape(-1) for p in parts])


@pytest.mark.parametrize("cell", [RNNCell(2, 3), RNNCell(2, 3, nonlinearity="relu"),
                                  GRUCell(2, 3)], ids=["RNNCell", "RNNCell relu", "GRUCell"])
def test_cell_gradients(cell):
    x, h = normal(2, 2, requires_grad=True), normal(2, 3, seed=1, requires_grad=True)
    gradcheck_module(cell, lambda m, x, h: m(x * 0.5, m(x, h)), x, h)


def test_lstm_cell_gradients():
    x = normal(2, 2, requires_grad=True)
    h, c = normal(2, 3, seed=1, requires_grad=True), normal(2, 3, seed=2, requires_grad=True)
    gradcheck_module(LSTMCell(2, 3), lambda m, x, h, c: flat(*m(x * 0.5, m(x, (h, c)))),
                     x, h, c)


def test_two_layer_bidirectional_lstm_gradients():
    lstm = LSTM(2, 2, num_layers=2, bidirectional=True, batch_first=True)
    x = normal(2, 3, 2, requires_grad=True)
    h, c = normal(4, 2, 2, seed=1, requires_grad=True), normal(4, 2, 2, seed=2,
                                                                 requires_grad=True)

    def forward(m, x, h, c):
        out, (h_n, c_n) = m(x, (h, c))
        return flat(out, h_n, c_n)

    gradcheck_module(lstm, forward, x, h, c)
