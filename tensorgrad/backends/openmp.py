"""``torch.backends.openmp``: whether PyTorch was built with OpenMP. tensorgrad's threads
are its own (``tensorgrad.threads``), so: no."""


def is_available() -> bool:
    return False
