"""A restricted unpickler for annotation pickles: numpy arrays and plain Python data only.

Annotation pickles circulate between research groups; ``pickle.load`` on such a file can run
any code. :func:`safe_load` admits only the few numpy globals needed to rebuild arrays and
scalars (``ndarray``, ``dtype``, ``_reconstruct``, ``scalar``); any other global is refused with
:class:`~attnviz.errors.InputError` before it is imported.
"""

from __future__ import annotations

import io
import os
import pickle

from attnviz.errors import InputError
from attnviz.io.textfiles import read_bytes

__all__ = ["safe_load", "safe_loads"]

_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
}


class _Restricted(pickle.Unpickler):
    source = "<bytes>"

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            import numpy as np

            if name == "ndarray":
                return np.ndarray
            if name == "dtype":
                return np.dtype
            mod = np.core.multiarray if hasattr(np, "core") else np._core.multiarray
            return getattr(mod, name)
        raise InputError(
            f"{self.source}: refusing to unpickle {module}.{name} (annotation pickles may hold "
            "numpy arrays and plain Python data only)"
        )


def safe_loads(data: bytes, source: str = "<bytes>"):
    """Unpickle ``data`` admitting numpy arrays and plain data only (Python 2 pickles too)."""
    up = _Restricted(io.BytesIO(data), encoding="latin1")
    up.source = source
    try:
        return up.load()
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            f"{source}: not a readable pickle ({exc.__class__.__name__}: {exc})"
        ) from None


def safe_load(path: str | os.PathLike[str]):
    """:func:`safe_loads` of a file (gzip read transparently)."""
    return safe_loads(read_bytes(path), str(path))
