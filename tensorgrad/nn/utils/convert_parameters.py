"""``torch.nn.utils.convert_parameters``: a model's parameters as one vector and back (the
functions live in ``tensorgrad.nn.utils``)."""

from . import parameters_to_vector, vector_to_parameters

__all__ = ["parameters_to_vector", "vector_to_parameters"]
