"""How a tensor describes itself as PyTorch's does: its shape, a ``Size`` (``torch.Size``: a
tuple of ints whose slices, sums and repeats stay sizes), and a 0-d tensor in an f-string, its
number (``f"{loss:.4f}"``)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import tensorgrad as tg

# each: what it computes from a module (tensorgrad or torch) and its Size([2, 3, 4])
CASES = {
    "slice": lambda m, s: s[1:],
    "index": lambda m, s: s[-1],
    "plus a tuple": lambda m, s: s + (5,),
    "a tuple plus": lambda m, s: (1,) + s,
    "times": lambda m, s: s * 2,
    "times, reflected": lambda m, s: 2 * s,
    "numel": lambda m, s: s.numel(),
    "empty numel": lambda m, s: m.Size([]).numel(),
    "equals a tuple": lambda m, s: s == (2, 3, 4),
    "hash": lambda m, s: hash(s) == hash((2, 3, 4)),
    "count, index": lambda m, s: (s.count(3), s.index(4)),
    "a tensor's shape": lambda m, s: m.zeros(2, 3).shape,
    "a tensor's size()": lambda m, s: m.zeros(2, 3).size(),
    "size(dim)": lambda m, s: m.zeros(2, 3).size(-1),
    "of a tensor": lambda m, s: m.Size(m.tensor([2, 3])),
    "of 0-d tensors": lambda m, s: m.Size((m.tensor(2), 3)),
    "a view to it": lambda m, s: m.zeros(24).view(s).shape,
    "pickled": lambda m, s: pickle.loads(pickle.dumps(s)),
    "copied": lambda m, s: copy.deepcopy(s),
}


def _plain(result, module):
    """A result as plain Python: a Size as ("Size", its ints), anything else as it is."""
    if isinstance(result, module.Size):
        return ("Size", tuple(result))
    if isinstance(result, tuple):
        return tuple(_plain(r, module) for r in result)
    return (type(result).__name__, result)


@pytest.mark.parametrize("name", CASES)
def test_size_behaves_as_pytorchs(name):
    ours = _plain(CASES[name](tg, tg.Size([2, 3, 4])), tg)
    torch = pytest.importorskip("torch")
    assert ours == _plain(CASES[name](torch, torch.Size([2, 3, 4])), torch)


def test_size_reads_as_a_size_and_refuses_what_is_no_int():
    assert repr(tg.zeros(2, 3).shape) == "tensorgrad.Size([2, 3])"
    assert repr(tg.Size()) == "tensorgrad.Size([])" and tg.Size() == ()
    with pytest.raises(TypeError, match=r"iterable of 'int' \(item 1 is 'float'\)"):
        tg.Size([2, 3.0])
    with pytest.raises(TypeError, match="can only concatenate tuple"):
        tg.Size([2]) + [3]
    assert np.zeros(tg.Size([2, 3])).shape == (2, 3)  # NumPy takes it as the tuple it is


FORMATS = [(1.23456, ".3f"), (3, ">5"), (-0.5, "+.2e"), (2.0, ""), (7, "d")]


@pytest.mark.parametrize(("value", "spec"), FORMATS)
def test_a_0d_tensor_formats_as_its_number_as_pytorchs(value, spec):
    ours = format(tg.tensor(value), spec)  # f"{loss:.4f}", f"{loss}"
    assert ours == format(value, spec)
    torch = pytest.importorskip("torch")
    assert ours == format(torch.tensor(value), spec)


def test_a_tensor_of_more_numbers_takes_no_format_spec():
    assert format(tg.tensor([1.0, 2.0])) == str(tg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{tg.tensor([1.0]):.2f}"
