"""Misuse the engine must refuse rather than answer wrongly, as PyTorch does: grad-mode
decorators on generators, ``.grad`` of the wrong shape or dtype, a ``Function`` whose forward
returns what a ``Tensor`` cannot hold, arrays written through ``numpy()`` while a graph
needs them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Function, Tensor, enable_grad, is_grad_enabled, no_grad, optim


@pytest.fixture(autouse=True)
def recording_on_afterwards():
    """A test that fails with recording off must not pass that on."""
    yield
    tg.set_grad_enabled(True)


# ---- grad-mode decorators on generator functions --------------------------------------------

DECORATORS = {
    "no_grad()": (lambda: no_grad(), False),
    "no_grad": (lambda: no_grad, False),
    "set_grad_enabled(False)": (lambda: tg.set_grad_enabled(False), False),
    "enable_grad()": (lambda: enable_grad(), True),
    "set_grad_enabled(True)": (lambda: tg.set_grad_enabled(True), True),
}


def modes_seen(decorator, outside: bool) -> tuple[list[bool], list[bool], object]:
    """Drive a decorated generator from code running in mode ``outside``: the modes seen inside
    at each resume, those seen by the caller between them, and its return value."""
    inside = []

    @decorator
    def numbers(n):
        total = 0
        for i in range(n):
            inside.append(is_grad_enabled())
            total += yield i
        inside.append(is_grad_enabled())
        return total

    between = []
    with tg.set_grad_enabled(outside):
        generator = numbers(3)
        between.append(is_grad_enabled())  # made, not started
        value = next(generator)
        try:
            while True:
                between.append(is_grad_enabled())
                value = generator.send(value * 10)
        except StopIteration as stop:
            returned = stop.value
        between.append(is_grad_enabled())
    return inside, between, returned


@pytest.mark.parametrize("name", DECORATORS)
@pytest.mark.parametrize("outside", [True, False])
def test_a_decorated_generator_runs_in_the_mode_and_its_caller_in_its_own(name, outside):
    make, mode = DECORATORS[name]
    inside, between, returned = modes_seen(make(), outside)
    assert inside == [mode] * 4
    assert between == [outside] * 5
    assert returned == 0 + 10 + 20  # sent values and the return value pass through


def test_a_no_grad_generator_records_no_graph_and_its_caller_does():
    x = Tensor([1.0, 2.0], requires_grad=True)

    @no_grad()
    def doubled():
        while True:
            yield x * 2.0

    results = doubled()
    assert not next(results).requires_grad
    assert (x * 2.0).requires_grad  # between resumes: the caller's mode
    assert not next(results).requires_grad


def test_a_thrown_exception_and_close_reach_the_generator_in_its_mode():
    seen = []

    @no_grad()
    def guarded():
        try:
            yield 1
        except KeyError:
            seen.append(("caught", is_grad_enabled()))
            yield 2
        finally:
            seen.append(("finally", is_grad_enabled()))

    generator = guarded()
    next(generator)
    assert generator.throw(KeyError("k")) == 2 and is_grad_enabled()
    generator.close()
    assert seen == [("caught", False), ("finally", False)] and is_grad_enabled()
    with pytest.raises(ValueError, match="raised"):
        unstarted = guarded()
        next(unstarted)
        unstarted.throw(ValueError("raised"))
    assert is_grad_enabled()


def test_generator_decorators_match_pytorch():
    torch = pytest.importorskip("torch")
    for ours, theirs in [(no_grad, torch.no_grad), (enable_grad, torch.enable_grad)]:
        for outside in (True, False):
            seen = []
            for engine, decorator in [(tg, ours), (torch, theirs)]:
                def probe(engine=engine):
                    return [engine.is_grad_enabled()]

                @decorator()
                def generator(probe=probe):
                    yield probe()
                    yield probe()

                with engine.set_grad_enabled(outside):
                    made = generator()
                    seen.append([*next(made), *probe(), *next(made), *probe()])
            assert seen[0] == seen[1]


# ---- what a Function's forward may return ----------------------------------------------------


def returning(result):
    """A Function whose forward returns ``result`` (a callable of the input array)."""

    class Returns(Function):
        @staticmethod
        def forward(ctx, x):
            return result(x)

        @staticmethod
        def backward(ctx, grad):
            return grad

    return Returns


REFUSED_DATA = {  # what Tensor(...) refuses, returned by a forward
    "str": lambda x: "abc",
    "str array": lambda x: np.array(["a", "b"]),
    "bytes array": lambda x: np.array([b"a"]),
    "object array": lambda x: np.array([object()]),
    "complex array": lambda x: x + 1j,
    "complex64 array": lambda x: x.astype(np.complex64),
    "complex number": lambda x: 1j,
    "numpy complex": lambda x: np.complex128(1j),
    "datetime array": lambda x: np.array(["2026-01-01"], dtype="datetime64[D]"),
}
NOT_ONE_RESULT = {  # a Function here has one output: one array, or a number
    "None": lambda x: None,
    "tuple": lambda x: (x, x),
    "list of arrays": lambda x: [x, x],
    "list of numbers": lambda x: [1.0, 2.0],
    "dict": lambda x: {"x": x},
}


@pytest.mark.parametrize("name", REFUSED_DATA)
@pytest.mark.parametrize("grad", [True, False])
def test_a_forward_returning_data_a_tensor_refuses_raises_naming_the_op(name, grad):
    for data in (np.array([1.0, 2.0]), np.array([1.0, 2.0], np.float32)):
        message = r"Returns\.forward returned .* a Tensor holds numbers or booleans"
        with pytest.raises(TypeError, match=message), tg.set_grad_enabled(grad):
            returning(REFUSED_DATA[name]).apply(Tensor(data, requires_grad=True))
        with pytest.raises(TypeError):  # as Tensor(...) itself does
            Tensor(REFUSED_DATA[name](data))


@pytest.mark.parametrize("name", NOT_ONE_RESULT)
def test_a_forward_returning_other_than_one_result_raises_naming_the_op(name):
    with pytest.raises(TypeError, match=r"Returns\.forward returned a .*: it returns one array"):
        returning(NOT_ONE_RESULT[name]).apply(Tensor([1.0, 2.0], requires_grad=True))


@pytest.mark.parametrize("result, dtype, grad", [
    (lambda x: x.sum(), np.float64, True),  # a NumPy scalar
    (lambda x: 2.5, np.float64, True),
    (lambda x: 3, np.int64, False),
    (lambda x: True, np.bool_, False),
    (lambda x: x > 1, np.bool_, False),
    (lambda x: x.astype(np.float16), np.float16, True),
    (lambda x: x.astype(">f8"), ">f8", True),  # another byte order: not float64 itself
    (lambda x: Tensor(x * 2), np.float64, True),
    (lambda x: np.empty((0, 3)), np.float64, True),
])
def test_a_forward_may_return_numbers_and_arrays_of_numbers(result, dtype, grad):
    out = returning(result).apply(Tensor([1.0, 2.0], requires_grad=True))
    assert isinstance(out.detach().numpy(), np.ndarray) and out.dtype == dtype
    assert out.requires_grad is grad


@pytest.mark.parametrize("operand", [np.array([1j]), np.array(["a"]), np.array([object()])])
def test_a_built_in_op_refuses_an_array_a_tensor_could_not_hold(operand):
    x = Tensor([1.0], requires_grad=True)
    for op in (lambda: x + operand, lambda: operand * x, lambda: x - operand):
        with pytest.raises(TypeError, match="a tensor op takes tensors, arrays and numbers"):
            op()


# ---- .grad: of its tensor's shape and dtype -------------------------------------------------

SHAPES = [(2, 3), (), (0, 3), (1,), (4, 1, 2)]
DTYPES = [np.float64, np.float32]


def wrong_shapes(shape):
    """Shapes other than ``shape``, of the same size first (the ones Adam's ravel mixed up)."""
    size = int(np.prod(shape))
    same_size = [s for s in [shape[::-1], (size,), (1, size), (size, 1), (), (0,), (3, 0)]
                 if s != shape and int(np.prod(s)) == size]
    return [*same_size, (size + 1,), (2, *shape)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_assigning_a_grad_of_another_shape_raises_as_pytorch(shape, dtype):
    p = tg.zeros(shape, dtype=dtype, requires_grad=True)
    for wrong in wrong_shapes(shape):
        for grad in (np.zeros(wrong, dtype), tg.zeros(wrong, dtype=dtype)):
            with pytest.raises(RuntimeError, match="assign a gradient of shape"):
                p.grad = grad
            assert p.grad is None


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_assigning_a_grad_of_another_dtype_raises_as_pytorch(shape, dtype):
    p = tg.zeros(shape, dtype=dtype, requires_grad=True)
    for wrong in [np.float32 if dtype == np.float64 else np.float64, np.int64, np.bool_,
                  np.float16]:
        with pytest.raises(RuntimeError, match="assign a gradient of dtype"):
            p.grad = np.zeros(shape, wrong)
    p.grad = np.ones(shape, dtype)  # its own shape and dtype: taken as it is
    assert p.grad.dtype == dtype and p.grad.shape == shape


@pytest.mark.parametrize("value", [[[0.0] * 3] * 2, 1.0, "grad", object()])
def test_assigning_a_grad_that_is_no_array_raises_type_error_as_pytorch(value):
    p = tg.zeros(2, 3, requires_grad=True)
    with pytest.raises(TypeError, match="assigned grad expected to be an array, a Tensor or None"):
        p.grad = value


def test_a_tensor_cannot_be_its_own_grad_as_in_pytorch():
    p = tg.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="its own grad"):
        p.grad = p


LAYOUTS = {
    "C": lambda a: np.ascontiguousarray(a),
    "Fortran": lambda a: np.asfortranarray(a),
    "transposed view": lambda a: np.ascontiguousarray(a.T).T,
    "sliced view": lambda a: np.concatenate([a, a]).reshape(2, *a.shape)[1],
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make", [optim.Adam, optim.AdamW, optim.SGD,
                                  lambda ps: optim.Adam(ps, amsgrad=True)])
def test_an_assigned_grad_in_any_layout_updates_as_its_values_say(layout, dtype, make):
    rng = np.random.default_rng(1)
    start, grad = rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=(3, 4)).astype(dtype)
    results = []
    for given in (grad.copy(), LAYOUTS[layout](grad.copy())):
        p = Tensor(start.copy(), requires_grad=True)
        opt = make([p])
        p.grad = given  # an array
        opt.step()
        p.grad = Tensor(given)  # or a tensor, as PyTorch's code assigns
        opt.step()
        results.append(p.detach().numpy().copy())
    np.testing.assert_array_equal(results[0], results[1])


def _set_in_place(array: np.ndarray, attribute: str, value: object) -> None:
    """Change an array's own shape or dtype, as NumPy lets it: deprecated since NumPy 2.5,
    and once a NumPy refuses it, there is no such misuse left to catch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            setattr(array, attribute, value)
        except (AttributeError, TypeError):
            pytest.skip(f"this NumPy no longer lets an array's {attribute} be set")


CHANGES_IN_PLACE = {  # ways past the setter: NumPy lets an array change its own shape or dtype
    "shape": lambda g: _set_in_place(g, "shape", g.shape[::-1]),
    "flattened": lambda g: _set_in_place(g, "shape", (g.size,)),
    "dtype": lambda g: _set_in_place(g, "dtype",
                                     np.int64 if g.dtype == np.float64 else np.int32),
}
OPTIMIZERS = {
    "Adam": optim.Adam,
    "AdamW": lambda ps: optim.AdamW(ps, weight_decay=0.1),
    "Adam amsgrad": lambda ps: optim.Adam(ps, amsgrad=True),
    "SGD": lambda ps: optim.SGD(ps, lr=0.1),
    "SGD momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
}


@pytest.mark.parametrize("change", CHANGES_IN_PLACE)
@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_an_optimizer_refuses_a_grad_changed_in_place_to_another_shape_or_dtype(change, name,
                                                                             dtype):
    p = tg.zeros(2, 3, dtype=dtype, requires_grad=True)
    other = tg.zeros(4, dtype=dtype, requires_grad=True)  # a second parameter in the group
    opt = OPTIMIZERS[name]([p, other])
    assigned = np.ones((2, 3), dtype)
    p.grad, other.grad = assigned, np.ones(4, dtype)  # (an assigned array is the gradient)
    CHANGES_IN_PLACE[change](assigned)
    before = p.detach().numpy().copy()
    with pytest.raises(RuntimeError, match="has a gradient of shape"):
        opt.step()
    np.testing.assert_array_equal(p.data, before)


def test_backward_refuses_to_add_to_a_grad_changed_in_place_to_another_shape():
    w = tg.ones(1, 4, requires_grad=True)
    assigned = np.full((1, 4), 2.0)
    w.grad = assigned
    _set_in_place(assigned, "shape", (4, 1))  # would broadcast with a (1, 4) gradient: (4, 4)
    with pytest.raises(RuntimeError, match="the gradients cannot be added"):
        (w * 2.0).sum().backward()


def test_grad_assignment_matches_pytorch():
    torch = pytest.importorskip("torch")
    cases = [((2, 3), (3, 2), "float32"), ((2, 3), (6,), "float32"), ((), (1,), "float32"),
             ((0, 3), (3, 0), "float32"), ((2, 3), (2, 3), "float64"), ((2, 3), (2, 3), "int64"),
             ((2, 3), (2, 3), "float32")]
    for shape, grad_shape, grad_dtype in cases:
        outcomes = []
        for engine in (tg, torch):
            p = engine.zeros(shape, dtype=engine.float32, requires_grad=True)
            try:
                p.grad = engine.zeros(grad_shape, dtype=getattr(engine, grad_dtype))
                outcomes.append(tuple(p.grad.shape))
            except (RuntimeError, TypeError) as error:
                outcomes.append(type(error))
        assert outcomes[0] == outcomes[1], (shape, grad_shape, grad_dtype)


# ---- writing through numpy() into what backward needs ---------------------------------------

VALUE_LAYOUTS = {  # the tensor's own array: numpy() shares its memory, whatever its layout
    "C": lambda a: a,
    "Fortran": lambda a: np.asfortranarray(a),
    "transposed": lambda a: np.ascontiguousarray(a.T).T,
    "sliced": lambda a: np.stack([a, a])[1, ...],
}
SHAPES_WITH_ENTRIES = [(3,), (2, 3), ()]


def saved_input(shape, dtype, layout):
    """w (requires grad) and x, and y = (w * x).sum(): Mul saved x for w's gradient."""
    rng = np.random.default_rng(0)
    w = Tensor(rng.normal(size=shape).astype(dtype), requires_grad=True)
    x = tg.from_numpy(VALUE_LAYOUTS[layout](rng.normal(size=shape).astype(dtype)))
    return w, x, (w * x).sum()


WRITES = {  # through numpy() after the op ran
    "a temporary": lambda x: x.numpy().__setitem__(..., 5.0),
    "a held array": lambda x: np.add(x.numpy(), 1.0, out=x.numpy()),
    "np.asarray": lambda x: np.asarray(x).__setitem__(..., 5.0),
    "a detached tensor's": lambda x: x.detach().numpy().__imul__(2.0),
    "a view of it": lambda x: x.numpy().T.__setitem__(..., 7.0),
}


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("shape", SHAPES_WITH_ENTRIES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", VALUE_LAYOUTS)
def test_backward_refuses_a_saved_array_written_through_numpy_after_the_op(write, shape, dtype,
                                                                          layout):
    w, x, y = saved_input(shape, dtype, layout)
    WRITES[write](x)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()
    assert w.grad is None


@pytest.mark.parametrize("collected", [False, True])
def test_a_write_through_an_array_handed_out_before_the_op_is_refused_too(collected):
    w, x = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0])
    held = x.numpy()  # before the op: the user may write through it at any time
    y = (w * x).sum()
    held[0] = 50.0
    if collected:  # the array gone before backward: its change was recorded as it went
        del held
        import gc

        gc.collect()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_a_buffer_refilled_through_numpy_before_each_forward_is_fine():
    w, x = Tensor([1.0, 2.0], requires_grad=True), Tensor([0.0, 0.0])
    buffer = x.numpy()
    for batch in ([1.0, 1.0], [2.0, 3.0], [5.0, 8.0]):
        buffer[...] = batch
        w.grad = None
        (w * x).sum().backward()
        np.testing.assert_array_equal(w.grad, batch)
    buffer[...] = 0.0
    y = (w * x).sum()
    buffer[...] = 1.0  # between forward and backward: refused
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


READS = {
    "print": lambda x: repr(x.numpy()),
    "sum": lambda x: x.numpy().sum(),
    "np.asarray": lambda x: np.asarray(x).copy(),
    "held": lambda x: x.numpy(),
    "a write of the same values": lambda x: x.numpy().__setitem__(..., x.numpy().copy()),
    "force": lambda x: x.numpy(force=True).__iadd__(1.0),  # a copy: write as you like
    "astype": lambda x: np.asarray(x, dtype=np.float16).__iadd__(1.0),
}


@pytest.mark.parametrize("read", READS)
@pytest.mark.parametrize("shape", [*SHAPES_WITH_ENTRIES, (0, 3)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_reading_through_numpy_between_forward_and_backward_is_fine(read, shape, dtype):
    w, x, y = saved_input(shape, dtype, "C")
    kept = READS[read](x)
    y.backward()
    np.testing.assert_array_equal(w.grad, x.data)
    del kept


@pytest.mark.parametrize("layout", VALUE_LAYOUTS)
def test_numpy_shares_memory_and_is_writable_as_pytorch(layout):
    x = tg.from_numpy(VALUE_LAYOUTS[layout](np.arange(6.0).reshape(2, 3)))
    array = x.numpy()
    assert np.shares_memory(array, x.data) and array.flags.writeable
    array[0, 0] = 9.0
    assert x[0, 0].item() == 9.0
    assert not np.shares_memory(x.numpy(force=True), x.data)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy"):
        Tensor([1.0], requires_grad=True).numpy()
    np.testing.assert_array_equal(Tensor([1.0], requires_grad=True).numpy(force=True), [1.0])


def test_writes_that_backward_does_not_need_are_fine():
    w = Tensor([1.0, 2.0], requires_grad=True)
    x = Tensor([3.0, 4.0])
    y = (w + x).sum()  # Add saves nothing
    x.numpy()[...] = 0.0
    z = (w * Tensor([1.0, 1.0])).sum()
    x.numpy()[...] = 1.0  # z's op did not save x
    (y + z).backward()
    np.testing.assert_array_equal(w.grad, [2.0, 2.0])


def test_a_write_elsewhere_in_the_same_memory_counts_as_pytorch_counts_a_storage():
    w = Tensor([1.0, 2.0], requires_grad=True)
    x = Tensor([[3.0, 4.0], [5.0, 6.0]])
    y = (w * x[0]).sum()  # Mul saved a view of x's first row
    x.numpy()[1] = 9.0  # another row: PyTorch's version counter is per storage too
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


# ---- requires_grad and backward's arguments, as PyTorch's ------------------------------------


def test_a_result_of_an_op_cannot_stop_requiring_grad_as_in_pytorch():
    w = Tensor([1.0, 2.0], requires_grad=True)
    y = w * 2.0
    with pytest.raises(RuntimeError, match="use detach"):
        y.requires_grad = False  # w would silently get no gradient through y
    (y * 3.0).sum().backward()
    np.testing.assert_array_equal(w.grad, [6.0, 6.0])


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, np.uint8])
def test_only_a_floating_tensor_can_be_set_to_require_grad_as_in_pytorch(dtype):
    x = Tensor(np.zeros(3, dtype))
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype"):
        x.requires_grad = True
    assert x.requires_grad is False


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_leaf_can_be_frozen_and_unfrozen_by_assignment(dtype):
    p = tg.ones(3, dtype=dtype, requires_grad=True)
    p.requires_grad = False
    assert not (p * 2.0).requires_grad
    p.requires_grad = True
    (p * 2.0).sum().backward()
    np.testing.assert_array_equal(p.grad, [2.0, 2.0, 2.0])


def test_requires_grad_assignment_matches_pytorch():
    torch = pytest.importorskip("torch")
    outcomes = []
    for engine in (tg, torch):
        w = engine.ones(2, requires_grad=True)
        results = []
        for target, value in [(w * 2, False), (engine.zeros(2, dtype=engine.int64), True),
                              (w.detach(), True), (w, False)]:
            try:
                target.requires_grad = value
                results.append(target.requires_grad)
            except RuntimeError:
                results.append("RuntimeError")
        outcomes.append(results)
    assert outcomes[0] == outcomes[1]


def test_backward_takes_pytorchs_arguments():
    w, v = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    y = (w * v).sum()
    y.backward(retain_graph=True)
    y.backward(inputs=[w])  # only w's gradient accumulates
    np.testing.assert_array_equal(w.grad, [6.0, 8.0])
    np.testing.assert_array_equal(v.grad, [1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf tensors that require grad"):
        y.backward(inputs=[w * 1.0])
    with pytest.raises(RuntimeError, match="no tensors"):
        y.backward(inputs=[])
    np.testing.assert_array_equal(w.grad, [6.0, 8.0])  # nothing accumulated by the refusals


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_an_optimizer_refuses_a_grad_left_behind_by_a_change_of_data(name):
    p = tg.zeros(1, 3, requires_grad=True)
    opt = OPTIMIZERS[name]([p])
    p.grad = np.ones((1, 3))
    p.data = np.zeros((3, 3))  # the values replaced by more, not the grad: it would broadcast
    with pytest.raises((RuntimeError, ValueError), match="shape"):
        opt.step()
    np.testing.assert_array_equal(p.data, np.zeros((3, 3)))


def test_np_asarray_copies_only_when_asked_or_converting_as_numpy_2_asks():
    x = Tensor([1.0, 2.0])
    assert np.shares_memory(np.asarray(x, copy=False), x.data)
    assert not np.shares_memory(np.array(x), x.data)  # copy=True
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError):
        np.asarray(x, dtype=np.float32, copy=False)  # would need a copy


@pytest.mark.parametrize("gradient", [np.array(["a", "b"]), np.array([object(), object()]),
                                      np.array([b"a", b"b"])])
def test_a_backward_returning_a_gradient_of_no_numbers_raises_naming_the_op(gradient):
    class Twice(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return gradient

    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"Twice\.backward returned a gradient of .* data"):
        Twice.apply(x).sum().backward()
    assert x.grad is None


# ---- parameters written in place by the library, between forward and backward -----------------


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_refuses_a_graph_that_saved_parameters_an_optimizer_step_changed_since(name,
                                                                                      dtype):
    w = tg.tensor([1.0, 2.0], dtype=dtype, requires_grad=True)
    opt = OPTIMIZERS[name]([w])
    (w * w).sum().backward()
    loss = (w * w).sum()  # Mul saved w
    opt.step()  # w changed in place: the graph's gradient would be of the old w
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()
    opt.zero_grad()
    (w * w).sum().backward()  # a graph made after the step is fine
    np.testing.assert_allclose(w.grad, 2 * w.data)


def test_backward_refuses_a_graph_that_saved_weights_load_state_dict_or_init_replaced():
    layer = tg.nn.Linear(2, 1)
    x = Tensor([[1.0, 2.0]])
    loss = layer(x).sum()
    layer.load_state_dict({"weight": np.ones((1, 2)), "bias": np.zeros(1)})
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()
    loss = (layer.weight * 2.0).sum()
    tg.nn.init.zeros_(layer.weight)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        (loss * layer.weight).sum().backward()


def test_an_optimizer_step_between_forward_and_backward_raises_as_in_pytorch():
    torch = pytest.importorskip("torch")
    outcomes = []
    for engine in (tg, torch):
        w = engine.ones(2, dtype=engine.float64, requires_grad=True)
        opt = engine.optim.SGD([w], lr=0.1)
        (w * w).sum().backward()
        loss = (w * w).sum()
        opt.step()
        try:
            loss.backward()
            outcomes.append("none")
        except RuntimeError:
            outcomes.append("RuntimeError")
    assert outcomes == ["RuntimeError", "RuntimeError"]
