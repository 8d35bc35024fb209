"""``torch.utils.data.sampler``'s place, for code that imports the samplers from there
(``from tensorgrad.utils.data.sampler import RandomSampler``): they live in ``utils.data``."""

from . import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]
