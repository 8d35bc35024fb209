"""``torch.distributed`` for scripts that import it: tensorgrad runs in one process, so there
is no process group. ``is_available()`` says so; the calls that need a group raise PyTorch's
error for one that was never made, and making one raises."""

from __future__ import annotations

import enum
from typing import Any, NoReturn

_NO_GROUP = ("Default process group has not been initialized, please make sure to call "
             "init_process_group.")


class ReduceOp:
    """The reductions ``all_reduce`` names (``op=dist.ReduceOp.SUM``), as PyTorch numbers
    them: scripts name them at import or in defaults, though there is no group here."""

    class RedOpType(enum.IntEnum):
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7
        PREMUL_SUM = 8

    SUM, AVG, PRODUCT, MIN, MAX = (RedOpType.SUM, RedOpType.AVG, RedOpType.PRODUCT,
                                   RedOpType.MIN, RedOpType.MAX)
    BAND, BOR, BXOR, PREMUL_SUM = (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR,
                                   RedOpType.PREMUL_SUM)


def is_available() -> bool:
    """Whether distributed training is available: not here."""
    return False


def is_initialized() -> bool:
    return False


def init_process_group(*args: Any, **kwargs: Any) -> NoReturn:
    raise RuntimeError("tensorgrad runs in one process: there is no distributed training")


def _no_group(*args: Any, **kwargs: Any) -> NoReturn:
    raise ValueError(_NO_GROUP)


get_rank = get_world_size = barrier = all_reduce = broadcast = destroy_process_group = _no_group
