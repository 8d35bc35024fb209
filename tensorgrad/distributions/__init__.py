"""``torch.distributions`` on tensorgrad: the distributions that reinforcement learning,
variational autoencoders and sampling code use, with PyTorch's shapes, parameters, checks
and formulas, their densities, entropies and divergences differentiable through the engine's
ops. Samples come from tensorgrad's generator (``tensorgrad.manual_seed`` repeats them; they
differ from PyTorch's draws)::

    from tensorgrad.distributions import Categorical

    dist = Categorical(logits=policy(state))
    action = dist.sample()
    loss = -(dist.log_prob(action) * advantage).mean() - 0.01 * dist.entropy().mean()

Here: ``Distribution``; ``Normal``, ``Uniform``, ``LogNormal``, ``HalfNormal``,
``Exponential``, ``Laplace``, ``Cauchy``, ``StudentT``, ``Gumbel``, ``Gamma``, ``Chi2``,
``Beta``, ``Dirichlet``, ``MultivariateNormal``, ``LowRankMultivariateNormal``,
``ContinuousBernoulli``, ``VonMises``, ``Wishart``, ``LKJCholesky``; ``Bernoulli``,
``Categorical``, ``OneHotCategorical`` (and ``...StraightThrough``), ``Binomial``,
``Multinomial``, ``Geometric``, ``Poisson``; the relaxed ``RelaxedBernoulli`` and
``RelaxedOneHotCategorical``; ``Independent``, ``MixtureSameFamily``,
``TransformedDistribution`` and its ``transforms``; ``kl_divergence`` and ``register_kl``,
and the ``constraints`` they check.
"""

from . import constraint_registry, constraints, kl, transforms, utils
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .constraint_registry import biject_to, transform_to
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .inverse_gamma import InverseGamma
from .kl import kl_divergence, register_kl
from .kumaraswamy import Kumaraswamy
from .laplace import Laplace
from .lkj_cholesky import LKJCholesky
from .log_normal import LogNormal
from .logistic_normal import LogisticNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .pareto import Pareto
from .poisson import Poisson
from .relaxed_bernoulli import LogitRelaxedBernoulli, RelaxedBernoulli
from .relaxed_categorical import ExpRelaxedCategorical, RelaxedOneHotCategorical
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import (
    AbsTransform,
    AffineTransform,
    ComposeTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from .uniform import Uniform
from .von_mises import VonMises
from .weibull import Weibull
from .wishart import Wishart

__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "Categorical",
           "Cauchy", "Chi2", "ComposeTransform", "CumulativeDistributionTransform",
           "Dirichlet", "Distribution", "ExpRelaxedCategorical", "ExpTransform", "Exponential",
           "Gamma", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "Independent",
           "IndependentTransform", "InverseGamma", "Kumaraswamy", "Laplace", "LogNormal",
           "LogisticNormal", "LogitRelaxedBernoulli", "LowRankMultivariateNormal",
           "LowerCholeskyTransform", "MixtureSameFamily", "Multinomial", "MultivariateNormal",
           "NegativeBinomial",
           "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough", "Pareto", "Poisson",
           "PowerTransform", "RelaxedBernoulli", "RelaxedOneHotCategorical",
           "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform", "SoftplusTransform",
           "StickBreakingTransform", "StudentT", "TanhTransform", "Transform",
           "TransformedDistribution", "Uniform", "Weibull", "biject_to", "constraint_registry",
           "constraints", "identity_transform", "kl", "kl_divergence", "register_kl",
           "transform_to", "transforms", "utils"]
__all__ += ["ContinuousBernoulli", "LKJCholesky", "VonMises", "Wishart"]
