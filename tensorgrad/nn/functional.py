"""``torch.nn.functional``'s name for ``tensorgrad.functional``: the same module, so that
``from tensorgrad.nn import functional as F`` (and ``import tensorgrad.nn.functional``)
reach the very same functions as ``import tensorgrad.functional as F``."""

import sys

from .. import functional

sys.modules[__name__] = functional
