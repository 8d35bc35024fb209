"""``microgpt convert``: a checkpoint of the old ``.npz`` format, as a safetensors one."""

from __future__ import annotations

import argparse

from ..storage import checkpoint
from ..storage.npz import read_npz
from .targets import check_not_read


def cmd_convert(args: argparse.Namespace) -> int:
    """Read ``args.old`` (checked as ``npz.read_npz`` says) and save it to ``args.new``."""
    target = checkpoint.check_can_save(args.new)
    check_not_read(target, args.old, "NEW", "the checkpoint converted")
    checkpoint.save(target, read_npz(args.old))
    print(f"converted {args.old} to {target}")
    return 0
