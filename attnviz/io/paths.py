"""One rule for a path given where a file is expected: a file is used as it is; a folder is
used through its one obvious file; anything else gets one line saying what was found and what
is expected.

=================  =========================================================================
expected           a folder stands for
=================  =========================================================================
checkpoint         ``best.pt``, else ``last.pt``, else its only ``*.pt`` (a ``train`` run folder)
maps file          ``maps.npz``, else its only ``*.npz`` (a ``spatial-map`` / ``temporal-map``
                   output folder)
spatial GT         ``pyannot.pkl``, ``pyannot.json``, ``finalAnnots.mat``, ``gt_tubes.json``
                   (first found), else its only ``*.pkl`` / ``*.mat`` / ``*.zip``
video list (CSV)   ``<subset>.csv`` (a folder written by ``attnviz synth``)
=================  =========================================================================
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from attnviz.errors import AttnvizError

__all__ = ["pick_file"]


def pick_file(
    path: str | os.PathLike[str],
    *,
    what: str,
    names: Sequence[str] = (),
    patterns: Sequence[str] = (),
) -> Path:
    """The file ``path`` names, or the one obvious file of the folder ``path``.

    Args:
        path: a file or a folder.
        what: what is expected, for the messages (``"checkpoint"``, ``"maps file"``).
        names: file names a folder may hold, first found wins.
        patterns: else glob patterns; exactly one match in all is taken.

    Raises:
        AttnvizError: missing path, or a folder without one obvious file (the message says what
            the folder holds and what is expected).
    """
    p = Path(path)
    if p.is_file():
        return p
    wanted = " or ".join([*names, *patterns]) or "a file"
    if not p.exists():
        raise AttnvizError(f"{p}: {what} not found (a file, or a folder holding {wanted})")
    if not p.is_dir():
        raise AttnvizError(f"{p}: not a file or a folder (expected the {what})")
    for name in names:
        if (p / name).is_file():
            return p / name
    found = sorted({q for pat in patterns for q in p.glob(pat) if q.is_file()})
    if len(found) == 1:
        return found[0]
    held = sorted(q.name for q in p.iterdir() if not q.name.startswith("."))
    shown = ", ".join(held[:5]) + (", ..." if len(held) > 5 else "") if held else "nothing"
    why = f"{len(found)} candidates" if len(found) > 1 else "none of them"
    raise AttnvizError(
        f"{p}: is a folder without one obvious {what}; expected a file, or a folder holding "
        f"{wanted} ({why}; it holds {shown})"
    )
