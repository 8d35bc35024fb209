"""``torch.multiprocessing``: Python's ``multiprocessing``, as PyTorch's wraps it, for code
that starts worker processes (Hogwild training: ``model.share_memory()``, then a process per
worker, each stepping the shared parameters)::

    import tensorgrad.multiprocessing as mp

    mp.set_start_method("fork", force=True)
    workers = [mp.Process(target=train, args=(model,)) for _ in range(2)]

Tensors are NumPy arrays: a tensor reaches another process by ``fork`` (after
``share_memory_()``, writes show in both) or as a pickled copy.
"""

from multiprocessing import *  # noqa: F403 (the whole of Python's module, as PyTorch's)
from multiprocessing import get_all_start_methods, get_start_method, set_start_method  # noqa: F401
