"""A restricted unpickler for annotation pickles: numpy arrays and plain Python data only.

Annotation pickles circulate between research groups; ``pickle.load`` on such a file can run
any code. :func:`safe_load` admits only the few globals needed to rebuild arrays, dtypes and
scalars: numpy's ``ndarray``, ``dtype``, ``_reconstruct``, ``scalar`` and (protocol 5)
``_frombuffer``, under both numpy 1 (``numpy.core``) and numpy 2 (``numpy._core``) module
names, and ``_codecs.encode`` / ``bytes``, which protocol-2 pickles use for bytes. Any other
global is refused with :class:`~attnviz.errors.InputError` before it is imported. Python 2
pickles (``encoding="latin1"``) load too.
"""

from __future__ import annotations

import io
import os
import pickle

from attnviz.errors import InputError
from attnviz.io.textfiles import read_bytes

__all__ = ["safe_load", "safe_loads"]

_ALLOWED = {
    ("numpy", "ndarray"): "ndarray",
    ("numpy", "dtype"): "dtype",
    ("numpy.core.multiarray", "_reconstruct"): "_reconstruct",
    ("numpy.core.multiarray", "scalar"): "scalar",
    ("numpy._core.multiarray", "_reconstruct"): "_reconstruct",
    ("numpy._core.multiarray", "scalar"): "scalar",
    ("numpy.core.numeric", "_frombuffer"): "_frombuffer",
    ("numpy._core.numeric", "_frombuffer"): "_frombuffer",
    ("_codecs", "encode"): "encode",  # bytes in protocol 2/3 pickles written by Python 3
    ("__builtin__", "bytes"): "bytes",  # empty bytes in protocol 2 pickles
    ("builtins", "bytes"): "bytes",
}


def _numpy_global(name: str):
    import numpy as np

    if name == "encode":
        import _codecs

        return _codecs.encode
    if name == "bytes":
        return bytes
    if name == "ndarray":
        return np.ndarray
    if name == "dtype":
        return np.dtype
    try:  # numpy >= 2
        from numpy._core import multiarray, numeric
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray, numeric
    return getattr(numeric if name == "_frombuffer" else multiarray, name)


class _Restricted(pickle.Unpickler):
    source = "<bytes>"

    def find_class(self, module: str, name: str):
        key = _ALLOWED.get((module, name))
        if key is not None:
            return _numpy_global(key)
        raise InputError(
            f"{self.source}: refusing to unpickle {module}.{name} (annotation pickles may hold "
            "numpy arrays and plain Python data only)"
        )


def safe_loads(data: bytes, source: str = "<bytes>"):
    """Unpickle ``data`` admitting numpy arrays and plain data only (Python 2 pickles too).

    Raises:
        InputError: a global other than numpy's array machinery, or a damaged pickle; the
            message names ``source``.
    """
    up = _Restricted(io.BytesIO(data), encoding="latin1")
    up.source = source
    try:
        return up.load()
    except InputError:
        raise
    except Exception as exc:  # any damage: EOFError, UnpicklingError, ValueError, ...
        raise InputError(
            f"{source}: not a readable pickle ({exc.__class__.__name__}: {exc})"
        ) from None


def safe_load(path: str | os.PathLike[str]):
    """:func:`safe_loads` of a file (gzip read transparently)."""
    return safe_loads(read_bytes(path), str(path))
