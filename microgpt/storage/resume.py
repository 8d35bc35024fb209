"""What a run needs besides its weights to continue exactly where it stopped.

``microgpt train --save`` stores a ``TrainingState`` in the checkpoint (``checkpoint.py``
says how) and ``--resume`` continues from it: the same settings, Adam's moments, the step
reached, the losses so far, the random stream that samples after training, and a digest
of the documents, which a resumed run must train on again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..train import Hyperparameters, OptimizerState

RngState = tuple  # random.Random.getstate(): (version, tuple of 625 ints, gauss_next)


@dataclass
class TrainingState:
    """Everything besides the weights that decides how a run continues."""

    hp: Hyperparameters
    step: int
    seed: int
    val_fraction: float
    optimizer: OptimizerState
    rng_state: RngState
    data_sha256: str
    num_docs: int
    losses: list[float]
    val_history: list[tuple[int, float]]  # (step, validation loss after it)


def dataset_digest(docs: Sequence[str]) -> str:
    """sha256 of the documents in file order: a resumed run must see the same list."""
    import hashlib  # here: a run that neither saves nor resumes need not load it (start-up)

    # Each document and a newline (documents are lines: none holds one); one join, not a
    # string per document (a tenth of the time on the names)
    digest = hashlib.sha256("\n".join(docs).encode("utf-8"))
    if docs:
        digest.update(b"\n")
    return digest.hexdigest()
