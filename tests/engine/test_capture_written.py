"""The ops a replay writes out as NumPy lines (tensorgrad/inlined.py): every loss and every
gradient of a replay equals the eager step's to the last bit, in each case a writer takes,
and the cases it leaves to the op's own forward and backward still work."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Function, Tensor
from tensorgrad import functional as F

DTYPES = ["float64", "float32"]


def layout(array: np.ndarray, kind: str) -> np.ndarray:
    """The same values in C order, Fortran order, or as a transposed view of a copy."""
    if kind == "F":
        return np.asfortranarray(array)
    if kind == "T":
        return np.ascontiguousarray(np.swapaxes(array, 0, -1)).swapaxes(0, -1)
    return np.ascontiguousarray(array)


def called_ops(source: str) -> list[str]:
    """The ops a replay's source calls (``d = f3(...)``) rather than writes out."""
    return [name for name, body in re.findall(r"    # \d+: (\w+)\n((?:    [^#].*\n)*)", source)
            if "    d = f" in body]


def assert_replays_eager(loss_fn, inputs_of, leaves, calls=5, called=()):
    """Call ``loss_fn`` eagerly and as a captured step on new values each time: the losses
    and the leaves' gradients (and the tensor inputs') are the same bytes. ``called``: the
    ops the replay leaves to their own forward and backward."""
    step = tg.capture(loss_fn)
    for call in range(calls):
        inputs = inputs_of(call)
        grads = []
        for captured in (False, True):
            for leaf in leaves:
                leaf.grad = None
            for x in inputs:
                if isinstance(x, Tensor):
                    x.grad = None
            if captured:
                loss = step(*inputs)
            else:
                loss = loss_fn(*inputs)
                loss.backward()
            grads.append([loss.detach().numpy(), *(
                None if t.grad is None else t.grad.numpy() for t in [*leaves, *inputs]
                if isinstance(t, Tensor) and t.requires_grad)])
        eager, replayed = grads
        assert len(eager) == len(replayed)
        for a, b in zip(eager, replayed):
            assert (a is None) == (b is None)
            if a is not None:
                assert a.dtype == b.dtype and a.shape == b.shape
                assert a.tobytes() == b.tobytes()
    assert step.recorded_signatures() == 1
    assert called_ops(step.source(*inputs_of(0))) == list(called)
    return step


def draw(shape, dtype, seed, kind="C"):
    return layout(np.random.default_rng(seed).standard_normal(shape).astype(dtype), kind)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["C", "F", "T"])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (2, 1, 3, 4)])
def test_linear_rms_norm_relu_and_add_written_out(dtype, kind, shape):
    w1 = Tensor(draw((6, 4), dtype, 0, kind), requires_grad=True)
    w2 = Tensor(draw((4, 6), dtype, 1), requires_grad=True)

    def loss_fn(x):
        h = F.rms_norm(x, 4)
        h = h + F.linear(F.linear(h, w1).relu(), w2)
        return (F.rms_norm(h, 4) * h).sum()  # Mul, Sum: called

    assert_replays_eager(loss_fn, lambda call: [Tensor(draw(shape, dtype, 10 + call, kind))],
                         [w1, w2], called=["Mul", "Sum"])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["C", "F", "T"])
def test_permutations_written_out(dtype, kind):
    w1 = Tensor(draw((4, 3), dtype, 0), requires_grad=True)
    w2 = Tensor(draw((3, 4), dtype, 1), requires_grad=True)

    def loss_fn(x):  # (2, 3, 4) to (4, 2, 3): not its own inverse
        h = F.linear(x.permute(2, 0, 1), w1).relu()  # (4, 2, 4)
        return F.linear(h.transpose(0, 2), w2).relu().sum()  # Sum: called

    assert_replays_eager(loss_fn, lambda call: [Tensor(draw((2, 3, 4), dtype, 10 + call, kind),
                                                       requires_grad=True)],
                         [w1, w2], called=["Sum"])


@pytest.mark.parametrize("dtype", DTYPES)
def test_rms_norm_over_two_dimensions_and_tensor_inputs_that_need_gradients(dtype):
    w = Tensor(draw((3, 4), dtype, 0), requires_grad=True)

    def loss_fn(x):
        return F.cross_entropy(F.linear(F.rms_norm(x, (2, 4)), w).reshape(-1, 3),
                               np.arange(6) % 3)

    def inputs(call):
        return [Tensor(draw((3, 2, 4), dtype, call), requires_grad=True)]

    assert_replays_eager(loss_fn, inputs, [w], called=["Reshape"])



def test_rms_norm_over_nothing_is_called():
    """Over a size-0 dimension rms_norm normalizes nothing and saves nothing to write out."""
    w = Tensor(draw((3, 2), "float64", 0), requires_grad=True)

    def loss_fn(x):
        empty = F.linear(x, w)[:, :0]  # (4, 0): rows of nothing
        return F.rms_norm(empty, 0).sum() + (F.linear(x, w) * 2).sum()

    assert_replays_eager(loss_fn, lambda call: [Tensor(draw((4, 2), "float64", 10 + call))],
                         [w], called=["RMSNorm", "Sum", "Mul", "Sum"])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_embeddings_and_cross_entropy_written_out(dtype, reduction):
    wte = Tensor(draw((7, 5), dtype, 0), requires_grad=True)
    wpe = Tensor(draw((6, 5), dtype, 1), requires_grad=True)
    head = Tensor(draw((7, 5), dtype, 2), requires_grad=True)

    def loss_fn(ids, targets):
        x = wte[ids] + wpe[0:ids.shape[-1]]
        logits = F.linear(x, head).transpose(1, 2)  # (N, C, d1): PyTorch's layout
        loss = F.cross_entropy(logits, targets, reduction=reduction)
        return loss.sum() if reduction == "none" else loss

    def inputs(call):
        rng = np.random.default_rng(call)
        return [rng.integers(0, 7, (2, 4)), rng.integers(0, 7, (2, 4))]

    assert_replays_eager(loss_fn, inputs, [wte, wpe, head],  # Add: broadcast, called
                         called=["Add", "Sum"] if reduction == "none" else ["Add"])


def test_a_large_embedding_gradient_is_summed_as_eager_sums_it():
    table = Tensor(draw((50, 128), "float64", 0), requires_grad=True)  # 40 * 128 > 4096

    def loss_fn(ids):
        return F.rms_norm(table[ids], 128).sum()

    def inputs(call):  # rows picked ten times each: summed in another order, another rounding
        return [np.random.default_rng(call).integers(0, 4, 40)]

    step = assert_replays_eager(loss_fn, inputs, [table], called=["Sum"])
    assert "_scatter_rows(" in step.source(*inputs(0))  # as Index.backward adds them up


def test_cross_entropy_with_an_ignored_target_after_the_recording_records_anew():
    w = Tensor(draw((4, 3), "float64", 0), requires_grad=True)

    def loss_fn(x, targets):
        return F.cross_entropy(F.linear(x, w), targets)

    # -100 at calls 3 and 5: the first makes the step record anew and call CrossEntropy from
    # then on, so that the replay of call 6 (no -100) is not written out again to fail at 7
    targets = [np.array([0, 1, 2, 3, 0]), np.array([0, -100, 2, 3, -100])]
    step = assert_replays_eager(loss_fn, lambda call: [Tensor(draw((5, 3), "float64", call)),
                                                       targets[call in (3, 5)]], [w], calls=8,
                                called=["CrossEntropy"])
    with pytest.raises(IndexError, match="outside 0..3"):
        step(Tensor(draw((5, 3), "float64", 0)), np.array([0, 1, 2, 4, 0]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("is_causal", [True, False])
@pytest.mark.parametrize("batch", [(), (2,), (2, 1)])
def test_multi_head_attention_written_out(dtype, is_causal, batch):
    w = Tensor(draw((12, 4), dtype, 0), requires_grad=True)

    def loss_fn(x):
        return F.multi_head_attention(F.linear(x, w), 2, is_causal=is_causal).sum()

    assert_replays_eager(loss_fn, lambda call: [Tensor(draw((*batch, 5, 4), dtype, call))], [w],
                         called=["Sum"])


def test_attention_in_blocks_is_called():
    w = Tensor(draw((12, 4), "float32", 0), requires_grad=True)

    def loss_fn(x):
        return F.multi_head_attention(F.linear(x, w), 2, is_causal=True).sum()

    assert_replays_eager(loss_fn, lambda call: [Tensor(draw((64, 40, 4), "float32", call))], [w],
                         calls=3, called=["MultiHeadAttention", "Sum"])


class Cube(Function):
    """A user's op, with a backward that returns a list, in float64 for any input."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return [(3 * x * x * grad).astype(np.float64)]


class Halve(Function):
    """A user's op whose backward gives no gradient on some calls (None)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / 2

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return None if x[0, 0] > 0 else grad / 2


@pytest.mark.parametrize("dtype", DTYPES)
def test_user_functions_are_called_between_written_ops(dtype):
    w = Tensor(draw((3, 4), dtype, 0), requires_grad=True)
    v = Tensor(draw((3, 4), dtype, 1), requires_grad=True)
    u = Tensor(np.eye(4, dtype=dtype), requires_grad=True)

    def loss_fn(x):
        h = Cube.apply(F.linear(x, w))  # its float64 gradient is cast to the input's dtype
        # below Halve, the written ops' gradients are there only when Halve gives one
        h = F.linear(Halve.apply(F.rms_norm(F.linear(x, u), 4)), v) + h
        return F.cross_entropy(h, np.array([0, 1, 2, 0, 1]))

    def inputs(call):  # Halve's gradient is None on every other call
        return [Tensor(draw((5, 4), dtype, call) * (-1) ** call)]

    assert_replays_eager(loss_fn, inputs, [w, v, u], calls=7, called=["Cube", "Halve"])


def test_no_gradient_is_computed_for_an_input_that_needs_none():
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    step = assert_replays_eager(lambda x: F.linear(x, w).relu().sum(),
                                lambda call: [Tensor(draw((4, 2), "float64", call))], [w],
                                called=["Sum"])
    source = step.source(Tensor(np.ones((4, 2))))
    assert source.count(".dot(") == 2  # the forward's product and the weight's gradient
    step = assert_replays_eager(lambda x: F.linear(x, w).relu().sum(),
                                lambda call: [Tensor(draw((4, 2), "float64", call),
                                                     requires_grad=True)], [w], called=["Sum"])
    assert step.source(Tensor(np.ones((4, 2)))).count(".dot(") == 3  # and the input's


def test_a_parameter_that_changes_its_dtype_or_shape_is_recorded_anew():
    w = Tensor(draw((3, 2), "float64", 0), requires_grad=True)

    def loss_fn(x):
        return F.cross_entropy(F.linear(x, w), np.array([0, 1, 2, 0]))

    step = tg.capture(loss_fn)
    # the replay's lines read w's array: as recorded (float64, (3, 2)), then float32 (and
    # the input with it: a product takes one dtype), then of another shape
    for data in (w.data, w.detach().numpy().astype(np.float32), draw((5, 2), "float64", 2)):
        x = Tensor(draw((4, 2), "float64", 1).astype(data.dtype))
        w.data, w.grad = data, None
        replayed = [step(x).detach().numpy() for _ in range(3)]
        grad = w.grad.numpy()
        w.grad = None
        loss = loss_fn(x)
        loss.backward()
        assert all(r.tobytes() == loss.detach().numpy().tobytes() for r in replayed)
        thrice = (w.grad + w.grad + w.grad).numpy()
        assert grad.dtype == data.dtype and grad.tobytes() == thrice.tobytes()


def test_leaves_given_one_gradient_array_each_get_their_own():
    w1 = Tensor(draw((3, 4), "float64", 0), requires_grad=True)
    w2 = Tensor(draw((3, 4), "float64", 1), requires_grad=True)
    w3 = Tensor(draw((3, 4), "float64", 2), requires_grad=True)

    def loss_fn(x):  # Add gives its result's gradient to w1 and w2 as it is: one array
        return F.cross_entropy(F.linear(x, w1 + w2) + F.linear(x, w3), np.array([0, 1, 2]))

    step = assert_replays_eager(loss_fn, lambda call: [Tensor(draw((3, 4), "float64", call))],
                                [w1, w2, w3])
    for w in (w1, w2, w3):
        w.grad = None
    step(Tensor(draw((3, 4), "float64", 9)))
    assert not np.shares_memory(w1.grad, w2.grad)
    np.testing.assert_array_equal(w1.grad, w2.grad)
    kept, first = w3.grad, w3.grad.numpy().copy()
    step(Tensor(draw((3, 4), "float64", 9)))  # a gradient you kept sees the sum, as eager
    assert np.shares_memory(w3.grad, kept) and np.array_equal(kept, first + first)


def test_a_leaf_added_to_the_loss_gets_a_gradient_of_its_own():
    b = Tensor(np.array(0.5), requires_grad=True)

    def loss_fn(x):  # Add passes the seed gradient (one array for every run) on to b
        return b + x

    step = assert_replays_eager(loss_fn, lambda call: [Tensor(np.array(call * 1.0))], [b])
    b.grad = None
    step(Tensor(np.array(2.0)))
    kept = b.grad
    kept += 1  # yours to write
    b.grad = None
    step(Tensor(np.array(2.0)))
    assert b.grad == 1 and kept == 2


@pytest.mark.parametrize("dtype", DTYPES)
def test_microgpts_step_is_written_out_whole_and_replays_eager(dtype):
    import functools
    import random

    from microgpt import gpt_tensor
    from microgpt.model import GPTConfig, init_state_dict

    config = GPTConfig(vocab_size=27, n_embd=16, n_head=4, n_layer=1, block_size=16)
    state = init_state_dict(config, random.Random(0))
    params = gpt_tensor.from_state_dict({k: v.astype(dtype) for k, v in state.items()})

    def inputs(call):
        tokens = np.random.default_rng(call).integers(0, 27, 11)
        return [tokens[:-1], tokens[1:]]

    assert_replays_eager(functools.partial(gpt_tensor.token_loss, params, config), inputs,
                         list(params.values()), called=[])  # every op: no call, no context
