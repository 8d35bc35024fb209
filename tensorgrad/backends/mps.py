"""``torch.backends.mps``: Apple's GPUs, none here."""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
