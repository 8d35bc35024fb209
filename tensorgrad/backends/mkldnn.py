"""``torch.backends.mkldnn``: Intel's oneDNN kernels, none here (NumPy's BLAS does the
products); the switch can be set, as PyTorch's, and changes nothing."""

enabled = False


def is_available() -> bool:
    return False
