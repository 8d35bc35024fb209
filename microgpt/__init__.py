"""microgpt: Karpathy's microgpt GPT on two engines, the scalar `Value` and the `Tensor`.

Read it in microgpt.py's order; these modules are the model, and they import nothing from
the subpackages below them:

1. ``data``: the documents (one per line of a text file) and the character tokenizer.
2. ``model``: the configuration and the initial weights, drawn from one ``random.Random``.
3. ``gpt_scalar`` and ``gpt_tensor``: the GPT on each engine, function for function
   (``linear``, ``softmax``, ``rmsnorm``, ``attention``, ``gpt``, ``document_loss``,
   ``training_step``, ``generate``); read them side by side.
4. ``train``: the training loop and sampling, the same for both engines, with what training
   itself uses: ``schedule`` (the learning rate) and ``validation`` (a held-out split).

Above them, ``api`` is microgpt from Python (its main names are this package's own:
``microgpt.load_dataset``, ``TrainSettings``, ``Run``, ``load``, ``resume``, ...; see
docs/scripting.md), and what the command line runs.

What serves the model, each in a subpackage of its own:

* ``storage``: the user's files and the bounds on them: datasets (local or downloaded),
  checkpoints (and the old ``.npz`` format), atomic writes, the size limits.
* ``tools``: the side-by-side instruments: ``compare --by-op``'s accounting, attention
  maps, the loss curve.
* ``cli``: the ``microgpt`` command line (also ``python -m microgpt``), a layer over ``api``.
"""

from __future__ import annotations

# typing.TYPE_CHECKING, without importing typing (or importlib): until the command line has
# loaded (microgpt/__main__.py), Ctrl-C in an import ends it with a traceback.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .api import (
        CheckpointError,
        DataError,
        Dataset,
        Model,
        Run,
        SamplingError,
        SettingsError,
        StepRecord,
        TrainingDiverged,
        TrainSettings,
        load,
        load_dataset,
        resume,
    )

__all__ = ["CheckpointError", "DataError", "Dataset", "Model", "Run", "SamplingError",
           "SettingsError", "StepRecord", "TrainSettings", "TrainingDiverged", "__version__",
           "load", "load_dataset", "resume"]
_API = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> object:
    # PEP 562: the API (and NumPy with it) is imported when first used, not by `import
    # microgpt`, so that `microgpt --help` and `--version` start quickly.
    if name in _API:
        from . import api

        return getattr(api, name)
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("microgpt-tensorgrad")
        except PackageNotFoundError:  # run from a checkout that was never installed
            return "0+unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

