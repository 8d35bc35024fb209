"""Sampling with a prefix and top-k, as a library and through ``microgpt sample``.

Without either option the sampler must draw exactly what microgpt.py's does; with them it
is checked against a brute-force decoder that reruns the whole sequence for every token.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from microgpt import cli, gpt_scalar, gpt_tensor
from microgpt.storage import checkpoint
from microgpt.train import Hyperparameters, setup, train

NAMES = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia", "harper",
         "evelyn", "abigail", "emily", "elizabeth", "mila", "ella", "avery", "sofia", "camila",
         "aria", "scarlett", "victoria", "madison", "luna", "grace", "chloe", "penelope"]


@pytest.fixture(scope="module")
def model():
    """Briefly trained weights (so names end at BOS as well as at the block's end)."""
    run = setup(NAMES, seed=3, n_embd=8, n_head=2, block_size=8)
    params = gpt_tensor.from_state_dict(run.state)
    for _ in train(gpt_tensor, params, run.config, run.docs, run.tokenizer,
                   Hyperparameters(steps=60, lr=0.05)):
        pass
    return run, gpt_tensor.from_state_dict(gpt_tensor.to_state_dict(params))


def next_token_probs(params, config, tokens: list[int], temperature: float) -> np.ndarray:
    """The next token's distribution, from the whole sequence in one pass (no cache reuse)."""
    keys, values = gpt_tensor.empty_cache(config)
    logits = gpt_tensor.gpt(params, config, np.array([tokens]), 0, keys, values)
    shifted = logits.data[0, -1] / temperature
    probs = np.exp(shifted - shifted.max())
    return probs / probs.sum()


def greedy(params, config, bos: int, prefix: list[int]) -> list[int]:
    tokens = list(prefix)
    while len(tokens) < config.block_size:
        token = int(np.argmax(next_token_probs(params, config, [bos, *tokens], 1.0)))
        if token == bos:
            break
        tokens.append(token)
    return tokens


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_without_options_it_draws_what_microgpt_draws(model, temperature):
    run, params = model
    scalar_params = gpt_scalar.from_state_dict(gpt_tensor.to_state_dict(params))
    ours, theirs = random.Random(11), random.Random(11)
    for _ in range(15):
        expected = gpt_scalar.generate(scalar_params, run.config, run.tokenizer.bos, theirs,
                                       temperature)
        assert gpt_tensor.generate(params, run.config, run.tokenizer.bos, ours,
                                   temperature) == expected
    assert ours.getstate() == theirs.getstate()  # the same number of draws


def test_top_k_of_the_whole_vocabulary_changes_nothing(model):
    run, params = model
    draws = [[gpt_tensor.generate(params, run.config, run.tokenizer.bos, rng, 1.0, top_k=k)
              for _ in range(10)] for k, rng in [(None, random.Random(4)),
                                                 (run.config.vocab_size, random.Random(4))]]
    assert draws[0] == draws[1]


@pytest.mark.parametrize("prefix", ["", "a", "el", "sophi"])
def test_top_k_1_is_greedy_and_continues_the_prefix(model, prefix):
    run, params = model
    ids = run.tokenizer.encode(prefix)
    expected = greedy(params, run.config, run.tokenizer.bos, ids)
    for seed in range(3):  # whatever the random stream
        sample = gpt_tensor.generate(params, run.config, run.tokenizer.bos, random.Random(seed),
                                   0.7, prefix=ids, top_k=1)
        assert sample == expected
    assert expected[:len(ids)] == ids and len(expected) > len(ids)


def test_top_k_draws_only_among_the_k_most_likely(model):
    run, params = model
    bos, prefix = run.tokenizer.bos, run.tokenizer.encode("a")
    probs = next_token_probs(params, run.config, [bos, *prefix], 3.0)

    def first_draws(top_k: int | None) -> set[int]:
        """The token drawn right after the prefix (BOS if the name ended there), 60 times."""
        rng = random.Random(0)
        samples = [gpt_tensor.generate(params, run.config, bos, rng, 3.0, prefix=prefix,
                                     top_k=top_k) for _ in range(60)]
        return {sample[1] if len(sample) > 1 else bos for sample in samples}

    assert len(first_draws(None)) > 3  # at this temperature, top-k really does cut
    drawn = first_draws(3)
    assert drawn <= set(np.argsort(-probs)[:3].tolist()) and len(drawn) > 1


def test_a_prefix_fills_at_most_block_size_minus_one(model):
    run, params = model
    bos, block = run.tokenizer.bos, run.config.block_size
    longest = run.tokenizer.encode("abcdefg")[: block - 1]
    sample = gpt_tensor.generate(params, run.config, bos, random.Random(1), 1.0, prefix=longest)
    assert sample[: block - 1] == longest and len(sample) <= block
    with pytest.raises(ValueError, match="at most 7"):
        gpt_tensor.generate(params, run.config, bos, random.Random(1), 1.0, prefix=[0] * block)
    with pytest.raises(ValueError, match="top_k must be at least 1"):
        gpt_tensor.generate(params, run.config, bos, random.Random(1), 1.0, top_k=0)


# ---- the command line ---------------------------------------------------------------------------


@pytest.fixture
def saved(model, tmp_path: Path) -> Path:
    run, params = model
    return checkpoint.save(tmp_path / "m.safetensors", checkpoint.Checkpoint(
        gpt_tensor.to_state_dict(params), run.config, run.tokenizer))


def sample_lines(capsys, *argv: str | Path) -> list[str]:
    status = cli.main(["sample", *map(str, argv)])
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    return out.splitlines()


def test_cli_prefix_is_part_of_every_name(capsys, saved):
    lines = sample_lines(capsys, "--load", saved, "--prefix", "el", "--samples", "10")
    names = [line.split(": ", 1)[1] for line in lines]
    assert len(names) == 10 and all(name.startswith("el") for name in names)
    assert len(set(names)) > 1


def test_cli_top_k_1_repeats_the_greedy_name(capsys, saved, model):
    run, params = model
    lines = sample_lines(capsys, "--load", saved, "--top-k", "1", "--samples", "3",
                         "--prefix", "a")
    expected = run.tokenizer.decode(greedy(params, run.config, run.tokenizer.bos,
                                           run.tokenizer.encode("a")))
    assert lines == [f"sample {i:2d}: {expected}" for i in (1, 2, 3)]


def test_cli_without_options_samples_as_before(capsys, saved, model):
    run, params = model
    lines = sample_lines(capsys, "--load", saved, "--samples", "6", "--seed", "5")
    rng = random.Random(5)
    expected = [run.tokenizer.decode(gpt_tensor.generate(params, run.config, run.tokenizer.bos,
                                                         rng, 0.5)) for _ in range(6)]
    assert lines == [f"sample {i:2d}: {name}" for i, name in enumerate(expected, 1)]
