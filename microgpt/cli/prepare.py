"""The model options, as every command that builds a model spells them."""

from __future__ import annotations

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
