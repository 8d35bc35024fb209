"""torch.utils on tensorgrad: ``data``, the datasets, samplers and ``DataLoader`` that feed a
training loop (``from tensorgrad.utils.data import DataLoader`` reads as PyTorch's import),
``checkpoint``, and ``hooks`` (the handle hooks return)."""

from . import checkpoint, data, hooks

__all__ = ["checkpoint", "data", "hooks"]
