"""``save`` and ``load``: PyTorch's ``torch.save``/``torch.load`` for checkpoints, with nothing
ever unpickled.

A save file is a safetensors file. Its arrays (every tensor and NumPy array in the saved
object) are stored under the keys "0", "1", ... in the order they are met; the object's shape
is one JSON string in the header's ``__metadata__`` (under "tree"), a tagged tree that keeps
what JSON alone loses:

- ``None``, ``True``/``False``, ints and strings as themselves;
- ``{"float": float.hex(x)}`` (exact, NaN and infinities too);
- ``{"list": [...]}``, ``{"tuple": [...]}``, ``{"dict": [[key, value], ...]}`` and
  ``{"odict": ...}`` for an ``OrderedDict`` (keys of any of the scalar kinds, or tuples);
- ``{"tensor": "3", "requires_grad": false}`` (``"parameter"`` for an ``nn.Parameter``),
  ``{"ndarray": "4"}`` and ``{"scalar": "5"}`` for a NumPy scalar (a 0-d array in the file).

Reading checks the header's size against a cap and against the data before reading on, and
every node of the tree before building anything, so a bad or hostile file is an error
naming the problem, never code run or memory taken beyond the file's own size.
"""

from __future__ import annotations

import errno
import os
from collections import OrderedDict
from typing import IO, Any

import numpy as np

from .devices import check_device, device
from .tensor import Tensor, as_leaf

__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "load", "safe_globals",
           "save"]

FORMAT = "tensorgrad"
VERSION = "1"
# safetensors' own cap on a header: a longer one is no file of ours, and is not read
MAX_HEADER_BYTES = 100_000_000
# the data is read in pieces of this size, so a header that claims more than the file
# holds takes no more memory than the file
_CHUNK_BYTES = 1 << 24
_PICKLE_NOTE = "PyTorch's pickled checkpoints are not read: nothing is unpickled"
_SCALARS = (str, int, float, type(None))  # bool is an int


# ---- save ---------------------------------------------------------------------------------------


def save(obj: Any, f: str | os.PathLike[str] | IO[bytes], pickle_module: Any = None,
         pickle_protocol: int = 2, _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Write ``obj`` (a tensor, an array, or dicts, lists and tuples of them and of numbers,
    strings, booleans and ``None``, as state dicts are) to ``f``, a path or a binary file.

    A path is written whole or not at all: the bytes go to a temporary file beside it, which
    then replaces it. A value of another kind raises ``TypeError`` naming where it is in
    ``obj``, before anything is written. A tensor or array held twice (tied weights) is
    stored twice, and loads as two. The pickling arguments are PyTorch's and are ignored:
    nothing is pickled. ::

        tensorgrad.save({"model": model.state_dict(), "epoch": 3}, "run.pt")
    """
    arrays: dict[str, np.ndarray] = {}
    try:
        tree = _encode(obj, "obj", arrays, set())
    except RecursionError:
        raise ValueError("obj is nested too deeply to save") from None
    import json  # here, as safetensors: a program that saves nothing does not import them

    import safetensors.numpy

    metadata = {"format": FORMAT, "version": VERSION,
                "tree": json.dumps(tree, separators=(",", ":"))}
    data = safetensors.numpy.save(arrays, metadata=metadata)
    if isinstance(f, (str, os.PathLike)):
        _write_atomically(os.fspath(f), data)
    elif callable(getattr(f, "write", None)):
        f.write(data)
    else:
        raise TypeError(f"save() writes to a path or a binary file object, not "
                        f"{type(f).__name__}")


def _encode(value: Any, where: str, arrays: dict[str, np.ndarray], open_ids: set[int]) -> Any:
    """``value`` as a JSON-ready tagged tree, its arrays appended to ``arrays``."""
    if value is None or isinstance(value, (bool, str)) or type(value) is int:
        return value
    if type(value) is float:
        return {"float": value.hex()}
    if isinstance(value, Tensor):
        tag = "tensor"
        if type(value) is not Tensor:
            from .nn.module import Parameter  # here: only a saved Parameter needs nn

            if type(value) is not Parameter:
                raise TypeError(f"{where} is a {type(value).__name__}, a Tensor subclass that "
                                "save() does not know")
            tag = "parameter"
        return {tag: _add_array(value._data, where, arrays),
                "requires_grad": value.requires_grad}
    if type(value) is np.ndarray:
        return {"ndarray": _add_array(value, where, arrays)}
    if isinstance(value, np.generic):
        return {"scalar": _add_array(np.asarray(value), where, arrays)}
    if type(value) in (list, tuple, dict, OrderedDict):
        if id(value) in open_ids:
            raise ValueError(f"{where} contains itself: save() writes trees, not cycles")
        open_ids.add(id(value))
        if isinstance(value, dict):
            items = [[_encode_key(key, where), _encode(item, f"{where}[{key!r}]", arrays,
                                                       open_ids)]
                     for key, item in value.items()]
            encoded: Any = {"odict" if type(value) is OrderedDict else "dict": items}
        else:
            encoded = {type(value).__name__: [_encode(item, f"{where}[{i}]", arrays, open_ids)
                                              for i, item in enumerate(value)]}
        open_ids.discard(id(value))
        return encoded
    raise TypeError(f"{where} is a {type(value).__name__}: save() stores tensors, NumPy arrays, "
                    "numbers, strings, booleans, None, and lists, tuples and dicts of them")


def _encode_key(key: Any, where: str) -> Any:
    if type(key) in (bool, *_SCALARS):
        return _encode(key, where, {}, set())
    if type(key) is tuple:
        return {"tuple": [_encode_key(item, where) for item in key]}
    raise TypeError(f"{where} has a key {key!r} of type {type(key).__name__}: save() stores "
                    "dict keys that are strings, numbers, booleans, None or tuples of them")


def _add_array(array: np.ndarray, where: str, arrays: dict[str, np.ndarray]) -> str:
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{where} holds {array.dtype} values: save() stores arrays of numbers "
                        "or booleans")
    key = str(len(arrays))
    # a C-ordered copy of any other layout: safetensors writes an array's memory as it lies
    # (it swaps big-endian bytes itself)
    arrays[key] = np.asarray(array, order="C")
    return key


def _write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to a new file beside ``path`` and rename it over ``path`` (over the file
    a symbolic link points to, as writing through it would, leaving the link a link)."""
    path = os.path.realpath(path)
    if os.path.isdir(path):  # (before a temporary file is made beside it)
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        raise RuntimeError(f"Parent directory {parent} does not exist.")
    temporary = os.path.join(parent, f".{os.path.basename(path)}.{os.urandom(6).hex()}.tmp")
    # O_EXCL: never write through a file or link that is already there
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


# ---- load ---------------------------------------------------------------------------------------

# PyTorch's allow-list of the classes and functions ``load`` may unpickle. Nothing is unpickled
# here, so it allows nothing more; scripts that fill it (pytorch/examples' word language model
# lists its model's classes) run, and read it back as PyTorch's.
_safe_globals: list[Any] = []


def add_safe_globals(safe_globals: list[Any]) -> None:
    """Add to the allow-list (kept, and changing nothing: see ``_safe_globals``)."""
    _safe_globals.extend(safe_globals)


def get_safe_globals() -> list[Any]:
    return list(_safe_globals)


def clear_safe_globals() -> None:
    _safe_globals.clear()


class safe_globals:  # noqa: N801 (PyTorch's name)
    """``with safe_globals([...]):`` the allow-list extended for the block, as PyTorch's."""

    def __init__(self, safe_globals: list[Any]) -> None:
        self.safe_globals = list(safe_globals)

    def __enter__(self) -> None:
        self.kept = get_safe_globals()
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc: Any) -> None:
        _safe_globals[:] = self.kept



def load(f: str | os.PathLike[str] | IO[bytes], map_location: Any = None,
         pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args: Any) -> Any:
    """Read back what ``save`` wrote to ``f`` (a path, or a binary file read from where it
    stands, and left just past the saved bytes).

    Tensors come back as new leaves with their saved dtype, shape, values (bit for bit) and
    ``requires_grad``. ``map_location`` may name the CPU (or map devices to it); a callable
    is accepted and not called, as every tensor is on the CPU already. ``weights_only``,
    ``mmap`` and the pickling arguments are PyTorch's and change nothing: nothing is
    unpickled. A file that is not a tensorgrad save file (a PyTorch ``.pt``, a truncated or
    damaged file) raises ``ValueError``. ::

        checkpoint = tensorgrad.load("run.pt", map_location="cpu")
        model.load_state_dict(checkpoint["model"])
    """
    unknown = sorted(set(pickle_load_args) - {"encoding", "errors", "fix_imports"})
    if unknown:
        raise TypeError(f"load() got an unexpected keyword argument {unknown[0]!r}")
    _check_map_location(map_location)
    if isinstance(f, (str, os.PathLike)):
        name = os.fspath(f)
        with open(name, "rb") as file:
            return _read(file, str(name))
    if not callable(getattr(f, "read", None)):
        raise TypeError(f"load() reads a path or a binary file object, not {type(f).__name__}")
    file_name = getattr(f, "name", None)
    return _read(f, file_name if isinstance(file_name, str) else f"the {type(f).__name__}")


def _check_map_location(map_location: Any) -> None:
    if isinstance(map_location, dict):
        for target in map_location.values():
            check_device(target)
    elif map_location is None or isinstance(map_location, (str, int, device)):
        check_device(map_location)
    elif not callable(map_location):
        raise TypeError(f"map_location is a device, a string, a dict or a callable, not "
                        f"{type(map_location).__name__}")


def _read(file: IO[bytes], name: str) -> Any:
    prefix = _read_exactly(file, 8, name)
    if len(prefix) < 8:
        raise _not_ours(name, prefix, "it is shorter than any save file")
    header_size = int.from_bytes(prefix, "little")
    if not 2 <= header_size <= MAX_HEADER_BYTES:
        raise _not_ours(name, prefix, "impossible header size")
    raw_header = _read_exactly(file, header_size, name)
    if len(raw_header) < header_size:
        raise _not_ours(name, prefix, "it ends inside its header")
    header = _json(raw_header, name, "its header")
    if not isinstance(header, dict):
        raise _bad(name, "its header is not a JSON object")
    metadata = header.get("__metadata__")
    if not (isinstance(metadata, dict) and metadata.get("format") == FORMAT):
        raise ValueError(f"{name} is a safetensors file but not a tensorgrad save file (its "
                         "metadata does not say so): safetensors.numpy.load_file reads its "
                         "arrays")
    if metadata.get("version") != VERSION:
        raise ValueError(f"{name} is a tensorgrad save file of format version "
                         f"{metadata.get('version')!r}; this tensorgrad reads version {VERSION}")
    data_size = 0
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2
                and all(type(n) is int and n >= 0 for n in offsets)):
            raise _bad(name, f"its header's entry {key!r} has no valid data offsets")
        data_size = max(data_size, *offsets)
    data = _read_exactly(file, data_size, name)
    if len(data) < data_size:
        raise _bad(name, f"it is truncated: {len(data)} of its {data_size} data bytes are there")
    tree_text = metadata.get("tree")
    if not isinstance(tree_text, str):
        raise _bad(name, "its metadata holds no tree")
    tree = _json(tree_text.encode("utf-8", "surrogatepass"), name, "its tree")

    import safetensors.numpy  # here: a program that loads nothing does not import it
    from safetensors import SafetensorError

    try:
        arrays = safetensors.numpy.load(prefix + raw_header + data)
    except (SafetensorError, ValueError, TypeError) as exc:
        raise _bad(name, f"safetensors cannot read it ({exc})") from None
    try:
        obj = _decode(tree, arrays, set())
    except _Malformed as exc:
        raise _bad(name, str(exc)) from None
    except RecursionError:
        raise _bad(name, "its tree is nested too deeply") from None
    if arrays:  # what _decode did not take
        raise _bad(name, f"it holds arrays its tree never names: {sorted(arrays)[:5]}")
    return obj


def _read_exactly(file: IO[bytes], size: int, name: str) -> bytes:
    """Up to ``size`` bytes (fewer at the end of the file), taken in pieces."""
    pieces = []
    while size > 0:
        piece = file.read(min(size, _CHUNK_BYTES))
        if not isinstance(piece, bytes):
            raise TypeError(f"{name} gave {type(piece).__name__}, not bytes: open it in binary "
                            "mode ('rb')")
        if not piece:
            break
        pieces.append(piece)
        size -= len(piece)
    return b"".join(pieces)


def _json(raw: bytes, name: str, what: str) -> Any:
    import json  # here, as safetensors: a program that loads nothing does not import it

    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # JSON's and UTF-8's errors are ValueErrors
        raise _bad(name, f"{what} is not valid JSON") from None


def _not_ours(name: str, prefix: bytes, problem: str) -> ValueError:
    if prefix.startswith(b"PK\x03\x04") or prefix[:1] == b"\x80":
        return ValueError(f"{name} is not a tensorgrad save file ({_PICKLE_NOTE})")
    return ValueError(f"{name} is not a tensorgrad save file ({problem})")


def _bad(name: str, problem: str) -> ValueError:
    return ValueError(f"{name} is a damaged tensorgrad save file: {problem}")


class _Malformed(Exception):
    """A node of the tree that ``save`` cannot have written."""


def _decode(node: Any, arrays: dict[str, np.ndarray], taken: set[str]) -> Any:
    if node is None or isinstance(node, (bool, int, str)):
        return node
    if not (isinstance(node, dict) and node):
        raise _Malformed(f"its tree holds {type(node).__name__} {str(node)[:40]}")
    tag = next(iter(node))
    body = node[tag]
    if tag == "float" and len(node) == 1 and isinstance(body, str):
        try:
            return float.fromhex(body)
        except (ValueError, OverflowError):
            raise _Malformed(f"its tree holds the float {body[:40]!r}") from None
    if tag in ("list", "tuple") and len(node) == 1 and isinstance(body, list):
        items = [_decode(item, arrays, taken) for item in body]
        return items if tag == "list" else tuple(items)
    if tag in ("dict", "odict") and len(node) == 1 and isinstance(body, list):
        out: dict = {} if tag == "dict" else OrderedDict()
        for pair in body:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise _Malformed("its tree holds a dict entry that is not a pair")
            key = _decode_key(pair[0])
            out[key] = _decode(pair[1], arrays, taken)
        return out
    if tag in ("tensor", "parameter") and node.keys() == {tag, "requires_grad"} \
            and isinstance(node["requires_grad"], bool):
        array = _take(body, arrays, taken)
        requires_grad = node["requires_grad"]
        if requires_grad and array.dtype.kind != "f":
            raise _Malformed(f"its tree has a {array.dtype} tensor that requires grad")
        if tag == "parameter":
            from .nn.module import Parameter  # here: only a saved Parameter needs nn

            return Parameter(array, requires_grad=requires_grad)
        return as_leaf(array, requires_grad)
    if tag == "ndarray" and len(node) == 1:
        return _take(body, arrays, taken)
    if tag == "scalar" and len(node) == 1:
        array = _take(body, arrays, taken)
        if array.ndim:
            raise _Malformed(f"its tree has a NumPy scalar of shape {array.shape}")
        return array[()]
    raise _Malformed(f"its tree has a node it cannot read ({tag[:40]!r})")


def _decode_key(node: Any) -> Any:
    key = _decode(node, {}, set())
    _check_key(key)
    return key


def _check_key(key: Any) -> None:
    if isinstance(key, tuple):
        for item in key:
            _check_key(item)
    elif not isinstance(key, _SCALARS):
        raise _Malformed(f"its tree has a dict key of type {type(key).__name__}")


def _take(key: Any, arrays: dict[str, np.ndarray], taken: set[str]) -> np.ndarray:
    """The array stored under ``key``, taken out of ``arrays`` (once only), writable."""
    if isinstance(key, str) and key in taken:
        raise _Malformed(f"its tree names the array {key!r} twice")
    if not isinstance(key, str) or key not in arrays:
        raise _Malformed(f"its tree names an array {str(key)[:40]!r} that is not there")
    taken.add(key)
    # a copy only where safetensors' array is read-only, unaligned or not C-ordered
    return np.require(arrays.pop(key), requirements=["C", "A", "W"])
