"""Setting a run up from the command line: the model options, the dataset, the model.

Everything that can be checked is checked before the slow parts: the model options
before the dataset is read (``check_model_options``), and the model's size for the
dataset's vocabulary before its weights are drawn (``plan``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data import Tokenizer
from ..model import GPTConfig
from ..storage.datasets import find_dataset, load_docs
from ..storage.limits import check_size
from ..validation import num_validation_docs
from .errors import UsageError

# The GPTConfig fields that are command-line options (vocab_size comes from the data).
MODEL_OPTIONS = {
    "n_embd": "embedding width",
    "n_head": "attention heads",
    "n_layer": "transformer layers",
    "block_size": "context length (longer documents are cut)",
}


def option(name: str) -> str:
    """The command-line spelling of a setting: ``n_embd`` is ``--n-embd``."""
    return "--" + name.replace("_", "-")


def check_model_options(options: dict[str, int], batch_size: int = 1) -> None:
    """Refuse, before any data is read, options that no dataset makes a valid model of.

    Checked with the smallest vocabulary a dataset has (one character and BOS): a larger
    one only makes the model larger.
    """
    model_config(2, options, batch_size)


def read_dataset(args: argparse.Namespace) -> tuple[Path, list[str]]:
    """The dataset's file and its documents, from ``--data`` and ``--data-sha256``."""
    path = find_dataset(args.data, args.data_sha256)
    return path, load_docs(path, args.data_sha256)


def plan(docs: list[str], options: dict[str, int], batch_size: int = 1,
         val_fraction: float = 0.0) -> tuple[Tokenizer, GPTConfig]:
    """The tokenizer and model config for ``docs``, checked against the bounds and the data."""
    held_out = num_validation_docs(val_fraction, len(docs))
    if held_out >= len(docs):
        raise UsageError(f"--val-fraction {val_fraction} holds out all {len(docs)} documents; "
                         "leave at least one to train on")
    if batch_size > len(docs) - held_out:
        raise UsageError(f"--batch-size {batch_size} is more than the {len(docs) - held_out} "
                         "documents there are to train on")
    tokenizer = Tokenizer.from_docs(docs)
    return tokenizer, model_config(tokenizer.vocab_size, options, batch_size)


def model_config(vocab_size: int, options: dict[str, int], batch_size: int = 1) -> GPTConfig:
    """The config of a model of these options for a vocabulary, if within the bounds."""
    try:
        config = GPTConfig(vocab_size=vocab_size, **options)
        check_size(config, batch_size)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return config
