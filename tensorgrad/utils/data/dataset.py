"""``torch.utils.data.dataset``'s place, for code that imports the datasets from there
(``from tensorgrad.utils.data.dataset import Dataset``): they live in ``utils.data``."""

from . import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "Subset",
           "TensorDataset", "random_split"]
