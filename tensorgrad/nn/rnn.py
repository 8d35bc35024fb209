"""torch.nn's recurrent layers: the cells ``RNNCell``, ``LSTMCell`` and ``GRUCell`` (one time
step) and the sequence modules ``RNN``, ``LSTM`` and ``GRU`` (layers, directions and time
steps), with PyTorch's arguments, parameter names and shapes, so that a ``state_dict()`` of
either library loads into the other's.

A step is composed of tested differentiable ops (``F.linear``, ``sigmoid``, ``tanh``,
``relu``, ``chunk``), and the sequence modules loop over layers and time in Python: PyTorch's
reference semantics, with every gradient from those ops. Gates are stacked in the weights
in PyTorch's order: LSTM's i, f, g, o and GRU's r, z, n.

The sequence modules take a ``PackedSequence`` too (``nn.utils.rnn``): a step then runs on
the sequences that have it (they are sorted longest first, so those are the first rows of
the state), and each sequence's final state is its state at its own last step.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import functional as F
from ..devices import check_device
from ..ops import cat, stack
from ..tensor import Tensor
from . import init
from .layers import weight_dtype
from .module import Module, Parameter
from .utils.rnn import PackedSequence

State = Any  # a step's state: h, or LSTM's pair (h, c)


# ---- one time step ------------------------------------------------------------------------------
# ``x_gates`` is the input's part of the gates, W_ih x + b_ih: the sequence modules compute
# it for every time step in one product, so a step adds only the hidden state's part.


def _tanh_step(x_gates: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    return F.tanh(x_gates + F.linear(h, w_hh, b_hh))


def _relu_step(x_gates: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    return F.relu(x_gates + F.linear(h, w_hh, b_hh))


def _lstm_step(x_gates: Tensor, state: tuple[Tensor, Tensor], w_hh: Tensor,
               b_hh: Tensor | None, w_hr: Tensor | None = None) -> tuple[Tensor, Tensor]:
    h, c = state
    i, f, g, o = (x_gates + F.linear(h, w_hh, b_hh)).chunk(4, -1)
    c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
    h = F.sigmoid(o) * F.tanh(c)
    return (h if w_hr is None else F.linear(h, w_hr)), c  # w_hr: LSTM's proj_size


def _gru_step(x_gates: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    x_r, x_z, x_n = x_gates.chunk(3, -1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, -1)
    r = F.sigmoid(x_r + h_r)
    z = F.sigmoid(x_z + h_z)
    n = F.tanh(x_n + r * h_n)  # the reset gate scales W_hn h + b_hn, as PyTorch's
    return n + z * (h - n)  # (1 - z) * n + z * h


_STEPS: dict[str, tuple[Callable[..., Any], int]] = {  # mode: (step, gates stacked)
    "RNN_TANH": (_tanh_step, 1), "RNN_RELU": (_relu_step, 1), "LSTM": (_lstm_step, 4),
    "GRU": (_gru_step, 3)}


def _sweep(step: Callable[..., Any], x_gates: Tensor, state: State, weights: tuple[Any, ...],
           reverse: bool) -> tuple[list[Tensor], State]:
    """h at each time step of (L, N, G) ``x_gates`` and the final state, from ``state``."""
    steps = x_gates.unbind(0)
    hs: list[Any] = [None] * len(steps)
    times = range(len(steps))
    for t in reversed(times) if reverse else times:  # reverse: from the end
        state = step(steps[t], state, *weights)
        hs[t] = state[0] if isinstance(state, tuple) else state
    return hs, state


def _rows(state: State, start: int, stop: int) -> State:
    """Rows ``start:stop`` of a state (of both of LSTM's)."""
    if isinstance(state, tuple):
        return tuple(part[start:stop] for part in state)
    return state[start:stop]


def _join(states: list[State]) -> State:
    """States of consecutive rows as one."""
    if len(states) == 1:
        return states[0]
    if isinstance(states[0], tuple):
        return tuple(cat(list(parts)) for parts in zip(*states))
    return cat(states)


def _packed_sweep(step: Callable[..., Any], x_gates: Tensor, batch_sizes: list[int],
                  state: State, weights: tuple[Any, ...], reverse: bool
                  ) -> tuple[list[Tensor], State]:
    """h at each time step of packed ``x_gates`` (sum of lengths, G), each (batch_sizes[t],
    H), and each sequence's final state, from ``state`` (batch_sizes[0] rows). Forward, a
    sequence's rows leave the state after its last step; in reverse, they join it there
    from ``state``."""
    steps = x_gates.split(batch_sizes)
    hs: list[Any] = [None] * len(steps)
    if not reverse:
        ended = []  # the final states of the sequences that ended, the earliest last
        for t, x in enumerate(steps):
            running = (state[0] if isinstance(state, tuple) else state).shape[0]
            if batch_sizes[t] < running:
                ended.append(_rows(state, batch_sizes[t], running))
                state = _rows(state, 0, batch_sizes[t])
            state = step(x, state, *weights)
            hs[t] = state[0] if isinstance(state, tuple) else state
        return hs, _join([state, *reversed(ended)])
    initial, running = state, 0
    for t in reversed(range(len(steps))):
        if batch_sizes[t] > running:
            starting = _rows(initial, running, batch_sizes[t])
            state = starting if running == 0 else _join([state, starting])
            running = batch_sizes[t]
        state = step(steps[t], state, *weights)
        hs[t] = state[0] if isinstance(state, tuple) else state
    return hs, state


def _uniform_start(module: Module, hidden_size: int) -> None:
    # PyTorch's start for every weight and bias of a recurrent layer
    bound = 1 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for weight in module.parameters():
        init.uniform_(weight, -bound, bound)


def _state_shape(given: Tensor, expected: tuple[int, ...], what: str) -> None:
    if given.shape != expected:
        raise RuntimeError(f"Expected {what} size {expected}, got {list(given.shape)}")


def _sorted_indices(input: Any) -> Tensor | None:
    return input.sorted_indices if isinstance(input, PackedSequence) else None


def _repacked(input: PackedSequence, data: Tensor) -> PackedSequence:
    """``data`` packed as ``input`` is."""
    return PackedSequence(data, input.batch_sizes, input.sorted_indices, input.unsorted_indices)


def _unsorted(input: PackedSequence, state: Tensor) -> Tensor:
    """(num_layers * D, N, H) ``state`` of the packed (sorted) batch in the order of the
    batch ``input`` was packed from."""
    order = input.unsorted_indices
    return state if order is None else state.index_select(1, order)


def _refuse_packed(input: Any, owner: str) -> None:
    if not isinstance(input, Tensor):
        if isinstance(input, PackedSequence):  # (a cell steps once: PyTorch's take none)
            raise NotImplementedError(f"{owner}: PackedSequence inputs are not supported by "
                                      "a cell; pass a tensor")
        if type(input).__name__ == "PackedSequence":  # another library's
            raise NotImplementedError(f"{owner}: PackedSequence inputs are not supported but "
                                      "tensorgrad.nn.utils.rnn's; pack with its "
                                      "pack_padded_sequence")
        raise TypeError(f"{owner}: input must be a Tensor, not {type(input).__name__}")


# ---- cells --------------------------------------------------------------------------------------


class _CellBase(Module):
    """A cell's parameters, PyTorch's checks of its inputs and its printout."""

    _gates: int  # blocks of hidden_size rows stacked in each weight and bias

    def __init__(self, input_size: int, hidden_size: int, bias: bool, device: Any,
                 dtype: Any) -> None:
        super().__init__()
        check_device(device)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        dtype = weight_dtype(dtype)
        gates = self._gates * hidden_size
        self.weight_ih = Parameter(np.empty((gates, input_size), dtype))
        self.weight_hh = Parameter(np.empty((gates, hidden_size), dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(gates, dtype))
            self.bias_hh = Parameter(np.empty(gates, dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_start(self, self.hidden_size)

    def extra_repr(self) -> str:
        settings = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            settings += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            settings += f", nonlinearity={self.nonlinearity}"
        return settings

    def _batch(self, input: Tensor) -> tuple[Tensor, bool]:
        """``input`` as (N, H_in), and whether it came batched."""
        name = type(self).__name__
        _refuse_packed(input, name)
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        batched = input.dim() == 2
        input = input if batched else input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} "
                               f"expected {self.input_size}")
        return input, batched

    def _state(self, input: Tensor, hx: Tensor | None, index: int, batched: bool,
               what: str) -> Tensor:
        """The state ``hx`` (zeros if None) as (N, H), after PyTorch's checks."""
        if hx is None:
            return Tensor(np.zeros((input.shape[0], self.hidden_size), input.dtype))
        if hx.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected {what} to be 1D or 2D, got "
                             f"{hx.dim()}D instead")
        hx = hx if batched else hx.unsqueeze(0)
        if hx.shape[0] != input.shape[0]:
            raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match "
                               f"hidden{index} batch size {hx.shape[0]}")
        if hx.dim() != 2 or hx.shape[1] != self.hidden_size:
            raise RuntimeError(f"hidden{index} has inconsistent hidden_size: got "
                               f"{hx.shape[1]}, expected {self.hidden_size}")
        return hx

    def _x_gates(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight_ih, self.bias_ih)


class RNNCell(_CellBase):
    """One step of an Elman RNN, h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu, with
    ``nonlinearity="relu"``), as PyTorch's::

        cell = nn.RNNCell(10, 20)
        h = cell(x)  # x (N, 10) or (10,); h (N, 20) or (20,), from h = 0
        h = cell(x, h)
    """

    _gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """The next hidden state, (N, H) (unbatched: (H,))."""
        x, batched = self._batch(input)
        h = self._state(x, hx, 0, batched, "hidden")
        if self.nonlinearity not in ("tanh", "relu"):  # (PyTorch, too, says so only here)
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        step = _tanh_step if self.nonlinearity == "tanh" else _relu_step
        h = step(self._x_gates(x), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)


class LSTMCell(_CellBase):
    """One step of an LSTM, as PyTorch's: gates i, f, g, o (stacked in that order in the
    weights) from x and h; c' = f * c + i * g and h' = o * tanh(c')::

        cell = nn.LSTMCell(10, 20)
        h, c = cell(x)  # x (N, 10) or (10,); h and c (N, 20) or (20,), from zeros
        h, c = cell(x, (h, c))
    """

    _gates = 4

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, Tensor]:
        """The next (h, c), each (N, H) (unbatched: (H,))."""
        x, batched = self._batch(input)
        h0, c0 = (None, None) if hx is None else hx
        state = (self._state(x, h0, 0, batched, "hx[0]"),
                 self._state(x, c0, 1, batched, "hx[1]"))
        h, c = _lstm_step(self._x_gates(x), state, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(_CellBase):
    """One step of a GRU, as PyTorch's: gates r, z (stacked in that order in the weights,
    then n) and n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); h' = (1 - z) * n + z * h::

        cell = nn.GRUCell(10, 20)
        h = cell(x)  # x (N, 10) or (10,); h (N, 20) or (20,), from h = 0
        h = cell(x, h)
    """

    _gates = 3

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """The next hidden state, (N, H) (unbatched: (H,))."""
        x, batched = self._batch(input)
        h = self._state(x, hx, 0, batched, "hidden")
        h = _gru_step(self._x_gates(x), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)


# ---- layers over sequences ----------------------------------------------------------------------


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: the parameters of each layer and direction
    under PyTorch's names and in its order, PyTorch's checks, and the loop over layers,
    directions and time steps."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        check_device(device)
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or \
                not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: "
                            f"{type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _STEPS:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        dtype = weight_dtype(dtype)
        gates = _STEPS[mode][1] * hidden_size
        state_size = proj_size or hidden_size  # h's size; c keeps hidden_size
        directions = 2 if bidirectional else 1
        self._all_weights: list[list[str]] = []  # the names, per layer and direction
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else state_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes: dict[str, tuple[int, ...]] = {"weight_ih": (gates, layer_input),
                                                      "weight_hh": (gates, state_size)}
                if bias:
                    shapes.update(bias_ih=(gates,), bias_hh=(gates,))
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, shape in shapes.items():
                    names.append(f"{kind}_l{layer}{suffix}")
                    setattr(self, names[-1], Parameter(np.empty(shape, dtype)))
                self._all_weights.append(names)
        self._flat_weights_names = [name for names in self._all_weights for name in names]
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_start(self, self.hidden_size)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer and direction, in ``state_dict()``'s order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """Nothing to do: PyTorch packs its weights into one buffer for cuDNN; here each
        parameter is its own array."""

    def extra_repr(self) -> str:
        settings = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            settings += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            settings += f", num_layers={self.num_layers}"
        if not self.bias:
            settings += ", bias=False"
        if self.batch_first:
            settings += ", batch_first=True"
        if self.dropout:
            settings += f", dropout={self.dropout}"
        if self.bidirectional:
            settings += ", bidirectional=True"
        return settings

    def _check_dtype(self, input: Tensor) -> None:
        weight_dtype, input_dtype = self.weight_ih_l0._data.dtype, input._data.dtype
        if input_dtype != weight_dtype:
            raise ValueError(f"RNN input dtype ({input_dtype}) does not match weight dtype "
                             f"({weight_dtype}). Convert input: input.to({weight_dtype}), or "
                             f"convert model: model.to({input_dtype})")

    def _inputs(self, input: Tensor | PackedSequence
                ) -> tuple[Tensor, bool, int, list[int] | None]:
        """``input`` as (L, N, H_in) (packed: its data, (sum of lengths, H_in)), whether it
        came batched, N, and the batch sizes of a packed input (else None)."""
        if not isinstance(input, PackedSequence):
            x, batched = self._sequence(input)
            return x, batched, x.shape[1], None
        data = input.data
        self._check_dtype(data)
        if data.dim() != 2:
            raise RuntimeError(f"input must have 2 dimensions, got {data.dim()}")
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {data.shape[-1]}")
        batch_sizes = [int(n) for n in np.asarray(input.batch_sizes._data)]
        return data, True, batch_sizes[0], batch_sizes

    def _sequence(self, input: Tensor) -> tuple[Tensor, bool]:
        """``input`` as (L, N, H_in), and whether it came batched, after PyTorch's checks."""
        name = type(self).__name__
        _refuse_packed(input, name)
        self._check_dtype(input)
        if input.dim() not in (2, 3):
            tensor = " tensor" if name == "RNN" else ""  # (PyTorch's RNN says so; the others not)
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D"
                             f"{tensor} instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        batched = input.dim() == 3
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[0] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        return input, batched

    def _initial(self, hx: Tensor | None, batched: bool, batch: int, size: int,
                 dtype: np.dtype, what: str, order: Tensor | None = None
                 ) -> tuple[Tensor, ...]:
        """One state of each layer and direction, each (N, ``size``), from ``hx`` (zeros if
        None), after PyTorch's check of its shape; its batch taken in ``order`` (a packed
        input's ``sorted_indices``) where given."""
        shape = (self.num_layers * (2 if self.bidirectional else 1), batch, size)
        if hx is None:
            return Tensor(np.zeros(shape, dtype)).unbind(0)
        if hx.dtype != dtype:
            raise RuntimeError(f"{type(self).__name__}: {what} is {hx._data.dtype}, the input "
                               f"{dtype}: convert it with .to({dtype})")
        hx = hx if batched else hx.unsqueeze(1)
        _state_shape(hx, shape, what)
        return (hx if order is None else hx.index_select(1, order)).unbind(0)

    def _run(self, input: Tensor, states: list[State], batch_sizes: list[int] | None = None
             ) -> tuple[Tensor, list[State]]:
        """The last layer's outputs (L, N, D * H_out) and each layer's and direction's final
        state, from the initial ``states`` (in h_n's order: layer by layer, forward first).
        With ``batch_sizes``, ``input`` and the outputs are a packed sequence's data."""
        step = _STEPS[self.mode][0]
        directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            if layer > 0:  # between layers only, and only in training (F.dropout's rule)
                input = F.dropout(input, self.dropout, self.training)
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                suffix = f"_l{layer}{'_reverse' * direction}"
                w_ih = getattr(self, "weight_ih" + suffix)
                w_hh = getattr(self, "weight_hh" + suffix)
                b_ih, b_hh, w_hr = (self._parameters.get(kind + suffix)  # None if not there
                                    for kind in ("bias_ih", "bias_hh", "weight_hr"))
                x_gates = F.linear(input, w_ih, b_ih)  # all steps in one product
                weights = (w_hh, b_hh) if w_hr is None else (w_hh, b_hh, w_hr)
                if batch_sizes is None:
                    hs, state = _sweep(step, x_gates, states[k], weights, bool(direction))
                    outputs.append(stack(hs))
                else:
                    hs, state = _packed_sweep(step, x_gates, batch_sizes, states[k], weights,
                                              bool(direction))
                    outputs.append(cat(hs))
                finals.append(state)
            input = outputs[0] if directions == 1 else cat(outputs, -1)
        return input, finals

    def _forward_h(self, input: Tensor | PackedSequence, hx: Tensor | None
                   ) -> tuple[Tensor | PackedSequence, Tensor]:
        """``RNN``'s and ``GRU``'s forward: their state is h alone."""
        x, batched, batch, batch_sizes = self._inputs(input)
        if hx is not None and batch_sizes is None and hx.dim() != (3 if batched else 2):
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise RuntimeError(f"For {kind} input, hx should also be {3 if batched else 2}-D "
                               f"but got {hx.dim()}-D tensor")
        states = list(self._initial(hx, batched, batch, self.hidden_size, x._data.dtype, "hidden",
                                    _sorted_indices(input)))
        output, finals = self._run(x, states, batch_sizes)
        h_n = stack(finals)
        if isinstance(input, PackedSequence):
            return _repacked(input, output), _unsorted(input, h_n)
        return self._output(output, batched), h_n if batched else h_n.squeeze(1)

    def _output(self, output: Tensor, batched: bool) -> Tensor:
        if not batched:
            return output.squeeze(1)
        return output.transpose(0, 1) if self.batch_first else output


class RNN(RNNBase):
    """An Elman RNN of ``num_layers`` layers over a sequence, as PyTorch's: each step
    h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (or relu, with
    ``nonlinearity="relu"``); a layer's outputs are the next one's inputs::

        rnn = nn.RNN(10, 20, num_layers=2, batch_first=True)
        output, h_n = rnn(x)  # x (N, L, 10): output (N, L, 20), h_n (2, N, 20)

    Sequences are (L, N, H_in), (N, L, H_in) with ``batch_first``, or unbatched
    (L, H_in); ``bidirectional`` adds a layer reading each sequence from its end, whose
    outputs are concatenated to the forward ones (H_out doubles). ``dropout`` applies to
    each layer's outputs but the last, in training.

    A ``PackedSequence`` input (``nn.utils.rnn.pack_padded_sequence``) gives a
    ``PackedSequence`` output, packed as the input, and h_n holds each sequence's h at its
    own length; hx and h_n are in the order of the batch that was packed.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor | PackedSequence, hx: Tensor | None = None
                ) -> tuple[Tensor | PackedSequence, Tensor]:
        """(output, h_n): the last layer's h at each step, (L, N, D * H) (batch first with
        ``batch_first``, unbatched (L, D * H)), and each layer's and direction's last h,
        (num_layers * D, N, H) (unbatched: without N). ``hx`` is h_0, shaped as h_n."""
        return self._forward_h(input, hx)


class LSTM(RNNBase):
    """An LSTM of ``num_layers`` layers over a sequence, as PyTorch's: ``LSTMCell``'s step
    at each time step; a layer's outputs are the next one's inputs::

        lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True)
        output, (h_n, c_n) = lstm(x)  # x (N, L, 10): output (N, L, 20), h_n, c_n (2, N, 20)

    Layouts, ``bidirectional``, ``dropout`` and packed inputs as ``RNN``'s. With
    ``proj_size`` P > 0, h is projected to P entries at each step by ``weight_hr_l{k}``
    (P, H): outputs and h_n have P where they had H (c_n keeps H).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)

    def forward(self, input: Tensor | PackedSequence,
                hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor | PackedSequence, tuple[Tensor, Tensor]]:
        """(output, (h_n, c_n)), as ``RNN``'s (output, h_n) plus c_n, each layer's and
        direction's last cell state. ``hx`` is (h_0, c_0), shaped as (h_n, c_n)."""
        x, batched, batch, batch_sizes = self._inputs(input)
        h0 = c0 = None
        if hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTM: hx must be a pair (h_0, c_0) of tensors")
            h0, c0 = hx
            dims = 3 if batched else 2
            if batch_sizes is None and (h0.dim() != dims or c0.dim() != dims):
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise RuntimeError(f"For {kind} input, hx and cx should also be {dims}-D but "
                                   f"got ({h0.dim()}-D, {c0.dim()}-D) tensors")
        order = _sorted_indices(input)
        hs = self._initial(h0, batched, batch, self.proj_size or self.hidden_size, x._data.dtype,
                           "hidden[0]", order)
        cs = self._initial(c0, batched, batch, self.hidden_size, x._data.dtype, "hidden[1]", order)
        output, finals = self._run(x, list(zip(hs, cs)), batch_sizes)
        h_n, c_n = stack([h for h, _ in finals]), stack([c for _, c in finals])
        if isinstance(input, PackedSequence):
            return _repacked(input, output), (_unsorted(input, h_n), _unsorted(input, c_n))
        if not batched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return self._output(output, batched), (h_n, c_n)


class GRU(RNNBase):
    """A GRU of ``num_layers`` layers over a sequence, as PyTorch's: ``GRUCell``'s step at
    each time step; a layer's outputs are the next one's inputs::

        gru = nn.GRU(10, 20, num_layers=2, batch_first=True)
        output, h_n = gru(x)  # x (N, L, 10): output (N, L, 20), h_n (2, N, 20)

    Layouts, ``bidirectional``, ``dropout`` and packed inputs as ``RNN``'s.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input: Tensor | PackedSequence, hx: Tensor | None = None
                ) -> tuple[Tensor | PackedSequence, Tensor]:
        """(output, h_n), as ``RNN``'s."""
        return self._forward_h(input, hx)
