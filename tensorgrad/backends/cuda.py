"""``torch.backends.cuda``: CUDA's matrix products, none here; PyTorch's switch, with its
default (settable, changing nothing)."""


class matmul:  # noqa: N801 (PyTorch's name)
    allow_tf32 = False


def is_built() -> bool:
    return False
