"""``torch.onnx`` for scripts that import it (pytorch/examples' word language model does, at
the top, and exports only when asked): nothing here writes ONNX, so ``export`` raises, and
code that asks whether an export is running is told no."""

from __future__ import annotations

from typing import Any, NoReturn


def is_in_onnx_export() -> bool:
    """Whether an ONNX export is tracing the model now: never here."""
    return False


def export(model: Any, args: Any = (), f: Any = None, *more: Any, **kwargs: Any) -> NoReturn:
    raise RuntimeError("torch.onnx.export: tensorgrad cannot write ONNX; save the state_dict "
                       "and export from PyTorch")
