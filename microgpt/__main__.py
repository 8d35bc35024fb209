"""``python -m microgpt``: the same command line as the ``microgpt`` script."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
