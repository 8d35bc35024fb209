"""``torch.backends.cudnn``: NVIDIA's cuDNN, none here; PyTorch's switches, with its
defaults (settable, changing nothing)."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False
