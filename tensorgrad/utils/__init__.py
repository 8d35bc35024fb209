"""torch.utils on tensorgrad: ``data``, the datasets, samplers and ``DataLoader`` that feed a
training loop (``from tensorgrad.utils.data import DataLoader`` reads as PyTorch's import),
and ``checkpoint``."""

from . import checkpoint, data

__all__ = ["checkpoint", "data"]
