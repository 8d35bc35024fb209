"""The recurrent layers held against PyTorch's.

PyTorch's module, seeded by PyTorch, hands its ``state_dict()`` to ours; then the outputs,
the final states and the gradients of the input, the initial states and every parameter
must be PyTorch's (float64 to 1e-10, float32 to 1e-5 of the largest value): one and two
layers, bidirectional, sequence or batch first, unbatched, given and default initial
states, no biases, relu, dropout in eval mode, LSTM's projections, a sequence of one step
and a transposed (non-contiguous) input. Skipped without torch (``test_rnn.py`` checks the
modules on their own).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from torch_compare import assert_same, assert_same_runs

import tensorgrad
from tensorgrad.nn import rnn

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")

TOL = {"float64": 1e-10, "float32": 1e-5}
L, N, H_IN, H = 4, 3, 5, 6  # sequence, batch, input and hidden sizes


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def ours(name: str) -> Callable:
    return getattr(rnn, name)


def theirs(name: str) -> Callable:
    return getattr(torch.nn, name)


def compare(name: str, dtype: str, settings: dict, inputs: list[np.ndarray],
            call: Callable, train: bool = False, transposed: bool = False) -> None:
    """``call(module, *inputs)`` on PyTorch's ``name(**settings)`` and ours with its weights,
    then the backward pass of one random weighting of the results: results, gradients of the
    inputs and of every parameter must be PyTorch's. ``transposed``: the first input is
    given as its transpose's transpose (dims 0 and 1), a non-contiguous view."""
    torch.manual_seed(0)
    reference = theirs(name)(**settings).to(getattr(torch, dtype)).train(train)
    module = ours(name)(**settings).to(getattr(tensorgrad, dtype)).train(train)
    assert [(k, tuple(v.shape)) for k, v in module.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in reference.state_dict().items()]
    module.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    tol = TOL[dtype]
    runs = []
    for model, lib in ((module, tensorgrad), (reference, torch)):
        arrays = [a.astype(dtype) for a in inputs]
        if transposed:
            arrays[0] = np.ascontiguousarray(arrays[0].swapaxes(0, 1))
        leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
        given = [x.transpose(0, 1) if transposed and i == 0 else x
                 for i, x in enumerate(leaves)]
        results = call(model, *given)
        flat = []
        for r in results:
            flat.extend(r if isinstance(r, tuple) else (r,))
        rng = np.random.default_rng(1)
        loss = sum((r * lib.tensor(rng.standard_normal(tuple(r.shape)).astype(dtype))).sum()
                   for r in flat)
        loss.backward()
        runs.append((flat, [x.grad for x in leaves],
                     {n: p.grad for n, p in model.named_parameters()}))
    assert_same_runs(*runs, tol)


def normal(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def run(module, *inputs):
    """``module(x)`` or ``module(x, h0)``, or an LSTM's ``module(x, (h0, c0))``."""
    if len(inputs) == 3:
        return module(inputs[0], (inputs[1], inputs[2]))
    return module(*inputs)


# name: (settings, batched, given initial states, sequence length, eval with dropout,
# transposed input)
CASES = {
    "one layer": ({}, True, False, L, False, False),
    "one layer, initial state": ({}, True, True, L, False, False),
    "two layers, initial state": ({"num_layers": 2}, True, True, L, False, False),
    "bidirectional": ({"bidirectional": True}, True, False, L, False, False),
    "two layers, bidirectional, batch first, initial state": (
        {"num_layers": 2, "bidirectional": True, "batch_first": True}, True, True, L, False,
        False),
    "batch first": ({"batch_first": True}, True, True, L, False, False),
    "unbatched": ({"num_layers": 2}, False, False, L, False, False),
    "unbatched, bidirectional, initial state": (
        {"num_layers": 2, "bidirectional": True}, False, True, L, False, False),
    "unbatched, batch_first ignored": ({"batch_first": True}, False, True, L, False, False),
    "bias=False": ({"bias": False, "num_layers": 2}, True, True, L, False, False),
    "dropout in eval mode": ({"num_layers": 2, "dropout": 0.5}, True, True, L, True, False),
    "one step": ({"bidirectional": True}, True, True, 1, False, False),
    "transposed input": ({"num_layers": 2, "bidirectional": True}, True, True, L, False,
                         True),
    "transposed input, batch first": ({"batch_first": True}, True, False, L, False, True),
}
EXTRA = {  # cases of one module
    "RNN": {"relu": {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}},
    "LSTM": {"proj_size": {"proj_size": 4, "num_layers": 2, "bidirectional": True},
             "proj_size, batch first": {"proj_size": 2, "batch_first": True}},
    "GRU": {},
}
ALL = [(name, case) for name in ("RNN", "LSTM", "GRU") for case in [*CASES, *EXTRA[name]]]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, case", ALL)
def test_sequence_modules_are_pytorchs(name, case, dtype):
    if case in CASES:
        settings, batched, initial, length, dropout_eval, transposed = CASES[case]
    else:
        settings, batched, initial, length, dropout_eval, transposed = \
            EXTRA[name][case], True, True, L, False, False
    settings = {"input_size": H_IN, "hidden_size": H, **settings}
    layers = settings.get("num_layers", 1) * (2 if settings.get("bidirectional") else 1)
    batch = (N,) if batched else ()
    if settings.get("batch_first") and batched:
        x = normal(N, length, H_IN)
    else:
        x = normal(length, *batch, H_IN)
    inputs = [x]
    if initial:
        inputs.append(normal(layers, *batch, settings.get("proj_size") or H, seed=1))
        if name == "LSTM":
            inputs.append(normal(layers, *batch, H, seed=2))
    compare(name, dtype, settings, inputs, run, train=not dropout_eval,
            transposed=transposed)


CELL_CASES = {
    "batched": ({}, True, False),
    "batched, initial state": ({}, True, True),
    "unbatched": ({}, False, False),
    "unbatched, initial state": ({}, False, True),
    "bias=False": ({"bias": False}, True, True),
}
CELLS = [(name, case) for name in ("RNNCell", "LSTMCell", "GRUCell") for case in CELL_CASES] \
    + [("RNNCell", "relu")]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, case", CELLS)
def test_cells_are_pytorchs(name, case, dtype):
    settings, batched, initial = CELL_CASES.get(case, ({"nonlinearity": "relu"}, True, True))
    batch = (N,) if batched else ()
    inputs = [normal(*batch, H_IN)]
    if initial:
        inputs += [normal(*batch, H, seed=s) for s in ((1, 2) if name == "LSTMCell" else (1,))]

    def step_twice(module, x, *state):  # the second step from the first one's state
        state = (state if len(state) == 2 else state[0]) if state else None
        first = module(x, state)
        return first, module(x * 0.5, first)

    compare(name, dtype, {"input_size": H_IN, "hidden_size": H, **settings}, inputs,
            step_twice)


def test_an_lstm_state_dict_loads_into_pytorch_and_computes_the_same():
    module = rnn.LSTM(H_IN, H, num_layers=2, bidirectional=True)
    reference = torch.nn.LSTM(H_IN, H, num_layers=2, bidirectional=True).double()
    reference.load_state_dict({k: torch.from_numpy(v.numpy())
                               for k, v in module.state_dict().items()})
    x = normal(L, N, H_IN)
    out, (h_n, c_n) = module(tensorgrad.tensor(x))
    their_out, (their_h, their_c) = reference(torch.tensor(x))
    for a, b, what in ((out, their_out, "output"), (h_n, their_h, "h_n"),
                       (c_n, their_c, "c_n")):
        assert_same(a, b, what)



# ---- a character-level language model, written as PyTorch code ---------------------------------


def char_lstm(torch_, nn, F):
    """The model's class, written for PyTorch, with the library's modules passed in (the
    zoo's way, until ``tensorgrad.nn`` exports the recurrent layers)."""

    class CharLSTM(nn.Module):
        def __init__(self, vocab_size, n_embd=8, n_hidden=12):
            super().__init__()
            self.wte = nn.Embedding(vocab_size, n_embd)
            self.lstm = nn.LSTM(n_embd, n_hidden, num_layers=2, batch_first=True)
            self.lm_head = nn.Linear(n_hidden, vocab_size)

        def forward(self, idx, targets=None, state=None):
            out, state = self.lstm(self.wte(idx), state)
            logits = self.lm_head(out)
            if targets is None:
                return logits, None, state
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
            return logits, loss, state

    return CharLSTM


def test_a_char_lstm_language_model_trains_as_pytorchs():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        ours_nn = type("nn", (), {**vars(tensorgrad.nn), "LSTM": rnn.LSTM})
        torch.manual_seed(0)
        reference = char_lstm(torch, torch.nn, torch.nn.functional)(7)
        model = char_lstm(tensorgrad, ours_nn, tensorgrad.nn.functional)(7)
        model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
        opt = tensorgrad.optim.Adam(model.parameters(), lr=1e-2)
        their_opt = torch.optim.Adam(reference.parameters(), lr=1e-2)
        rng = np.random.default_rng(1)
        for step in range(3):
            idx, targets = rng.integers(0, 7, (3, 6)), rng.integers(0, 7, (3, 6))
            logits, loss, (h, c) = model(tensorgrad.tensor(idx), tensorgrad.tensor(targets))
            their_logits, their_loss, (their_h, their_c) = reference(
                torch.from_numpy(idx), torch.from_numpy(targets))
            for a, b, what in ((logits, their_logits, "logits"), (loss, their_loss, "loss"),
                               (h, their_h, "h_n"), (c, their_c, "c_n")):
                assert_same(a, b, f"{what}, step {step}", 1e-9)
            opt.zero_grad(set_to_none=True)
            their_opt.zero_grad(set_to_none=True)
            loss.backward()
            their_loss.backward()
            their_params = dict(reference.named_parameters())
            for name, p in model.named_parameters():
                assert_same(p.grad, their_params[name].grad, f"{name}, step {step}", 1e-9)
            opt.step()
            their_opt.step()
        # generation carries the state: one character at a time from the last one's state
        state = their_state = None
        x = np.array([[1]])
        for _ in range(4):
            logits, _, state = model(tensorgrad.tensor(x), state=state)
            their_logits, _, their_state = reference(torch.from_numpy(x), state=their_state)
            assert_same(logits, their_logits, "generation logits", 1e-9)
            x = np.array([[int(their_logits[0, -1].argmax())]])
    finally:
        torch.set_default_dtype(previous)
