"""microgpt's GPT on the scalar engine: every number a ``Value``, one token at a time.

A faithful port of microgpt.py's ``gpt()``, with its KV cache. ``gpt_tensor.py``
is the same model on ``Tensor``; the two files mirror each other function for
function, so read them side by side.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np

from tensorgrad import Value

from .model import GPTConfig

Matrix = list[list[Value]]


# ---- parameters ---------------------------------------------------------------------------------


def from_state_dict(state: dict[str, np.ndarray]) -> dict[str, Matrix]:
    return {name: [[Value(x) for x in row] for row in w.tolist()] for name, w in state.items()}


def to_state_dict(params: dict[str, Matrix]) -> dict[str, np.ndarray]:
    return {name: np.array([[p.data for p in row] for row in w]) for name, w in params.items()}


def grads(params: dict[str, Matrix]) -> dict[str, np.ndarray]:
    return {name: np.array([[p.grad for p in row] for row in w]) for name, w in params.items()}


def parameters(params: dict[str, Matrix]) -> list[Value]:
    return [p for w in params.values() for row in w for p in row]


# ---- the model ----------------------------------------------------------------------------------


def linear(x: list[Value], w: Matrix) -> list[Value]:
    # sum() of Values is a Value; its int start, 0, would only come back for an empty row
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]  # type: ignore[misc]


def softmax(logits: list[Value]) -> list[Value]:
    max_val = max(val.data for val in logits)  # a constant shift, for a finite exp()
    exps = [(val - max_val).exp() for val in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x: list[Value]) -> list[Value]:
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def attention(q: list[Value], keys: list, values: list, config: GPTConfig) -> list[Value]:
    """Each head attends from this position's query to the cached keys and values."""
    head_dim = config.head_dim
    out: list[Value] = []
    for h in range(config.n_head):
        hs = slice(h * head_dim, (h + 1) * head_dim)
        q_h, k_h, v_h = q[hs], [k[hs] for k in keys], [v[hs] for v in values]
        scores = [sum(qj * kj for qj, kj in zip(q_h, k_t)) / head_dim**0.5 for k_t in k_h]
        weights = softmax(scores)
        out.extend(sum(w * v_t[j] for w, v_t in zip(weights, v_h)) for j in range(head_dim))
    return out


def gpt(params: dict[str, Matrix], config: GPTConfig, token_id: int, pos_id: int,
        keys: list, values: list) -> list[Value]:
    """Logits for the token after ``token_id`` at ``pos_id``; appends to the KV cache."""
    x = [t + p for t, p in zip(params["wte"][token_id], params["wpe"][pos_id])]
    x = rmsnorm(x)
    for li in range(config.n_layer):
        # 1) multi-head causal attention: the cache holds exactly the positions seen so far
        x_residual = x
        x = rmsnorm(x)
        q = linear(x, params[f"layer{li}.attn_wq"])
        keys[li].append(linear(x, params[f"layer{li}.attn_wk"]))
        values[li].append(linear(x, params[f"layer{li}.attn_wv"]))
        x = linear(attention(q, keys[li], values[li], config), params[f"layer{li}.attn_wo"])
        x = [a + b for a, b in zip(x, x_residual)]
        # 2) MLP
        x_residual = x
        x = rmsnorm(x)
        x = [xi.relu() for xi in linear(x, params[f"layer{li}.mlp_fc1"])]
        x = linear(x, params[f"layer{li}.mlp_fc2"])
        x = [a + b for a, b in zip(x, x_residual)]
    return linear(x, params["lm_head"])


def empty_cache(config: GPTConfig) -> tuple[list, list]:
    return [[] for _ in range(config.n_layer)], [[] for _ in range(config.n_layer)]


def document_loss(params: dict[str, Matrix], config: GPTConfig, tokens: Sequence[int]
                  ) -> Value:
    """Mean over positions of -log p(next token), the first block_size positions."""
    n = min(config.block_size, len(tokens) - 1)
    keys, values = empty_cache(config)
    losses = []
    for pos_id in range(n):
        logits = gpt(params, config, tokens[pos_id], pos_id, keys, values)
        probs = softmax(logits)
        losses.append(-probs[tokens[pos_id + 1]].log())
    # sum() of Values is a Value; its int start, 0, would only come back for no positions
    return (1 / n) * sum(losses)  # type: ignore[return-value]


def training_step(params: dict[str, Matrix], config: GPTConfig
                  ) -> Callable[[list[list[int]]], Value]:
    """``step([tokens])``: one document's loss, backpropagated into the parameters' grads."""

    def step(batch: list[list[int]]) -> Value:
        (tokens,) = batch  # one document per step
        loss = document_loss(params, config, tokens)
        loss.backward()
        return loss

    return step


def generate(params: dict[str, Matrix], config: GPTConfig, bos: int, rng: random.Random,
             temperature: float) -> list[int]:
    """Sample one document: start at BOS, stop at BOS or after block_size tokens."""
    keys, values = empty_cache(config)
    token_id, sample = bos, []
    for pos_id in range(config.block_size):
        logits = gpt(params, config, token_id, pos_id, keys, values)
        probs = softmax([logit / temperature for logit in logits])
        token_id = rng.choices(range(config.vocab_size), weights=[p.data for p in probs])[0]
        if token_id == bos:
            break
        sample.append(token_id)
    return sample


# ---- the optimizer ------------------------------------------------------------------------------


class Adam:
    """microgpt.py's Adam over a list of ``Value``s, one Python float at a time."""

    def __init__(self, params: list[Value], lr: float, betas: tuple[float, float], eps: float):
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = [0.0] * len(params)
        self.v = [0.0] * len(params)
        self.step_count = 0

    def step(self) -> None:
        self.step_count += 1
        beta1, beta2 = self.betas
        for i, p in enumerate(self.params):
            self.m[i] = beta1 * self.m[i] + (1 - beta1) * p.grad
            self.v[i] = beta2 * self.v[i] + (1 - beta2) * p.grad**2
            m_hat = self.m[i] / (1 - beta1**self.step_count)
            v_hat = self.v[i] / (1 - beta2**self.step_count)
            p.data -= self.lr * m_hat / (v_hat**0.5 + self.eps)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = 0.0

    def state_dict(self) -> dict:
        """tensorgrad's (and PyTorch's) layout: each parameter's step and moments by number."""
        state = {i: {"step": self.step_count, "exp_avg": np.array(m), "exp_avg_sq": np.array(v)}
                 for i, (m, v) in enumerate(zip(self.m, self.v))}
        return {"state": state, "param_groups": [{"lr": self.lr, "betas": self.betas,
                                                  "eps": self.eps,
                                                  "params": list(range(len(self.params)))}]}

    def load_state_dict(self, state_dict: dict) -> None:
        state = state_dict["state"]
        if sorted(state) != list(range(len(self.params))):
            raise ValueError("optimizer state does not match the parameters")
        self.m = [float(state[i]["exp_avg"]) for i in range(len(self.params))]
        self.v = [float(state[i]["exp_avg_sq"]) for i in range(len(self.params))]
        self.step_count = int(state[0]["step"])
