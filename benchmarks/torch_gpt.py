"""microgpt's GPT in eager PyTorch on the CPU: a baseline for the benchmarks, not the library.

The same model, parameters and loss as :mod:`benchmarks.numpy_gpt` (see its docstring), written
the way a PyTorch user would: ``nn.Parameter`` weights loaded from the same NumPy state dict,
``F.embedding``, ``F.rms_norm``, ``F.scaled_dot_product_attention`` with a causal mask,
``F.cross_entropy``, and ``torch.optim.Adam`` (whose update equals microgpt's Adam).

Importing this module without PyTorch installed raises ``ImportError``, which the benchmark
catches to skip the torch rows. Thread count (``torch.set_num_threads``) is the caller's job.
"""

from __future__ import annotations

import numpy as np

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("benchmarks.torch_gpt needs PyTorch (pip install torch)") from exc

RMS_EPS = 1e-5
_LAYER_PARAMS = ("attn_wq", "attn_wk", "attn_wv", "attn_wo", "mlp_fc1", "mlp_fc2")


class GPT(nn.Module):
    """microgpt's GPT; ``forward(inputs, targets, mask)`` returns the batch loss.

    ``params`` maps each microgpt state-dict key ('wte', 'layer0.attn_wq', ...) to its
    ``nn.Parameter``, in the state dict's order.
    """

    def __init__(self, state: dict[str, np.ndarray], n_head: int, dtype: torch.dtype):
        super().__init__()
        n_embd = state["wte"].shape[1]
        if n_embd % n_head:
            raise ValueError(f"n_embd {n_embd} is not divisible by n_head {n_head}")
        self.n_head = n_head
        self.n_layer = (len(state) - 3) // 6

        def param(key: str) -> nn.Parameter:
            return nn.Parameter(torch.tensor(np.asarray(state[key]), dtype=dtype))

        self.wte, self.wpe, self.lm_head = param("wte"), param("wpe"), param("lm_head")
        self.layers = nn.ModuleList()
        for i in range(self.n_layer):
            layer = nn.Module()
            for name in _LAYER_PARAMS:
                setattr(layer, name, param(f"layer{i}.{name}"))
            self.layers.append(layer)
        by_key = {"wte": self.wte, "wpe": self.wpe, "lm_head": self.lm_head}
        for i, layer in enumerate(self.layers):
            by_key.update({f"layer{i}.{name}": getattr(layer, name) for name in _LAYER_PARAMS})
        self.params: dict[str, nn.Parameter] = {key: by_key[key] for key in state}

    def forward(
        self,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Loss of a batch: mean over documents of each document's mean (masked) token loss.

        ``inputs``/``targets`` are int64 (B, n); ``mask`` is (B, n) with padding (0) after each
        document's real positions, or None for all valid.
        """
        b, n = inputs.shape
        c = self.wte.shape[1]
        h, hd = self.n_head, c // self.n_head
        # speed: F.embedding, not wte[inputs], whose index_put backward costs more on small
        # tensors (benchmarks/SPEED.md, "Issue #26")
        x = F.rms_norm(F.embedding(inputs, self.wte) + self.wpe[:n], (c,), eps=RMS_EPS)
        for layer in self.layers:
            y = F.rms_norm(x, (c,), eps=RMS_EPS)
            q = F.linear(y, layer.attn_wq).view(b, n, h, hd).transpose(1, 2)
            k = F.linear(y, layer.attn_wk).view(b, n, h, hd).transpose(1, 2)
            v = F.linear(y, layer.attn_wv).view(b, n, h, hd).transpose(1, 2)
            # Padding sits after real positions, so the causal mask alone hides it from them.
            att = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + F.linear(att.transpose(1, 2).reshape(b, n, c), layer.attn_wo)
            y = F.rms_norm(x, (c,), eps=RMS_EPS)
            x = x + F.linear(F.relu(F.linear(y, layer.mlp_fc1)), layer.mlp_fc2)
        logits = F.linear(x, self.lm_head)
        nll = F.cross_entropy(logits.view(b * n, -1), targets.reshape(b * n), reduction="none")
        if mask is None:
            return nll.mean()
        weights = mask.to(nll.dtype)
        weights = weights / (weights.sum(1, keepdim=True) * b)
        return torch.dot(nll, weights.view(b * n))


def from_state_dict(
    state: dict[str, np.ndarray], n_head: int, dtype: torch.dtype = torch.float64
) -> GPT:
    """A :class:`GPT` holding copies of the arrays of a microgpt/numpy_gpt state dict."""
    return GPT(state, n_head, dtype)


def as_batch(
    inputs: np.ndarray | torch.Tensor,
    targets: np.ndarray | torch.Tensor,
    mask: np.ndarray | torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Convert NumPy/torch inputs to int64 (B, n) tensors (a 1-D document becomes B = 1).

    Call it once outside a timed loop: :func:`loss` and :func:`train_step` accept its output
    as is, at no conversion cost.
    """

    def tokens(a: np.ndarray | torch.Tensor) -> torch.Tensor:
        t = a if isinstance(a, torch.Tensor) else torch.from_numpy(np.asarray(a))
        t = t.long()  # no-op when already int64
        return t.unsqueeze(0) if t.dim() == 1 else t

    x, y = tokens(inputs), tokens(targets)
    if mask is None:
        return x, y, None
    m = mask if isinstance(mask, torch.Tensor) else torch.from_numpy(np.asarray(mask))
    return x, y, m.view(x.shape)


def loss(
    model: GPT,
    inputs: np.ndarray | torch.Tensor,
    targets: np.ndarray | torch.Tensor,
    mask: np.ndarray | torch.Tensor | None = None,
) -> torch.Tensor:
    """The batch loss (a scalar tensor in the graph); same semantics as numpy_gpt's."""
    return model(*as_batch(inputs, targets, mask))


def make_optimizer(model: GPT, lr: float = 1e-2, **options: bool) -> torch.optim.Adam:
    """torch's Adam with microgpt's hyperparameters (betas 0.85/0.99, eps 1e-8).

    ``options`` go to ``torch.optim.Adam`` as is, e.g. ``fused=True`` (one kernel for all
    parameters on the CPU) or ``foreach=True``; the default is torch's per-parameter loop.
    """
    return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.85, 0.99), eps=1e-8, **options)


def train_step(
    model: GPT,
    optimizer: torch.optim.Optimizer,
    inputs: np.ndarray | torch.Tensor,
    targets: np.ndarray | torch.Tensor,
    mask: np.ndarray | torch.Tensor | None = None,
) -> float:
    """One full training step (forward, backward, Adam update); returns the loss."""
    optimizer.zero_grad(set_to_none=True)
    batch_loss = loss(model, inputs, targets, mask)
    batch_loss.backward()
    optimizer.step()
    return batch_loss.item()


def grads_numpy(model: GPT) -> dict[str, np.ndarray]:
    """The current gradients as NumPy arrays keyed like the state dict (zeros where None)."""
    return {
        key: (np.zeros(p.shape) if p.grad is None else p.grad.detach().numpy().copy())
        for key, p in model.params.items()
    }


def state_numpy(model: GPT) -> dict[str, np.ndarray]:
    """The current parameters as NumPy arrays keyed like the state dict."""
    return {key: p.detach().numpy().copy() for key, p in model.params.items()}
