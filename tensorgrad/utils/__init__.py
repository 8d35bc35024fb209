"""torch.utils on tensorgrad: ``data``, the datasets, samplers and ``DataLoader`` that feed a
training loop. ``from tensorgrad.utils.data import DataLoader`` reads as PyTorch's import."""

from . import data

__all__ = ["data"]
