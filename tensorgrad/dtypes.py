"""PyTorch's dtypes: ``tensorgrad.float32`` is a ``tensorgrad.dtype``, one object per dtype as
``torch.float32`` is (``x.dtype is tensorgrad.float32``), with PyTorch's attributes
(``is_floating_point``, ``is_signed``, ``itemsize``, ``to_complex()``...) and NumPy's
(``kind``, ``name``...). NumPy takes it wherever a dtype goes (``np.zeros(2, float32)``) and it
equals and hashes as the NumPy dtype it stands for (``float32 == np.float32``); the engine
itself works on NumPy arrays and their NumPy dtypes. As in PyTorch, ``float`` is float32 and
``double`` float64, ``int`` int32 and ``long`` int64; but a Python float becomes float64 here
(``DEFAULT_FLOAT``, ``get_default_dtype()``, ``set_default_dtype()``), where PyTorch's default
is float32. ``finfo`` and ``iinfo`` give a dtype's limits.

This module binds the builtins' names (``bool``, ``float``, ``int``) to dtypes.
"""

import builtins
from typing import Any

import numpy as np


class dtype:  # noqa: N801 (PyTorch's name)
    """A tensor's element type, as ``torch.dtype``: ``float32``, ``int64``, ``bool``... are its
    instances, one per dtype, and ``dtype(spec)`` finds the one of anything NumPy reads as a
    dtype. It stands for the NumPy dtype ``.dtype``: NumPy takes it as that one, and it equals
    and hashes as that one::

        x = tensorgrad.ones(2, dtype=tensorgrad.float32)
        x.dtype is tensorgrad.float32, x.dtype == np.float32    # (True, True)
        x.dtype.is_floating_point, x.dtype.itemsize              # (True, 4)
        np.zeros(2, x.dtype).dtype                               # dtype('float32')
    """

    __slots__ = ("dtype", "name", "kind", "char", "type", "itemsize", "is_floating_point",
                 "is_complex", "is_signed", "_hash")

    dtype: np.dtype
    name: builtins.str
    kind: builtins.str
    char: builtins.str
    type: builtins.type
    itemsize: builtins.int
    is_floating_point: builtins.bool
    is_complex: builtins.bool
    is_signed: builtins.bool
    _hash: builtins.int

    def __new__(cls, spec: Any) -> "DType":
        return of(np.dtype(spec))

    def __getattr__(self, name: builtins.str) -> Any:
        # the rest of NumPy's dtype attributes (str, byteorder, descr, ...)
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(object.__getattribute__(self, "dtype"), name)

    def __eq__(self, other: object) -> builtins.bool:
        if other.__class__ is dtype:
            return self is other
        if other is None:
            return False
        return builtins.bool(self.dtype == other)

    def __ne__(self, other: object) -> builtins.bool:
        return not self == other

    def __hash__(self) -> builtins.int:
        return self._hash

    def __repr__(self) -> builtins.str:
        if self.dtype.isnative:
            return f"tensorgrad.{self.name}"
        return f"tensorgrad.dtype({self.dtype.str!r})"

    def __reduce__(self) -> Any:
        return of, (self.dtype,)

    def __copy__(self) -> "DType":
        return self

    def __deepcopy__(self, memo: Any) -> "DType":
        return self

    @property
    def abbr(self) -> builtins.str:
        """The short name PyTorch prints in places: ``f32``, ``i64``, ``b8``..."""
        return f"{self.kind if self.kind != '?' else 'b'}{8 * self.itemsize}"

    def to_real(self) -> "DType":
        """The real dtype of a complex one's parts (complex64: float32); a real one itself."""
        if self.kind == "c":
            return of(np.dtype(f"f{self.itemsize // 2}"))
        return self

    def to_complex(self) -> "DType":
        """The complex dtype whose parts are of this floating dtype (float32: complex64); a
        complex one itself. RuntimeError for an integer or bool dtype, and for float16 (whose
        complex counterpart NumPy has not)."""
        if self.kind == "c":
            return self
        if self.kind == "f" and self.itemsize in (4, 8):
            return of(np.dtype(f"c{2 * self.itemsize}"))
        raise RuntimeError(f"{self!r} has no complex counterpart here")


DType = dtype  # (the class's name in its own annotations, where ``dtype`` is the attribute)
BY_NUMPY: dict[np.dtype, dtype] = {}  # each NumPy dtype's tensorgrad one


def of(numpy_dtype: np.dtype) -> dtype:
    """The ``tensorgrad.dtype`` of a NumPy dtype (made the first time)."""
    found = BY_NUMPY.get(numpy_dtype)
    if found is not None:
        return found
    numpy_dtype = np.dtype(numpy_dtype)
    made = object.__new__(dtype)
    made.dtype, made.name, made.kind = numpy_dtype, numpy_dtype.name, numpy_dtype.kind
    made.char, made.type, made.itemsize = numpy_dtype.char, numpy_dtype.type, numpy_dtype.itemsize
    made.is_floating_point, made.is_complex = numpy_dtype.kind == "f", numpy_dtype.kind == "c"
    made.is_signed, made._hash = numpy_dtype.kind in "ifc", hash(numpy_dtype)
    return BY_NUMPY.setdefault(numpy_dtype, made)


def as_numpy(d: Any) -> np.dtype:
    """The NumPy dtype of ``d``: a tensorgrad dtype, a NumPy dtype or scalar type, a name."""
    return d.dtype if d.__class__ is dtype else np.dtype(d)


float16 = half = of(np.dtype(np.float16))
float32 = float = of(np.dtype(np.float32))  # noqa: A001 (PyTorch's name)
float64 = double = of(np.dtype(np.float64))
uint8 = of(np.dtype(np.uint8))
uint16 = of(np.dtype(np.uint16))
uint32 = of(np.dtype(np.uint32))
uint64 = of(np.dtype(np.uint64))
int8 = of(np.dtype(np.int8))
int16 = short = of(np.dtype(np.int16))
int32 = int = of(np.dtype(np.int32))  # noqa: A001 (PyTorch's name)
int64 = long = of(np.dtype(np.int64))
bool = of(np.dtype(np.bool_))  # noqa: A001 (PyTorch's name)
# what ``to_complex()`` gives; a tensor cannot hold them (not exported by tensorgrad)
complex64 = cfloat = of(np.dtype(np.complex64))
complex128 = cdouble = of(np.dtype(np.complex128))


class _Missing:
    """A dtype PyTorch has and NumPy has not: naming it works (a script's table of dtypes),
    using it fails with NumPy's TypeError "Cannot interpret ... as a data type", whose text
    (this object's) says why."""

    def __init__(self, name: builtins.str) -> None:
        self.name = name

    def __repr__(self) -> builtins.str:
        return f"tensorgrad.{self.name} (NumPy has no {self.name}: use float32 or float16)"


bfloat16 = _Missing("bfloat16")

# what Python floats and the floating factories make (a NumPy dtype: the engine works on those)
DEFAULT_FLOAT = float64.dtype


def get_default_dtype() -> dtype:
    """The dtype of Python floats and of floating factories: float64 unless
    ``set_default_dtype`` changed it (PyTorch's: float32)."""
    return of(DEFAULT_FLOAT)


def set_default_dtype(d: Any) -> None:
    """Make Python floats, the floating factories and integers made floating (``exp`` of an
    int64 tensor, an int64 tensor times 0.5) of dtype ``d``, a floating one, as PyTorch's::

        set_default_dtype(float32)    # tensor(1.5).dtype: float32
    """
    from . import ops

    global DEFAULT_FLOAT
    resolved = as_numpy(d)
    if resolved.kind != "f":
        raise TypeError("only floating-point types are supported as the default type")
    DEFAULT_FLOAT = ops.DEFAULT_FLOAT = resolved


class finfo:  # noqa: N801 (PyTorch's name)
    """The limits of a floating dtype (the default one if None), as ``torch.finfo``: ``bits``,
    ``eps`` (the gap from 1 to the next number), ``max``, ``min``, ``tiny`` (the smallest
    normal positive number; ``smallest_normal`` too), ``resolution`` (10 to the minus number
    of exact decimal digits) and ``dtype``'s name::

        finfo(float32).eps    # 1.1920928955078125e-07
    """

    bits: builtins.int
    eps: builtins.float
    max: builtins.float
    min: builtins.float
    tiny: builtins.float
    smallest_normal: builtins.float
    resolution: builtins.float
    dtype: builtins.str

    def __init__(self, type: Any = None) -> None:  # noqa: A002 (PyTorch's name)
        if type is bfloat16:  # no tensor has it, but mixed-precision code asks for its limits
            self._of_bfloat16()
            return
        resolved = DEFAULT_FLOAT if type is None else as_numpy(type)
        if resolved.kind != "f":
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        limits = np.finfo(resolved)
        self.bits = limits.bits
        self.eps = limits.eps.item()
        self.max = limits.max.item()
        self.min = limits.min.item()
        self.tiny = limits.smallest_normal.item()
        self.smallest_normal = self.tiny
        self.resolution = 10.0 ** -limits.precision
        self.dtype = resolved.name

    def _of_bfloat16(self) -> None:
        """float32's exponent with 8 bits of significand (7 stored)."""
        self.bits = 16
        self.eps = 2.0 ** -7
        self.max = (2.0 - 2.0 ** -7) * 2.0 ** 127
        self.min = -self.max
        self.tiny = self.smallest_normal = 2.0 ** -126
        self.resolution = 0.01
        self.dtype = "bfloat16"

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:  # noqa: N801 (PyTorch's name)
    """The limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``max``, ``min`` and
    ``dtype``'s name::

        iinfo(uint8).max    # 255
    """

    bits: builtins.int
    max: builtins.int
    min: builtins.int
    dtype: builtins.str

    def __init__(self, type: Any) -> None:  # noqa: A002 (PyTorch's name)
        resolved = as_numpy(type)
        if resolved.kind == "b":
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if resolved.kind not in "iu":
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo "
                            "to handle 'torch.iinfo'")
        limits = np.iinfo(resolved)
        self.bits = limits.bits
        self.max = builtins.int(limits.max)
        self.min = builtins.int(limits.min)
        self.dtype = resolved.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def promote_types(type1: Any, type2: Any) -> dtype:
    """The dtype an op on tensors of these two dtypes gives, by PyTorch's rule (an integer and
    float32 give float32, where NumPy's gives float64)::

        promote_types(int64, float32)    # float32
    """
    from . import ops

    return of(ops.promote_types(as_numpy(type1), as_numpy(type2)))


def result_type(tensor1: object, tensor2: object) -> dtype:
    """The dtype of an arithmetic op on these operands (tensors or numbers), as PyTorch's:
    a 0-d tensor or a number decides only when it is of a higher category::

        result_type(tensor([1, 2]), 1.5)    # the default float dtype
    """
    from . import ops

    return of(ops.result_dtype(*(getattr(x, "_data", x) for x in (tensor1, tensor2))))


# PyTorch's categories of dtypes, by kind: promotion takes the higher one (ops.py), and an
# in-place op may write a value into its own category or a higher one (``can_cast``)
CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def can_cast(from_: Any, to: Any) -> builtins.bool:
    """Whether PyTorch's in-place ops may write a result of ``from_`` into a tensor of ``to``:
    not into a lower category (floating into integer, integer into bool); any size::

        can_cast(float64, int32)    # False
    """
    return CATEGORY[as_numpy(from_).kind] <= CATEGORY[as_numpy(to).kind]


# PyTorch's short names of dtypes, as its messages print them ("not implemented for 'Long'")
# and as its typed tensors are named (torch.LongTensor)
_SHORT_NAMES: dict[Any, builtins.str] = {
    float16: "Half", float32: "Float", float64: "Double", int64: "Long", int32: "Int",
    int16: "Short", int8: "Char", uint8: "Byte", bool: "Bool", uint16: "UInt16",
    uint32: "UInt32", uint64: "UInt64"}


def short_name(d: Any) -> builtins.str:
    """PyTorch's short name of dtype ``d`` ("Float" for float32), or NumPy's where PyTorch
    has no such dtype."""
    resolved = as_numpy(d)
    return _SHORT_NAMES.get(resolved, resolved.name)


def is_complex(input: object) -> builtins.bool:  # noqa: A002 (PyTorch's name)
    """Whether a tensor holds complex numbers: never here (tensorgrad has none)."""
    return np.asarray(getattr(input, "_data", input)).dtype.kind == "c"

