"""microgpt's whole default run written by hand in NumPy: the baseline for ``microgpt train``.

``python -m benchmarks.numpy_run`` does what ``microgpt train`` does with no arguments, with
no autograd: read the packaged names, shuffle them and draw the weights from one
``Random(42)`` as microgpt.py does, train 1000 steps of one document each with
``numpy_gpt.loss_and_grads`` and its Adam under microgpt's linear decay, then draw 20 names
at temperature 0.5 from the same stream. It prints microgpt's lines (the losses agree to
float64 rounding, not to the bit: the sums run in another order), so that the two commands
can be timed against each other whole, start-up included (benchmarks/README.md).
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np

from microgpt.data import Tokenizer, docs_from_text
from microgpt.model import GPTConfig, init_state_dict, num_params
from microgpt.schedule import learning_rate

from . import numpy_gpt

NAMES = Path(__file__).resolve().parent.parent / "microgpt" / "names.txt"
STEPS, SAMPLES, TEMPERATURE, SEED = 1000, 20, 0.5, 42
LR, BETA1, BETA2, EPS = 0.01, 0.85, 0.99, 1e-8


def next_probabilities(state: dict[str, np.ndarray], tokens: list[int], n_head: int,
                       temperature: float) -> np.ndarray:
    """The next token's distribution after ``tokens``: the forward pass alone, recomputed over
    the whole prefix (no cache: a sample is at most block_size tokens)."""
    n = len(tokens)
    x, _ = numpy_gpt.rmsnorm(state["wte"][tokens] + state["wpe"][:n])
    c = x.shape[1]
    hd = c // n_head
    for i in range((len(state) - 3) // 6):  # numpy_gpt.state_keys: 3 tables, 6 per layer
        p = f"layer{i}."
        h, _ = numpy_gpt.rmsnorm(x)
        q, k, v = (h.dot(state[p + name].T).reshape(n, n_head, hd).transpose(1, 0, 2)
                   for name in ("attn_wq", "attn_wk", "attn_wv"))
        att = q @ k.swapaxes(-1, -2) / np.sqrt(hd) + numpy_gpt.causal_bias(n)
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        x = x + (att @ v).transpose(1, 0, 2).reshape(n, c).dot(state[p + "attn_wo"].T)
        h, _ = numpy_gpt.rmsnorm(x)
        x = x + np.maximum(h.dot(state[p + "mlp_fc1"].T), 0.0).dot(state[p + "mlp_fc2"].T)
    logits = x[-1].dot(state["lm_head"].T) / temperature
    e = np.exp(logits - logits.max())
    return e / e.sum()


def main() -> int:
    start = time.perf_counter()
    docs = docs_from_text(NAMES.read_text(encoding="utf-8"))
    tokenizer = Tokenizer.from_docs(docs)
    config = GPTConfig(vocab_size=tokenizer.vocab_size)
    rng = random.Random(SEED)
    rng.shuffle(docs)
    state = init_state_dict(config, rng)
    state = {name: state[name] for name in numpy_gpt.state_keys(config.n_layer)}
    print(f"num docs: {len(docs)}")
    print(f"vocab size: {config.vocab_size}")
    print(f"num params: {num_params(config)}")
    adam = numpy_gpt.Adam(state, lr=LR, b1=BETA1, b2=BETA2, eps=EPS)
    for step in range(STEPS):
        doc = docs[step % len(docs)][:config.block_size]
        ids = np.array([tokenizer.bos, *tokenizer.encode(doc), tokenizer.bos])
        loss, grads = numpy_gpt.loss_and_grads(state, ids[:-1], ids[1:], None, config.n_head)
        adam.step(grads, lr=learning_rate(step, STEPS, LR))
        print(f"step {step + 1:4d} / {STEPS:4d} | loss {loss:.4f}")
    print("\n--- inference (new, hallucinated names) ---")
    for i in range(1, SAMPLES + 1):
        tokens: list[int] = [tokenizer.bos]
        while len(tokens) <= config.block_size:
            probs = next_probabilities(state, tokens, config.n_head, TEMPERATURE)
            token = rng.choices(range(config.vocab_size), weights=probs.tolist())[0]
            if token == tokenizer.bos:
                break
            tokens.append(token)
        print(f"sample {i:2d}: {tokenizer.decode(tokens[1:])}")
    print(f"ran in {time.perf_counter() - start:.2f} s (hand-written NumPy)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
