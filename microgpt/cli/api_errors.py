"""The API's errors as the command line's, and its messages in the command line's words.

The commands check their options through ``microgpt.api``, whose messages then name each
setting as its option (``--batch-size``, not ``batch_size``); a ``SettingsError`` becomes a
usage error (exit status 2), a ``SamplingError`` a runtime one (1). A module of its own so
that ``microgpt --help``, which builds the parser, does not import the API.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..api import SamplingError, SettingsError
from ..storage.naming import as_options
from .errors import CommandError, UsageError


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
