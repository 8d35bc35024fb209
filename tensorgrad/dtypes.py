"""PyTorch's names for dtypes, as NumPy dtypes: ``tensorgrad.float32`` is
``np.dtype("float32")``, so ``x.dtype == tensorgrad.float32`` and ``dtype=tensorgrad.long``
mean what they mean in PyTorch. As there, ``float`` is float32 and ``double`` float64,
``int`` int32 and ``long`` int64; but a Python float becomes float64 here (``DEFAULT_FLOAT``,
``get_default_dtype()``, ``set_default_dtype()``), where PyTorch's default is float32.
``finfo`` and ``iinfo`` give a dtype's limits.

This module binds the builtins' names (``bool``, ``float``, ``int``) to dtypes.
"""

import builtins

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)  # noqa: A001 (PyTorch's name)
float64 = double = np.dtype(np.float64)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)  # noqa: A001 (PyTorch's name)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001 (PyTorch's name)
dtype = np.dtype  # the type of the dtypes above, as torch.dtype is theirs


class _Missing:
    """A dtype PyTorch has and NumPy has not: naming it works (a script's table of dtypes),
    using it fails with NumPy's TypeError "Cannot interpret ... as a data type", whose text
    (this object's) says why."""

    def __init__(self, name: builtins.str) -> None:
        self.name = name

    def __repr__(self) -> builtins.str:
        return f"tensorgrad.{self.name} (NumPy has no {self.name}: use float32 or float16)"


bfloat16 = _Missing("bfloat16")

DEFAULT_FLOAT = float64  # what Python floats and the floating factories make


def get_default_dtype() -> np.dtype:
    """The dtype of Python floats and of floating factories: float64 unless
    ``set_default_dtype`` changed it (PyTorch's: float32)."""
    return DEFAULT_FLOAT


def set_default_dtype(d: np.dtype) -> None:
    """Make Python floats, the floating factories and integers made floating (``exp`` of an
    int64 tensor, an int64 tensor times 0.5) of dtype ``d``, a floating one, as PyTorch's::

        set_default_dtype(float32)    # tensor(1.5).dtype: float32
    """
    from . import ops

    global DEFAULT_FLOAT
    resolved = np.dtype(d)
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

    def __init__(self, type: np.dtype | None = None) -> None:  # noqa: A002 (PyTorch's name)
        if type is bfloat16:  # no tensor has it, but mixed-precision code asks for its limits
            self._of_bfloat16()
            return
        resolved = DEFAULT_FLOAT if type is None else np.dtype(type)
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

    def __init__(self, type: np.dtype) -> None:  # noqa: A002 (PyTorch's name)
        resolved = np.dtype(type)
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


def promote_types(type1: np.dtype, type2: np.dtype) -> np.dtype:
    """The dtype an op on tensors of these two dtypes gives, by PyTorch's rule (an integer and
    float32 give float32, where NumPy's gives float64)::

        promote_types(int64, float32)    # float32
    """
    from . import ops

    return ops.promote_types(np.dtype(type1), np.dtype(type2))


def result_type(tensor1: object, tensor2: object) -> np.dtype:
    """The dtype of an arithmetic op on these operands (tensors or numbers), as PyTorch's:
    a 0-d tensor or a number decides only when it is of a higher category::

        result_type(tensor([1, 2]), 1.5)    # the default float dtype
    """
    from . import ops

    return ops.result_dtype(*(getattr(x, "_data", x) for x in (tensor1, tensor2)))


# PyTorch's categories of dtypes, by kind: promotion takes the higher one (ops.py), and an
# in-place op may write a value into its own category or a higher one (``can_cast``)
CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def can_cast(from_: np.dtype, to: np.dtype) -> builtins.bool:
    """Whether PyTorch's in-place ops may write a result of ``from_`` into a tensor of ``to``:
    not into a lower category (floating into integer, integer into bool); any size::

        can_cast(float64, int32)    # False
    """
    return CATEGORY[np.dtype(from_).kind] <= CATEGORY[np.dtype(to).kind]


# PyTorch's short names of dtypes, as its messages print them ("not implemented for 'Long'")
# and as its typed tensors are named (torch.LongTensor)
_SHORT_NAMES = {float16: "Half", float32: "Float", float64: "Double", int64: "Long",
                int32: "Int", int16: "Short", int8: "Char", uint8: "Byte", bool: "Bool"}


def short_name(d: np.dtype) -> builtins.str:
    """PyTorch's short name of dtype ``d`` ("Float" for float32), or NumPy's where PyTorch
    has no such dtype."""
    d = np.dtype(d)
    return _SHORT_NAMES.get(d, d.name)


def is_complex(input: object) -> builtins.bool:  # noqa: A002 (PyTorch's name)
    """Whether a tensor holds complex numbers: never here (tensorgrad has none)."""
    return np.asarray(getattr(input, "_data", input)).dtype.kind == "c"

