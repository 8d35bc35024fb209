"""What the commands share in setting a run up: the model options and the API's errors.

The commands check their options through the API (``microgpt.api``), whose messages then
name each setting as its option (``--batch-size``, not ``batch_size``); its errors become
the command line's: a ``SettingsError`` is a usage error, a ``SamplingError`` a runtime one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..api import SamplingError, SettingsError
from ..storage.naming import as_options
from .errors import CommandError, UsageError

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


@contextlib.contextmanager
def api_errors() -> Iterator[None]:
    """Within the block, the API speaks in options, and its errors are the command line's."""
    with as_options():
        try:
            yield
        except SettingsError as exc:
            raise UsageError(str(exc)) from exc
        except SamplingError as exc:
            raise CommandError(str(exc)) from exc
