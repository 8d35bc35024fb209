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

What serves the model, each in a subpackage of its own:

* ``storage``: the user's files and the bounds on them: datasets (local or downloaded),
  checkpoints (and the old ``.npz`` format), atomic writes, the size limits.
* ``tools``: the side-by-side instruments: ``compare --by-op``'s accounting, attention
  maps, the loss curve.
* ``cli``: the ``microgpt`` command line (also ``python -m microgpt``).
"""

import importlib.metadata

try:
    __version__ = importlib.metadata.version("microgpt-tensorgrad")
except importlib.metadata.PackageNotFoundError:  # a checkout on sys.path, never installed
    __version__ = "0+unknown"
