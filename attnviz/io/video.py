"""Streamed video decoding with OpenCV.

Memory stays bounded whatever the video's length: frames are read one after the other with
``grab()`` and only the wanted ones are converted to images with ``retrieve()``. The frame count
in the header is never trusted: what counts is what decodes (real files claim 444 frames and
decode 68).

Seeking is used in one place, :func:`sample_uniform`, and only where it decodes fewer frames
(an hour-long video: 25 seeks instead of 90,000 decoded frames) and is known to give the frames
of a sequential pass. One pass over the packets without decoding (OpenCV's raw mode) gives
their timestamps and keyframe flags; the stream must hold exactly the header's count of packets
at ``k / fps`` (OpenCV seeks by frame number through those timestamps). A sample is sought only
when the seek starts from a keyframe at least :data:`SEEK_GAP` frames past the frame a forward
grab would decode next (a seek decodes from the keyframe before its target). The samples are
also cut into up to :data:`DECODE_THREADS` runs of consecutive samples, each decoded by its own
capture in its own thread from a seek, where that makes the busiest capture decode fewer
frames (opencv-doc's vtest.avi, one keyframe every 250 frames: 25 samples never seek on one
capture, which decodes 795 frames; on two, the first decodes frames 0-492 while the second
seeks to frame 524 and decodes from the keyframe at 500 to the end, 295 frames). Every seek
must land where it was asked (``CAP_PROP_POS_FRAMES``), and the header's count is confirmed at
the end: its last frame decodes and nothing follows it. Anything else (no count in the header,
a truncated file, variable frame rate, a container that cannot seek or lands elsewhere) falls
back to the sequential pass. When fewer frames decode than the header claims, a
:class:`TruncatedVideoWarning` says where decoding stopped and the frames that decoded are kept;
a file where nothing decodes is an error.

Frame indices here are 0-based; the rest of attnviz numbers frames from 1 (``index + 1``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from attnviz.errors import AttnvizError
from attnviz.types import VideoInfo

__all__ = [
    "SEEK_GAP",
    "SEEK_MIN_FRAMES",
    "VIDEO_SUFFIXES",
    "TruncatedVideoWarning",
    "find_video",
    "iter_frames",
    "iter_sampled",
    "probe",
    "read_frames",
    "sample_uniform",
    "stream_fps",
    "uniform_indices",
    "video_files",
    "window_indices",
    "window_starts",
]

#: The file endings attnviz takes for videos (compared in lower case), in the order
#: :func:`find_video` tries them.
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".mpeg", ".mpg", ".m4v")

#: :func:`sample_uniform` seeks to a sample only when that skips at least this many frames of
#: decoding (the seek starts from a keyframe this far past the frame a forward grab would
#: decode next).
SEEK_GAP = 16

#: Shorter videos are always read through (one open, no packet pass).
SEEK_MIN_FRAMES = 128

#: ``progress(n)`` is called with the number of frames grabbed since its last call.
Progress = Callable[[int], None]


def find_video(
    name: str, folder: str | os.PathLike[str], *, subfolders: Sequence[str] = ("", "videos")
) -> Path | None:
    """The video file ``<name><suffix>`` (a suffix of :data:`VIDEO_SUFFIXES`, in lower or upper
    case) in ``folder`` or one of its ``subfolders`` (default: itself, then ``videos/``, the
    layout of ``attnviz synth``), or ``None``."""
    root = Path(folder)
    for sub in subfolders:
        base = root / sub if sub else root
        for ext in VIDEO_SUFFIXES:
            for cand in (base / f"{name}{ext}", base / f"{name}{ext.upper()}"):
                if cand.is_file():
                    return cand
    return None


def video_files(folder: str | os.PathLike[str], *, recursive: bool = False) -> list[Path]:
    """The files of ``folder`` (and of its subfolders when ``recursive``) whose ending is one of
    :data:`VIDEO_SUFFIXES`, sorted by path."""
    root = Path(folder)
    found = root.rglob("*") if recursive else root.iterdir()
    return sorted(p for p in found if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)


class TruncatedVideoWarning(UserWarning):
    """Decoding stopped before the end the header announced (a truncated or corrupt file)."""


def _open(path: str | os.PathLike[str]):
    import cv2

    p = Path(path)
    if not p.exists():
        raise AttnvizError(f"{p}: video not found")
    if p.is_dir():
        raise AttnvizError(f"{p}: is a folder, expected a video file")
    if p.stat().st_size == 0:
        raise AttnvizError(f"{p}: empty file, not a video")
    cap = cv2.VideoCapture(str(p))
    if not cap.isOpened():
        cap.release()
        raise AttnvizError(f"{p}: not a video OpenCV can open (unknown or corrupt format)")
    return cap


def _fps(cap) -> float:
    import cv2

    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    return fps if np.isfinite(fps) and 0 < fps <= 1000 else 25.0


def _header_frames(cap) -> int:
    import cv2

    n = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    return int(n) if n is not None and np.isfinite(n) and n > 0 else -1


def _warn_short(path, decoded: int, header: int, stacklevel: int = 3) -> None:
    if header > decoded:
        warnings.warn(
            f"{path}: decoding stopped after frame {decoded} but the header claims {header} "
            f"frames (truncated or corrupt file?); using the {decoded} frames that decoded",
            TruncatedVideoWarning,
            stacklevel=stacklevel,
        )


def _no_frame(path) -> AttnvizError:
    return AttnvizError(f"{path}: no frame could be decoded (empty, truncated or corrupt video)")


def _round(x: float) -> int:
    """Round halves up (``round`` would round 2.5 to 2)."""
    return int(np.floor(x + 0.5))


def _rgb(bgr: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class _Pass:
    """One sequential pass: ``grab()`` every frame, ``retrieve()`` those ``want(pos)`` asks for.

    After the pass, ``count`` is the number of frames grabbed, ``failed`` the 0-based indices
    whose ``retrieve()`` failed (they are skipped), ``fps`` and ``header`` the container's.
    """

    def __init__(self, path, progress: Progress | None = None, cap=None) -> None:
        self.path = path
        self.progress = progress
        self.cap = cap  # an open capture at its first frame, used (and released) by run()
        self.count = 0
        self.failed: list[int] = []
        self.fps = 25.0
        self.header = -1

    def run(self, want: Callable[[int], bool], stop: Callable[[int], bool] | None = None):
        """Yield ``(index, rgb)``; ``stop(pos)`` ends the pass early (before grabbing ``pos``)."""
        cap, self.cap = (self.cap or _open(self.path)), None
        pending = 0
        try:
            self.fps = _fps(cap)
            self.header = _header_frames(cap)
            pos = 0
            while stop is None or not stop(pos):
                if not cap.grab():
                    break
                pending += 1
                if self.progress is not None and pending >= 32:
                    self.progress(pending)
                    pending = 0
                if want(pos):
                    ok, bgr = cap.retrieve()
                    if ok and bgr is not None and bgr.size:
                        yield pos, _rgb(bgr)
                    else:
                        self.failed.append(pos)
                pos += 1
            self.count = pos
        finally:
            cap.release()
            if self.progress is not None and pending:
                self.progress(pending)

    def warn_failed(self, stacklevel: int = 4) -> None:
        if self.failed:
            shown = ", ".join(str(i + 1) for i in self.failed[:5])
            more = f" and {len(self.failed) - 5} more" if len(self.failed) > 5 else ""
            warnings.warn(
                f"{self.path}: frame {shown}{more} failed to decode; skipped",
                TruncatedVideoWarning,
                stacklevel=stacklevel,
            )


def probe(path: str | os.PathLike[str], *, progress: Progress | None = None) -> VideoInfo:
    """Open the video and count the frames that really decode (one ``grab()`` pass; one frame
    is converted to learn the size).

    Raises:
        AttnvizError: missing file, not a video, or no decodable frame.
    """
    size: list[tuple[int, int]] = []
    scan = _Pass(path, progress)
    for _, f in scan.run(lambda pos: not size):
        size.append(f.shape[:2])
    if scan.count == 0 or not size:
        raise _no_frame(path)
    _warn_short(path, scan.count, scan.header)
    return VideoInfo(str(path), scan.fps, scan.count, size[0][1], size[0][0], scan.header)


def iter_frames(
    path: str | os.PathLike[str],
    indices: Sequence[int] | None = None,
    *,
    progress: Progress | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, frame)`` for the wanted 0-based ``indices`` (ascending; repeats are
    yielded once each time they appear), or for every frame, in one sequential pass. Frames are
    ``ndarray[H, W, 3] uint8`` RGB.

    A file that stops decoding before the last wanted frame gives a
    :class:`TruncatedVideoWarning` naming the frame; what decoded is kept.
    """
    if indices is None:
        scan = _Pass(path, progress)
        yield from scan.run(lambda pos: True)
        if scan.count == 0:
            raise _no_frame(path)
        scan.warn_failed()
        _warn_short(path, scan.count, scan.header)
        return
    wanted = np.asarray(indices, dtype=np.int64).reshape(-1)
    if len(wanted) and (np.diff(wanted) < 0).any():
        raise ValueError("indices must be ascending")
    if len(wanted) and wanted[0] < 0:
        raise ValueError("indices must be >= 0")
    if not len(wanted):
        return
    need = set(wanted.tolist())
    last = int(wanted[-1])
    reps = {int(i): int(c) for i, c in zip(*np.unique(wanted, return_counts=True), strict=True)}
    scan = _Pass(path, progress)
    for pos, f in scan.run(lambda pos: pos in need, stop=lambda pos: pos > last):
        for _ in range(reps[pos]):
            yield pos, f
    if scan.count <= last:
        if scan.count == 0:
            raise _no_frame(path)
        warnings.warn(
            f"{path}: decoding stopped after frame {scan.count} (wanted up to frame {last + 1}); "
            "keeping the frames that decoded",
            TruncatedVideoWarning,
            stacklevel=2,
        )
    scan.warn_failed(stacklevel=3)


def read_frames(path: str | os.PathLike[str], indices: Sequence[int]) -> np.ndarray:
    """``ndarray[n, H, W, 3] uint8`` RGB of the wanted frames (fewer if the file is truncated)."""
    frames = [f for _, f in iter_frames(path, indices)]
    if not frames:
        raise AttnvizError(f"{path}: none of the wanted frames could be decoded")
    return np.stack(frames)


def uniform_indices(num_frames: int, n: int) -> np.ndarray:
    """``n`` 0-based indices spread uniformly over ``num_frames``: the centre frame of each of
    ``n`` equal segments, ``floor((k + 0.5) * num_frames / n)`` (repeats when the video has
    fewer than ``n`` frames).

    Returns:
        ndarray[n] int64, ascending.
    """
    if num_frames < 1 or n < 1:
        raise ValueError(f"need num_frames >= 1 and n >= 1, got {num_frames}, {n}")
    idx = np.floor((np.arange(n) + 0.5) * num_frames / n).astype(np.int64)
    return np.clip(idx, 0, num_frames - 1)


def sample_uniform(
    path: str | os.PathLike[str], n: int, *, progress: Progress | None = None
) -> tuple[VideoInfo, list[tuple[int, np.ndarray]]]:
    """The ``n`` frames of :func:`uniform_indices` over the frames that really decode.

    A long video whose container seeks exactly is sampled by seeking (see the module's notes:
    the same frames, checked). Otherwise one sequential pass when the header's frame count is
    right: the frames that the header's count designates are kept while every frame is
    grabbed and counted; if the count that decoded differs (or the header has none), a second
    pass takes the right frames. Holds at most ``n`` decoded frames.

    Returns:
        ``(info, [(index, rgb), ...])`` with ``info.num_frames`` the decoded count.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    cap = _open(path)
    if _header_frames(cap) >= SEEK_MIN_FRAMES:
        try:
            sought = _seek_uniform(path, n, cap, progress)
        finally:
            cap.release()
        if sought is not None:
            return sought
        cap = None
    first = _Pass(path, progress, cap)
    guess: set[int] = set()
    size: list[tuple[int, int]] = []

    def want_first(pos: int) -> bool:
        if pos == 0 and first.header > 0:
            guess.update(uniform_indices(first.header, n).tolist())
        return pos in guess or not size

    got: dict[int, np.ndarray] = {}
    for pos, f in first.run(want_first):
        if not size:
            size.append(f.shape[:2])
        if pos in guess:
            got[pos] = f
    total = first.count
    if total == 0 or not size:
        raise _no_frame(path)
    idx = uniform_indices(total, n)
    if not set(idx.tolist()) <= set(got):
        keep = {i: got[i] for i in idx.tolist() if i in got}  # reuse what the first pass has
        got = keep
        second = _Pass(path, progress)
        need = set(idx.tolist()) - set(keep)
        last = int(idx[-1])
        for pos, f in second.run(lambda pos: pos in need, stop=lambda pos: pos > last):
            got[pos] = f
        first.failed = sorted(set(first.failed) | set(second.failed))
    first.warn_failed(stacklevel=3)
    _warn_short(path, total, first.header)
    frames = [(int(i), got[int(i)]) for i in idx if int(i) in got]
    if not frames:
        raise _no_frame(path)
    info = VideoInfo(str(path), first.fps, total, size[0][1], size[0][0], first.header)
    return info, frames


def _keyframes(path: str | os.PathLike[str], header: int, fps: float) -> np.ndarray | None:
    """The display indices of the keyframes of a constant-rate stream, from one pass over its
    packets without decoding (OpenCV's raw mode), or ``None`` where seeking by frame number is
    not known to be exact: no raw mode in this OpenCV, a packet count other than the header's,
    or timestamps that are not ``k / fps`` for ``k = 0 .. header-1`` (variable rate, gaps,
    an offset start): OpenCV seeks by turning frame numbers into such timestamps."""
    import cv2

    flag = getattr(cv2, "CAP_PROP_LRF_HAS_KEY_FRAME", None)
    if flag is None:
        return None
    try:
        cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_FORMAT, -1])
    except cv2.error:
        return None
    try:
        if not cap.isOpened():
            return None
        stamps, keys = [], []
        while len(stamps) <= header and cap.grab():
            stamps.append(cap.get(cv2.CAP_PROP_POS_MSEC))
            keys.append(bool(cap.get(flag)))
    except cv2.error:
        return None
    finally:
        cap.release()
    if len(stamps) != header:
        return None
    k = np.asarray(stamps, dtype=np.float64) * fps / 1000.0
    if not np.isfinite(k).all() or np.abs(np.sort(k) - np.arange(header)).max() > 1e-3:
        return None
    found = np.unique(np.rint(k[np.asarray(keys, dtype=bool)]).astype(np.int64))
    return found if len(found) and found[0] == 0 else None


#: How far before its target OpenCV's FFmpeg backend seeks (to the keyframe at or before
#: ``target - 16``), then decodes forward to the target.
_SEEK_BACK = 16

#: Captures :func:`sample_uniform` decodes a seekable video with at once, each from its own
#: keyframe (threads: OpenCV lets go of the GIL while it decodes).
DECODE_THREADS = max(1, min(2, os.cpu_count() or 1))


def _seek_plan(
    keys: np.ndarray, indices: list[int], header: int, *, start: int | None = 0, end: bool = True
) -> tuple[list[bool], int]:
    """For each sample (ascending), whether to seek to it rather than grab forward from the
    previous one: where the keyframe the seek starts from lies at least :data:`SEEK_GAP` frames
    past the next frame a forward grab would decode. With ``end``, a last entry is for the end
    check (the frame ``header - 1``). Also the number of frames the plan decodes. ``start``: the
    frame the capture's next grab gives (``None``: a fresh capture of a run that starts with a
    seek)."""
    entries = [*indices, header - 1] if end else list(indices)
    steps = list(_plan_steps(entries, _seek_starts(keys, entries), start))
    return [seek for seek, _ in steps], (steps[-1][1] if steps else 0)


def _seek_starts(keys: np.ndarray, entries: list[int]) -> list[int]:
    """The keyframe a seek to each entry decodes from."""
    at = np.maximum(np.asarray(entries, dtype=np.int64) - _SEEK_BACK, 0)
    return keys[np.searchsorted(keys, at, side="right") - 1].tolist()


def _plan_steps(
    entries: list[int], firsts: list[int], start: int | None
) -> Iterator[tuple[bool, int]]:
    """:func:`_seek_plan`'s greedy rule, entry by entry: ``(seek, frames decoded so far)``
    (``firsts``: :func:`_seek_starts` of the entries)."""
    pos, decoded = start, 0
    for i, first in zip(entries, firsts, strict=True):
        seek = pos is None or (i >= pos and first - pos >= SEEK_GAP)
        decoded += max(0, i + 1 - (first if seek else pos))
        pos = i + 1 if pos is None else max(pos, i + 1)
        yield seek, decoded


def _split_runs(
    keys: np.ndarray, indices: list[int], header: int, runs: int
) -> list[tuple[int, int, list[bool], int]]:
    """The samples cut into at most ``runs`` consecutive runs, each decoded by its own capture
    (the first from frame 0, the others from a seek; the last also checks the end), so that the
    run that decodes the most frames decodes the fewest (then the fewest runs):
    ``[(lo, hi, plan, decoded)]`` over ``indices[lo:hi]``."""
    m = len(indices)
    entries = [*indices, header - 1]
    firsts = _seek_starts(keys, entries)
    # cost[lo][hi]: frames the run over indices[lo:hi] decodes (with the end check if hi == m),
    # one greedy pass per lo (adding a sample does not change the plan before it)
    cost: list[dict[int, int]] = []
    for lo in range(m if runs > 1 else 1):
        row = {}
        steps = _plan_steps(entries[lo:], firsts[lo:], 0 if lo == 0 else None)
        for j, (_, decoded) in enumerate(steps, start=lo):
            if j < m - 1 or j == m:  # the run's last sample, or the end check after sample m-1
                row[j + 1 if j < m else m] = decoded
        cost.append(row)
    # best[hi]: (largest run cost, number of runs, cuts) covering indices[:hi]
    best = {hi: (cost[0][hi], 1, [0]) for hi in cost[0]}
    for _ in range(1, min(runs, m)):
        nxt = dict(best)
        for hi in range(2, m + 1):
            for lo in range(1, hi):
                if lo in best and hi in cost[lo]:
                    c, k, cuts = best[lo]
                    cand = (max(c, cost[lo][hi]), k + 1, [*cuts, lo])
                    if hi not in nxt or cand[:2] < nxt[hi][:2]:
                        nxt[hi] = cand
        best = nxt
    cuts = [*best[m][2], m]
    out = []
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        plan, decoded = _seek_plan(
            keys, indices[lo:hi], header, start=0 if lo == 0 else None, end=hi == m
        )
        out.append((lo, hi, plan, decoded))
    return out


def _decode_run(
    cap,
    indices: list[int],
    plan: list[bool],
    header: int,
    end: bool,
    report: Progress,
    covered: int,
) -> list[tuple[int, np.ndarray]] | None:
    """Decode one run of :func:`_split_runs` on ``cap``: the samples ``indices`` by ``plan``,
    each seek checked to land where asked, and with ``end`` the end check (the header's last
    frame decodes and nothing after it). ``None`` at the first thing that does not hold.
    ``report`` is given the frames passed (sought over or decoded) from frame ``covered`` on,
    where the run before this one stopped."""
    import cv2

    def at(pos: int) -> bool:
        return int(cap.get(cv2.CAP_PROP_POS_FRAMES)) == pos

    entries = [*indices, header - 1] if end else indices
    got: list[tuple[int, np.ndarray]] = []
    pos = covered  # the frame the next grab() gives (a run after the first starts by seeking)
    for k, (i, seek) in enumerate(zip(entries, plan, strict=True)):
        last = k == len(indices)
        if not last and got and got[-1][0] == i:
            got.append((i, got[-1][1]))
            continue
        before = pos
        if seek:
            if not cap.set(cv2.CAP_PROP_POS_FRAMES, i) or not at(i):
                return None
        else:
            for _ in range(i - pos):  # grab forward: no keyframe to skip to
                if not cap.grab():
                    return None
        if not cap.grab() or not at(i + 1):
            return None
        pos = i + 1
        report(pos - before)
        if last:  # the header's count holds: its last frame decodes, and nothing after it
            return got if not cap.grab() else None
        ok, bgr = cap.retrieve()
        if not ok or bgr is None or not bgr.size:
            return None
        got.append((i, _rgb(bgr)))
    return got


def _seek_uniform(
    path: str | os.PathLike[str], n: int, cap, progress: Progress | None = None
) -> tuple[VideoInfo, list[tuple[int, np.ndarray]]] | None:
    """:func:`sample_uniform` by seeking on ``cap`` (open, at its first frame; the caller
    releases it) and, where the keyframes allow it, on up to :data:`DECODE_THREADS` captures
    at once; or ``None`` where that is not known to give the frames of the sequential pass or
    would not decode fewer frames on the busiest capture (the caller then reads through)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import cv2

    lock = threading.Lock()

    def report(count: int) -> None:
        if progress is not None and count > 0:
            with lock:
                progress(count)

    caps = [cap]
    try:
        fps, header = _fps(cap), _header_frames(cap)
        indices = uniform_indices(header, n).tolist()
        keys = _keyframes(path, header, fps)
        if keys is None:
            return None
        runs = _split_runs(keys, indices, header, DECODE_THREADS)
        if max(r[3] for r in runs) > header * 3 // 4:  # not worth the opens and the checks
            return None
        caps += [_open(path) for _ in runs[1:]]
        jobs = [
            (c, indices[lo:hi], plan, header, hi == len(indices), report,
             indices[lo - 1] + 1 if lo else 0)
            for c, (lo, hi, plan, _) in zip(caps, runs, strict=True)
        ]  # fmt: skip
        if len(jobs) == 1:
            parts = [_decode_run(*jobs[0])]
        else:
            with ThreadPoolExecutor(len(jobs)) as pool:
                parts = list(pool.map(lambda job: _decode_run(*job), jobs))
        if any(p is None for p in parts):
            return None
        got = [x for p in parts for x in p]
        if not got:
            return None
        size = got[0][1].shape[:2]
        return VideoInfo(str(path), fps, header, size[1], size[0], header), got
    except (cv2.error, AttnvizError):
        return None
    finally:
        for c in caps[1:]:
            c.release()


def window_starts(num_samples: int, window: int, stride: int) -> np.ndarray:
    """Where the sliding windows over ``num_samples`` sampled frames start.

    Windows of ``window`` samples start every ``stride`` samples; when the last one ends
    before the last sample, one more window ends exactly at the last sample (so every window
    has ``window`` samples and every sample is covered). With ``num_samples <= window`` there
    is one window of all the samples.

    Returns:
        ndarray[W] int64, ascending 0-based positions into the samples.
    """
    if window < 1 or stride < 1:
        raise ValueError(f"window and stride must be >= 1, got {window}, {stride}")
    if num_samples < 1:
        return np.zeros(0, dtype=np.int64)
    if num_samples <= window:
        return np.zeros(1, dtype=np.int64)
    starts = list(range(0, num_samples - window + 1, stride))
    if starts[-1] + window < num_samples:
        starts.append(num_samples - window)
    return np.asarray(starts, dtype=np.int64)


def window_indices(
    num_frames: int, fps: float, *, sample_fps: float, window: int, stride: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The frames :func:`iter_sampled` yields for a video of ``num_frames`` frames, and the
    windows :func:`window_starts` cuts them into.

    Returns:
        ``(samples, windows)``: ``samples`` the 0-based source indices of the sampled frames
        (``k * fps / sample_fps`` rounded half up; every frame when ``sample_fps >= fps``),
        ``windows`` a list of ``ndarray[min(window, len(samples))]`` positions into ``samples``.
    """
    if sample_fps <= 0 or fps <= 0:
        raise ValueError(f"fps and sample_fps must be positive, got {fps}, {sample_fps}")
    step = max(fps / sample_fps, 1.0)
    samples = []
    k = 0
    while True:
        i = _round(k * step)
        if i >= num_frames:
            break
        samples.append(i)
        k += 1
    samples_arr = np.asarray(samples, dtype=np.int64)
    t = len(samples_arr)
    n = min(window, t)
    return samples_arr, [np.arange(s, s + n) for s in window_starts(t, window, stride)]


def stream_fps(path: str | os.PathLike[str]) -> float:
    """The container's frame rate (25.0 when the header has none or an absurd one)."""
    cap = _open(path)
    try:
        return _fps(cap)
    finally:
        cap.release()


def iter_sampled(
    path: str | os.PathLike[str],
    sample_fps: float,
    *,
    fps: float | None = None,
    progress: Progress | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, frame)`` for the frames ``k * fps / sample_fps`` (rounded half up),
    k = 0, 1, ...,
    in one sequential pass without knowing the frame count (frames in between are grabbed,
    not converted). A ``sample_fps`` at or above the video's rate yields every frame.
    ``fps`` overrides the container's frame rate.
    """
    if sample_fps <= 0:
        raise ValueError(f"sample_fps must be positive, got {sample_fps}")
    scan = _Pass(path, progress)
    state = {"k": 0, "target": 0, "step": None}

    def want(pos: int) -> bool:
        if state["step"] is None:
            state["step"] = max((scan.fps if fps is None else fps) / sample_fps, 1.0)
        if pos < state["target"]:
            return False
        while state["target"] <= pos:
            state["k"] += 1
            state["target"] = _round(state["k"] * state["step"])
        return True

    yield from scan.run(want)
    if scan.count == 0:
        raise _no_frame(path)
    scan.warn_failed()
    _warn_short(path, scan.count, scan.header)
