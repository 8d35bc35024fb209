"""``torch.version``: the version, and the GPU toolkits it was built with (none)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("microgpt-tensorgrad")
except PackageNotFoundError:  # a checkout on sys.path, never installed
    __version__ = "0+unknown"

cuda = None  # (no CUDA: code that asks ``torch.version.cuda is not None`` takes the CPU path)
hip = None
git_version = None
