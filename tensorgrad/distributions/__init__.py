"""``torch.distributions`` on tensorgrad: the distributions that reinforcement learning,
variational autoencoders and sampling code use, with PyTorch's shapes, parameters, checks
and formulas, their densities, entropies and divergences differentiable through the engine's
ops. Samples come from tensorgrad's generator (``tensorgrad.manual_seed`` repeats them; they
differ from PyTorch's draws)::

    from tensorgrad.distributions import Categorical

    dist = Categorical(logits=policy(state))
    action = dist.sample()
    loss = -(dist.log_prob(action) * advantage).mean() - 0.01 * dist.entropy().mean()

Here: ``Distribution``, ``Normal``, ``Uniform``, ``Bernoulli``, ``Categorical``,
``OneHotCategorical``, ``Independent``, ``kl_divergence`` and ``register_kl``, and the
``constraints`` they check.
"""

from . import constraints, kl, transforms, utils
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .log_normal import LogNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .transformed_distribution import TransformedDistribution
from .transforms import (
    AbsTransform,
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    PowerTransform,
    SigmoidTransform,
    SoftmaxTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from .uniform import Uniform

__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Categorical", "ComposeTransform",
           "Distribution", "ExpTransform", "Independent", "LogNormal", "Normal",
           "OneHotCategorical", "PowerTransform", "SigmoidTransform", "SoftmaxTransform",
           "TanhTransform", "Transform", "TransformedDistribution", "Uniform", "constraints",
           "identity_transform", "kl", "kl_divergence", "register_kl", "transforms", "utils"]
