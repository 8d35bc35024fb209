"""``torch.utils.hooks``' name for the handle every ``register_*hook`` returns
(``handle.remove()``), for code that imports it to annotate or keep handles."""

from ..tensor import RemovableHandle

__all__ = ["RemovableHandle"]
