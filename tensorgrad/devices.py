"""Where tensors live: always the CPU. ``device("cpu")`` exists so that PyTorch code that
names its device (``device="cpu"``, ``.to(device)``) runs unchanged; any other device is an
error, since this engine runs on NumPy on one machine.
"""

from __future__ import annotations

from typing import Any


class device:  # noqa: N801 (PyTorch's name)
    """Where a tensor lives: always the CPU here (``device("cpu")``, ``device("cpu", 0)``).
    Any other device raises RuntimeError: this engine runs on NumPy, on one machine."""

    __slots__ = ("type", "index")

    type: str  # always "cpu"
    index: int | None

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:  # noqa: A002
        where: Any = type  # (PyTorch's keyword hides the builtin)
        if isinstance(where, device):
            where, index = where.type, where.index if index is None else index
        if not isinstance(where, str):
            raise TypeError(f"a device is named by a string such as 'cpu', not "
                            f"{where.__class__.__name__}")
        name, _, number = where.partition(":")
        if name != "cpu":
            raise RuntimeError(f"tensorgrad runs on the CPU only: device {where!r} is not "
                               "available (to use a GPU, run the same code on PyTorch)")
        if number:
            if not number.isdigit() or index is not None:
                raise RuntimeError(f"invalid device string: {where!r}")
            index = int(number)
        if index is not None and index != 0:
            raise RuntimeError(f"there is one CPU device, cpu:0, not cpu:{index}")
        self.type, self.index = "cpu", index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __enter__(self) -> device:
        """As PyTorch's ``with torch.device(...)``: factories make tensors here, the CPU."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"


CPU = device("cpu")


def check_device(where: Any) -> None:
    """Raise unless ``where`` (None, a string, a ``device`` or a device index) names the CPU."""
    if where is None or isinstance(where, device):
        return
    if isinstance(where, int) and not isinstance(where, bool):
        raise RuntimeError(f"tensorgrad runs on the CPU only: device index {where} names a GPU")
    device(where)


def get_default_device() -> device:
    """The device factories make tensors on: the CPU."""
    return CPU


def set_default_device(where: Any) -> None:
    """Accept the CPU (or None), as PyTorch's; any other device raises RuntimeError."""
    check_device(where)
