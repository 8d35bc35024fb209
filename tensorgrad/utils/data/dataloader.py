"""``torch.utils.data.dataloader``'s place, for code that imports the loader from there
(``from tensorgrad.utils.data.dataloader import DataLoader``): it lives in ``utils.data``."""

from . import DataLoader, default_collate, default_convert, get_worker_info

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]
