"""``attnviz detect``: the model over every video of a test set, its maps turned into frame
detections, tubes and temporal detections, in the files the evaluators read.

The work, in steps that can be called alone:

1. :func:`list_videos`: the videos of ``DATA`` (any of four layouts, see :func:`list_videos`),
   each with its file or frame folder (``None`` when it is missing), and the class list the
   detections are labelled in.
2. :func:`run_detect`: this process's shard of the videos (``RANK`` / ``WORLD_SIZE`` of
   ``torchrun``: video ``i`` goes to rank ``i % WORLD_SIZE``). Frames are decoded ahead of the
   model in ``workers`` threads; each video's detections are written to one part file
   (``parts/<video>.json``, atomically) as soon as they are known. A rerun checks the parts
   that exist and skips them, so killing a run at any moment loses at most the videos in
   flight. ``settings.json`` holds the fingerprint of everything that changes the numbers
   (the model's weights, sampling, localization, class choice, precision, device type); a
   rerun with other ones is refused.
3. :func:`merge_parts`: once every rank is done (a ``gloo`` / ``nccl`` barrier), rank 0 reads
   the parts in list order and writes ``frame_dets.csv``, ``tubes.json``, ``run.txt``,
   ``segments.csv`` and ``summary.json``. Parts hold every number with the digits that read
   back to the same double, so the merged detection files are byte-identical whatever the
   number of ranks, workers or resumes.

Which classes get detections (``classes``):

* ``top1`` (default, the paper): the video's top-scoring class only;
* ``topK`` (``top5``, ...): the K top-scoring classes, each localized with its own probability
  (the maps are the same, the scores differ);
* ``all``: every class, as the evaluators' authors expect (AP per class then sees every video's
  score for that class).

Detections are labelled in the dataset's class list when it has one (``classes.txt``, the
ground truth's labels), matched to the model's classes by name; detections of a model class
the dataset does not have are dropped (counted in ``summary.json``).

Memory per video is bounded: uniform sampling holds ``frames`` frames; ``fps`` sampling streams
the video in windows (:func:`attnviz.pipeline.explain.explain_video`), and the decode threads
hand frames over through bounded queues.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import queue
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attnviz.errors import AttnvizError, InputError
from attnviz.io.video import VIDEO_SUFFIXES, find_video, video_files
from attnviz.localize import LocalizeParams
from attnviz.types import AttentionOutput

__all__ = [
    "DetectData",
    "DetectSettings",
    "list_videos",
    "merge_parts",
    "run_detect",
]

#: Frame rate assumed for folders of JPEG frames (UCF101-24 is 25 fps).
FRAME_FOLDER_FPS = 25.0

#: How long a rank waits at the final barrier for the slowest rank.
BARRIER_TIMEOUT_S = 7 * 24 * 3600

_PART_VERSION = 1


# --------------------------------------------------------------------------- the video list
@dataclass(frozen=True)
class DetectData:
    """The videos to run over and how to label their detections.

    Attributes:
        keys (tuple[str, ...]): each video's name in the ground truth (``video`` column of the
            outputs), in list order.
        paths (tuple[Path | None, ...]): its file or frame folder; ``None`` if not found.
        class_names (tuple[str, ...] | None): the dataset's classes (output labels index it);
            ``None``: the model's.
        class_ids (tuple[int, ...] | None): run-file id of each class (``None``: THUMOS14's ids
            when every class is a THUMOS14 detection class, else 1..K).
        layout (str): ``synth``, ``ucf24``, ``thumos14`` or ``csv``.
        source (str): where the list came from.
    """

    keys: tuple[str, ...]
    paths: tuple[Path | None, ...]
    class_names: tuple[str, ...] | None
    class_ids: tuple[int, ...] | None
    layout: str
    source: str

    def __len__(self) -> int:
        return len(self.keys)


def _find(roots: Sequence[Path], key: str) -> Path | None:
    """``key``'s frame folder or video file under the first of ``roots`` that has it."""
    for root in roots:
        if (root / key).is_dir():
            return root / key
        found = find_video(key, root, subfolders=("",))
        if found is not None:
            return found
    return None


def _strip_ext(name: str) -> str:
    p = Path(name)
    return str(p.with_suffix("")) if p.suffix.lower() in VIDEO_SUFFIXES else name


def _read_plain_list(path: Path) -> list[str]:
    """Keys of a ``video[,label]`` CSV (header ``video[,label]`` optional; labels not used)."""
    import csv
    import io

    from attnviz.io.textfiles import read_text

    keys: list[str] = []
    seen: set[str] = set()
    for lineno, row in enumerate(csv.reader(io.StringIO(read_text(path))), 1):
        if not row or not row[0].strip():
            continue
        if lineno == 1 and row[0].strip().lower() == "video":
            continue
        key = _strip_ext(row[0].strip())
        if key in seen:
            raise InputError(f'{path}, line {lineno}, field "video": {row[0]!r} listed twice')
        seen.add(key)
        keys.append(key)
    if not keys:
        raise InputError(f"{path}: no video listed")
    return keys


def _check_in_gt(keys: Sequence[str], known, gt_source: str, list_source: str) -> None:
    for key in keys:
        if key not in known:
            raise InputError(
                f"{gt_source}: does not match the video list: {key!r} (listed in "
                f"{list_source}) is not in the ground truth"
            )


def _ids_from_class_file(path: Path) -> tuple[tuple[int, ...], tuple[str, ...]]:
    from attnviz.io.textfiles import read_text

    ids, names = [], []
    for raw in read_text(path).splitlines():
        parts = raw.split()
        if len(parts) == 2 and parts[0].isdigit():
            ids.append(int(parts[0]))
            names.append(parts[1])
    return tuple(ids), tuple(names)


def list_videos(
    data: str | os.PathLike[str],
    *,
    split: str = "test",
    gt: str | os.PathLike[str] | None = None,
    root: str | os.PathLike[str] | None = None,
    class_list: str | os.PathLike[str] | None = None,
) -> DetectData:
    """The videos of ``data``, one of:

    * a folder written by ``attnviz synth`` (``<split>.csv``, ``videos/``, ``classes.txt``,
      ``gt_tubes.json``): the videos of ``<split>.csv``; every one must be in
      ``gt_tubes.json``;
    ``gt`` may be a path or a name of :data:`attnviz.io.datasets.DATASETS` (``ucf101-24``,
    ``jhmdb21``, ``thumos14``, ``thumos14-val``), which brings its split and class list.

    * a UCF101-24 ground-truth file (``pyannot.pkl``, its JSON twin, ``finalAnnots.mat``) as
      ``gt`` (``data`` may then be the dataset folder, used as ``root`` if none is given):
      the ground truth's ``split`` videos, found under ``root`` as
      ``rgb-images/<class>/<video>/`` frame folders, ``<class>/<video>/`` or video files;
    * a folder of video files (THUMOS14's test videos): every video in it (sorted by name);
      with ``gt`` (THUMOS14's annotation folder) only the ground truth's videos, and a video
      of the ground truth that is not in the folder is missing (``class_list``: its ``id name``
      class file; default THUMOS14's 20 classes, or ``classes.txt`` beside the annotation
      folder);
    * a CSV ``video[,label]`` with ``root`` (``gt``, if given, a spatial ground truth that must
      know every listed video).

    Raises:
        AttnvizError: ``data`` is none of these; InputError: a malformed list, or a ground
        truth that does not know a listed video (the message names the first one).
    """
    from attnviz.io.datasets import resolve_gt
    from attnviz.io.spatial_gt import read_spatial_gt

    if gt is not None:  # a name of attnviz datasets brings its split and class list
        ref = resolve_gt(gt)
        gt = ref.path
        if ref.dataset is not None:
            if class_list is None and ref.classes is not None:
                class_list = ref.classes
            if ref.split is not None and split == "test":
                split = ref.split
    path = Path(data)
    if not path.exists():
        raise AttnvizError(f"{path}: no such file or folder")
    if path.is_dir() and (path / f"{split}.csv").is_file() and (path / "videos").is_dir():
        lst = path / f"{split}.csv"
        keys = _read_plain_list(lst)
        gt_file = Path(gt) if gt is not None else path / "gt_tubes.json"
        if gt_file.is_file():
            truth = read_spatial_gt(gt_file)
            _check_in_gt(keys, truth.videos, str(gt_file), str(lst))
        ids, names = (
            _ids_from_class_file(path / "classes.txt")
            if (path / "classes.txt").is_file()
            else (None, None)
        )
        paths = tuple(_find([path / "videos"], k) for k in keys)
        return DetectData(tuple(keys), paths, names, ids, "synth", str(lst))
    if gt is not None and Path(gt).is_file() and not (path.is_file() and path.suffix == ".csv"):
        truth = read_spatial_gt(gt)
        keys = truth.split(split)
        if not keys:
            raise InputError(f"{gt}: the ground truth has no {split} videos")
        base = Path(root) if root is not None else path
        roots = [base / "rgb-images", base / "videos", base]
        paths = tuple(_find(roots, k) for k in keys)
        ids = tuple(range(1, len(truth.labels) + 1))
        return DetectData(tuple(keys), paths, tuple(truth.labels), ids, "ucf24", str(gt))
    if path.is_dir():
        files = video_files(path)
        if gt is not None:
            from attnviz.io.thumos import read_thumos_gt

            if class_list is None and (Path(gt).parent / "classes.txt").is_file():
                class_list = Path(gt).parent / "classes.txt"  # the layout of attnviz synth
            truth = read_thumos_gt(gt, subset=split, classes=class_list)
            by_stem = {p.stem: p for p in files}
            keys = sorted(truth.videos)  # with those that hold only Ambiguous segments
            paths = tuple(by_stem.get(k) for k in keys)
            return DetectData(
                tuple(keys), paths, truth.class_names, truth.class_ids, "thumos14", str(gt)
            )
        if not files:
            raise AttnvizError(
                f"{path}: not a synth folder (no {split}.csv and videos/) and no video files "
                f"({', '.join(VIDEO_SUFFIXES)}) in it"
            )
        return DetectData(
            tuple(p.stem for p in files), tuple(files), None, None, "thumos14", str(path)
        )
    if root is None:
        raise AttnvizError(f"{path}: a CSV list needs the folder of its videos (root)")
    keys = _read_plain_list(path)
    names = ids = None
    if gt is not None:
        truth = read_spatial_gt(gt)
        _check_in_gt(keys, truth.videos, str(gt), str(path))
        names, ids = tuple(truth.labels), tuple(range(1, len(truth.labels) + 1))
    paths = tuple(_find([Path(root)], k) for k in keys)
    return DetectData(tuple(keys), paths, names, ids, "csv", str(path))


# --------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class DetectSettings:
    """Everything that changes a video's detections (their fingerprint guards resumes).

    Attributes:
        frames: uniform sampling of this many frames (``fps`` None).
        fps, window, stride: sampling at ``fps`` in windows instead.
        classes: ``top1``, ``topK`` or ``all`` (see the module docstring).
        params: the localization rules.
        precision: ``fp32`` or ``bf16``.
        save_maps: also write ``maps/<video>.npz``.
    """

    frames: int = 25
    fps: float | None = None
    window: int = 25
    stride: int = 12
    classes: str = "top1"
    params: LocalizeParams = LocalizeParams()
    precision: str = "fp32"
    save_maps: bool = False

    def __post_init__(self) -> None:
        if self.fps is None and self.frames < 1:
            raise AttnvizError(f"frames must be >= 1, got {self.frames}")
        if self.fps is not None and not self.fps > 0:
            raise AttnvizError(f"fps must be positive, got {self.fps}")
        if self.window < 1 or not 1 <= self.stride <= self.window:
            raise AttnvizError(
                f"need 1 <= stride <= window, got window={self.window}, stride={self.stride}"
            )
        if self.classes != "all" and re.fullmatch(r"top[1-9]\d*", self.classes) is None:
            raise AttnvizError(
                f"classes must be top1, topK (e.g. top5) or all, got {self.classes!r}"
            )
        if self.precision not in ("fp32", "bf16"):
            raise AttnvizError(f"precision must be fp32 or bf16, got {self.precision!r}")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["params"] = dataclasses.asdict(self.params)
        return d


def _fingerprint(settings: DetectSettings, model_checksum: str, device: str, names) -> dict:
    return {
        "format": "attnviz-detect",
        "version": _PART_VERSION,
        "model_sha256": model_checksum,
        "device_type": device.split(":")[0],
        "settings": settings.to_dict(),
        "class_names": list(names),
    }


def _digest(fp: dict) -> str:
    return hashlib.sha256(json.dumps(fp, sort_keys=True).encode()).hexdigest()


def _check_settings(out: Path, fp: dict) -> None:
    """Write ``settings.json`` or refuse a folder made with other settings (naming them)."""
    from attnviz.io.atomic import atomic_write_text

    path = out / "settings.json"
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            raise AttnvizError(f"{path}: unreadable; not an attnviz detect folder?") from None
        if old != fp:
            diff = _first_difference(old, fp)
            raise AttnvizError(
                f"{out}: made with other settings ({diff}); use another {{out_dir}} or remove it",
                params=("out_dir",),
            )
        return
    atomic_write_text(path, json.dumps(fp, indent=1, sort_keys=True) + "\n")


def _first_difference(a, b, where: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), f"{where}.{k}" if where else k)
    return f"{where}: {a!r} there, {b!r} now"


# --------------------------------------------------------------------------- decoding
def _mode(settings: DetectSettings) -> tuple[str, float]:
    return ("uniform", settings.frames) if settings.fps is None else ("fps", settings.fps)


@contextlib.contextmanager
def _recorded() -> Iterator[Callable[[], list[str]]]:
    """Record the warnings raised meanwhile (decoding in the main thread, no decode thread
    running); yields a function that returns their texts so far."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield lambda: [str(w.message) for w in caught]


def _decode(path: Path, mode: tuple[str, float], chunk: int, capture=_recorded) -> Iterator[tuple]:
    """Messages for one video: ``("meta", VideoInfo | fps)``, ``("frames", [(index, rgb)])``
    ..., ``("end", [warning texts])``; or ``("fail", reason, [warning texts])``. ``capture``
    collects the warnings that decoding raises (:func:`_recorded`, or a decode thread's
    :meth:`_ThreadWarnings.capture`)."""
    from attnviz.io.video import iter_sampled, sample_uniform, stream_fps

    with capture() as texts:
        try:
            if path.is_dir():
                yield from _decode_folder(path, mode, chunk)
            elif mode[0] == "uniform":
                info, got = sample_uniform(path, int(mode[1]))
                yield ("meta", info)
                yield ("frames", got)
            else:
                yield ("meta", stream_fps(path))
                buf: list = []
                for item in iter_sampled(path, float(mode[1])):
                    buf.append(item)
                    if len(buf) >= chunk:
                        yield ("frames", buf)
                        buf = []
                if buf:
                    yield ("frames", buf)
        except AttnvizError as exc:
            yield ("fail", str(exc), texts())
            return
        found = texts()
    yield ("end", found)


def _decode_folder(path: Path, mode: tuple[str, float], chunk: int) -> Iterator[tuple]:
    from attnviz.io.frames import probe_source, read_source_frames
    from attnviz.io.video import uniform_indices, window_indices
    from attnviz.types import VideoInfo

    n, fps, (h, w) = probe_source(path, FRAME_FOLDER_FPS)
    if mode[0] == "uniform":
        idx = uniform_indices(n, int(mode[1]))
        rgb = read_source_frames(path, idx)
        yield ("meta", VideoInfo(str(path), fps, n, w, h, n))
        yield ("frames", [(int(i), f) for i, f in zip(idx, rgb, strict=True)])
        return
    yield ("meta", fps)
    samples, _ = window_indices(n, fps, sample_fps=float(mode[1]), window=1, stride=1)
    for s in range(0, len(samples), chunk):
        idx = samples[s : s + chunk]
        rgb = read_source_frames(path, idx)
        yield ("frames", [(int(i), f) for i, f in zip(idx, rgb, strict=True)])


class _ThreadWarnings:
    """While decode threads run: a warning raised in a thread inside :meth:`capture` goes to
    that thread's list (the main thread re-emits it beside its video); any other is shown as
    before. ``warnings.catch_warnings`` cannot do this: it swaps module-wide state, so threads
    entering and leaving it in turn would lose warnings or record each other's."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._saved = warnings.catch_warnings()

    def __enter__(self) -> _ThreadWarnings:
        from attnviz.io.video import TruncatedVideoWarning

        self._saved.__enter__()
        warnings.simplefilter("always", TruncatedVideoWarning)  # every video's, even repeated
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            texts = getattr(self._local, "texts", None)
            if texts is None:
                shown(message, category, filename, lineno, file, line)
            else:
                texts.append(str(message))

        warnings.showwarning = show
        return self

    def __exit__(self, *exc) -> None:
        self._saved.__exit__(*exc)

    @contextlib.contextmanager
    def capture(self) -> Iterator[Callable[[], list[str]]]:
        self._local.texts = texts = []
        try:
            yield lambda: list(texts)
        finally:
            self._local.texts = None


class _Decoder:
    """Frames of the videos ``paths`` in order, decoded ahead of the model by ``workers``
    threads (video ``j`` by thread ``j % workers``, each at most ``depth`` messages ahead), or
    here when ``workers`` is 0.

    Threads, not processes: OpenCV releases the GIL while it decodes a frame or reads a JPEG,
    so decoding overlaps the model as well as in processes, without their start-up (a
    second per process, more on a loaded machine) or pickling every frame across. An exception
    in a thread is raised again here when its video's turn comes.
    """

    def __init__(self, paths: Sequence[Path], mode, workers: int, chunk: int = 16, depth: int = 4):
        self.n = len(paths)
        self.workers = max(0, min(workers, self.n))
        self.next = 0
        self.threads: list[threading.Thread] = []
        if self.workers == 0:
            self.local = (_decode(p, mode, chunk) for p in paths)
            return
        self.stop = threading.Event()
        self.warns = _ThreadWarnings().__enter__()
        self.queues: list[queue.Queue] = [queue.Queue(maxsize=depth) for _ in range(self.workers)]
        try:
            for w in range(self.workers):
                t = threading.Thread(
                    target=self._work,
                    args=(paths[w :: self.workers], mode, chunk, self.queues[w]),
                    name=f"attnviz-decode-{w}",
                    daemon=True,
                )
                self.threads.append(t)
                t.start()
        except BaseException:  # e.g. no thread can be started: put the warnings back
            self.close()
            raise

    def _work(self, paths: Sequence[Path], mode, chunk: int, q: queue.Queue) -> None:
        """A decode thread: its videos in order into ``q``; stops when :meth:`close` is
        called."""

        def put(msg) -> bool:
            while not self.stop.is_set():
                try:
                    q.put(msg, timeout=0.1)
                    return True
                except queue.Full:
                    pass
            return False

        try:
            for path in paths:
                for msg in _decode(Path(path), mode, chunk, self.warns.capture):
                    if not put(msg):
                        return
        except BaseException as exc:  # raised again in the main thread
            put(("error", exc))

    def _messages(self) -> Iterator[tuple]:
        j = self.next
        self.next += 1
        if self.workers == 0:
            yield from next(self.local)
            return
        w = j % self.workers
        while True:
            try:
                msg = self.queues[w].get(timeout=1.0)
            except queue.Empty:
                if self.threads[w].is_alive():
                    continue
                raise AttnvizError(
                    f"decode thread {w} stopped before handing over video {j + 1} of this rank"
                ) from None
            if msg[0] == "error":
                raise msg[1]
            yield msg
            if msg[0] in ("end", "fail"):
                return

    def video(self):
        """The next video's ``(meta, frames, warnings)`` (``frames`` an iterator to drain) or
        ``(None, reason, warnings)`` if it could not be decoded."""
        msgs = self._messages()
        first = next(msgs)
        if first[0] == "fail":
            return None, first[1], first[2]
        warns: list[str] = []

        def frames() -> Iterator[tuple[int, np.ndarray]]:
            for msg in msgs:
                if msg[0] == "frames":
                    yield from msg[1]
                else:
                    warns.extend(msg[1])

        return first[1], frames(), warns

    def close(self) -> None:
        """Stop the threads (one in the middle of a video stops at its next hand-over)."""
        if self.workers == 0 or self.stop.is_set():
            return
        self.stop.set()
        for t in self.threads:
            if t.is_alive():
                t.join(timeout=5)
        self.warns.__exit__(None, None, None)


# --------------------------------------------------------------------------- one video
def _class_choice(out: AttentionOutput, classes: str) -> list[int]:
    if classes == "all":
        return list(range(len(out.scores)))
    k = int(classes[3:])
    return [int(i) for i in np.argsort(-out.scores, kind="stable")[:k]]


def _video_detections(out: AttentionOutput, settings: DetectSettings, names: Sequence[str]):
    """The part of one video: its frame detections, tubes and segments for the chosen classes
    (:func:`attnviz.pipeline.scoring.detections_from_maps`, labels in ``names``; classes that
    ``names`` lacks are dropped)."""
    from attnviz.pipeline.scoring import detections_from_maps

    frame: dict[str, list] = {"frame": [], "label": [], "score": [], "boxes": []}
    seg: dict[str, list] = {"start": [], "end": [], "label": [], "score": []}
    tubes: list[dict] = []
    known = set(names)
    dropped = 0
    for k in _class_choice(out, settings.classes):
        if out.class_names[k] not in known:
            dropped += 1
            continue
        dets = detections_from_maps([out], settings.params.replace(class_index=k), names)
        fd, td = dets.frames, dets.temporal
        frame["frame"] += fd.frame.tolist()
        frame["label"] += fd.label.tolist()
        frame["score"] += fd.score.tolist()
        frame["boxes"] += fd.boxes.tolist()
        tubes += [
            {
                "label": int(t.label),
                "score": float(t.score),
                "boxes": np.asarray(t.boxes, dtype=np.float64).tolist(),
            }
            for t in dets.tubes
        ]
        seg["start"] += td.start.tolist()
        seg["end"] += td.end.tolist()
        seg["label"] += td.label.tolist()
        seg["score"] += td.score.tolist()
    top = int(out.top_class)
    return {
        "frames": int(out.num_frames),
        "top_class": out.class_names[top],
        "top_score": float(out.scores[top]),
        "dropped_classes": dropped,
        "frame_dets": frame,
        "tubes": tubes,
        "segments": seg,
    }


def _part_path(out: Path, key: str) -> Path:
    return out / "parts" / f"{key}.json"


def _remove_stale_temp(path: Path) -> None:
    """Temporary files a killed run left beside ``path`` (only this video's rank writes
    them)."""
    if path.parent.is_dir():
        for tmp in path.parent.glob(f".{path.name}.*.tmp.json"):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _read_part(path: Path, key: str, digest: str) -> tuple[dict | None, str]:
    """``(part, "")`` if ``path`` is a complete part of ``key`` made with ``digest``, else
    ``(None, why)``."""
    if not path.is_file():
        return None, "missing"
    try:
        part = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None, "unreadable"
    if not isinstance(part, dict) or part.get("video") != key:
        return None, "not this video's part"
    if part.get("settings") != digest:
        return None, "made with other settings"
    for field in ("frame_dets", "tubes", "segments"):
        if field not in part:
            return None, f"no {field}"
    return part, ""


# --------------------------------------------------------------------------- the run
def _rank_world() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world < 1 or not 0 <= rank < world:
        raise AttnvizError(f"bad torchrun environment: RANK={rank}, WORLD_SIZE={world}")
    return rank, world


@contextlib.contextmanager
def _process_group(world: int, device: str) -> Iterator[object]:
    """A process group when run under ``torchrun`` with more than one rank (``gloo`` on CPU,
    ``nccl`` on CUDA), torn down afterwards; ``None`` for one process."""
    if world == 1:
        yield None
        return
    import datetime

    import torch.distributed as dist

    created = False
    if not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if backend == "nccl":
            import torch

            torch.cuda.set_device(torch.device(device))
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=BARRIER_TIMEOUT_S))
        created = True
    try:
        yield dist
    finally:
        if created:
            dist.destroy_process_group()


def run_detect(
    data: DetectData,
    out_dir: str | os.PathLike[str],
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    model=None,
    settings: DetectSettings = DetectSettings(),
    device: str = "cpu",
    workers: int = 0,
    quiet: bool = False,
    rank: int | None = None,
    world_size: int | None = None,
    html: bool = True,
) -> dict:
    """Detections of every video of ``data`` into ``out_dir`` (see the module docstring).

    Args:
        data: from :func:`list_videos`.
        checkpoint / model: the recognizer (default: the embedded model), or a
            :class:`~attnviz.explain.video_methods.VideoExplainer` (any video classifier with
            one method, ``--model``; it decodes its own clips, so ``workers`` is 0).
        settings: sampling, localization and class choice.
        device: ``cpu`` or ``cuda`` (under torchrun on GPUs, ``cuda:LOCAL_RANK`` is used).
        workers: decode threads per rank (0: decode in the calling thread).
        rank, world_size: this process's shard (default: ``torchrun``'s environment).
        html: also write ``videos/<key>/index.html`` per video (its page, with a
            browser-playable copy of a video file) and ``index.html`` listing the videos
            (:mod:`attnviz.pipeline.page`); not part of the settings, so a resume may change it.

    Returns:
        on rank 0 the summary (what ``summary.json`` holds, plus ``failed``: ``[(video,
        reason)]`` of the videos without detections); on other ranks ``{"rank": r, "done": n}``.

    Raises:
        AttnvizError: an unusable checkpoint or output folder, or a folder made with other
        settings.
    """
    from attnviz.io.features import state_checksum
    from attnviz.pipeline.explain import load_model, model_params

    if rank is None or world_size is None:
        rank, world_size = _rank_world()
    if device.startswith("cuda") and world_size > 1 and device == "cuda":
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    t0 = time.perf_counter()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise AttnvizError(f"{out}: exists and is not a folder")
    if model is None:
        model, _ = load_model(checkpoint, device)
    # an unset threshold is the model's own: the folder's settings record the value used
    settings = dataclasses.replace(settings, params=model_params(settings.params, model))
    model_names = tuple(model.class_names)
    names = data.class_names if data.class_names is not None else model_names
    if not set(model_names) & set(names):
        raise AttnvizError(
            f"{data.source}: none of the model's classes is a class of the dataset "
            f"(model: {', '.join(model_names[:3])}...; dataset: {', '.join(names[:3])}...)"
        )
    if hasattr(model, "explain_video"):  # any video classifier with one method (--model)
        vm = model.model
        checksum = f"{vm.name}:{model.method}:{state_checksum(vm.module.state_dict())}"
        workers = 0  # it decodes its own windows
    else:
        checksum = state_checksum(model.state_dict())
    fp = _fingerprint(settings, checksum, device, names)
    digest = _digest(fp)
    with _process_group(world_size, device) as dist:
        if rank == 0:
            out.mkdir(parents=True, exist_ok=True)
            _check_settings(out, fp)
        if dist is not None:
            dist.barrier()
        if rank != 0:
            _check_settings(out, fp)
        shard = [i for i in range(len(data)) if i % world_size == rank]
        todo = []
        for i in shard:
            if data.paths[i] is None:
                continue
            _remove_stale_temp(_part_path(out, data.keys[i]))
            part, why = _read_part(_part_path(out, data.keys[i]), data.keys[i], digest)
            if part is None:
                if why != "missing":
                    warnings.warn(
                        f"{_part_path(out, data.keys[i])}: {why}; detecting again", stacklevel=2
                    )
                todo.append(i)
        done = _run_shard(
            data, out, todo, model, settings, workers, quiet or rank != 0, digest,
            len(shard) - len(todo), names, html,
        )  # fmt: skip
        if dist is not None:
            dist.barrier()
        if rank != 0:
            return {"rank": rank, "done": done}
        summary = merge_parts(data, out, names, fp, digest)
        if html:
            _write_index_page(data, out, digest)
    summary["time"] = {
        "seconds": round(time.perf_counter() - t0, 3),
        "videos_this_run_rank0": done,
        "world_size": world_size,
        "workers": workers,
    }
    _write_summary(out, summary)
    return summary


def _run_shard(
    data: DetectData,
    out: Path,
    todo: list[int],
    model,
    settings: DetectSettings,
    workers: int,
    quiet: bool,
    digest: str,
    skipped: int,
    names: Sequence[str],
    html: bool = False,
) -> int:
    """Detect the videos ``todo`` (indices into ``data``), one part file each; returns how
    many were written."""
    from attnviz.io.atomic import atomic_write_text
    from attnviz.io.maps import save_attention
    from attnviz.io.video import TruncatedVideoWarning
    from attnviz.pipeline.explain import _bar, explain_video

    decoder = _Decoder([data.paths[i] for i in todo], _mode(settings), workers)
    done = 0
    try:
        with _bar(quiet, "detect", unit="video", total=len(todo) + skipped) as bar:
            bar.update(skipped)
            for i in todo:
                key, path = data.keys[i], data.paths[i]
                t1 = time.perf_counter()
                meta, frames, warns = decoder.video()
                if meta is None:
                    for w in warns:
                        warnings.warn(w, TruncatedVideoWarning, stacklevel=2)
                    warnings.warn(f"{path}: {frames}; skipped", TruncatedVideoWarning, stacklevel=2)
                    bar.update(1)
                    continue
                decoded = (meta, list(frames)) if settings.fps is None else (meta, frames)
                res = explain_video(
                    path, model=model, frames=settings.frames, fps=settings.fps,
                    window=settings.window, stride=settings.stride, precision=settings.precision,
                    importance_rule=settings.params.importance, quiet=True, decoded=decoded,
                )  # fmt: skip
                for w in warns:
                    warnings.warn(w, TruncatedVideoWarning, stacklevel=2)
                res = dataclasses.replace(res, video=key)
                part = {"video": key, "settings": digest, "version": _PART_VERSION}
                part.update(_video_detections(res, settings, names))
                part["seconds"] = round(time.perf_counter() - t1, 4)
                if settings.save_maps:
                    save_attention(out / "maps" / f"{key}.npz", res)
                if html:  # before the part: a video with a part has its page
                    _write_video_page(out, key, path, res, settings)
                atomic_write_text(_part_path(out, key), json.dumps(part))
                done += 1
                bar.update(1)
    finally:
        decoder.close()
    return done


# --------------------------------------------------------------------------- pages
def _write_video_page(out: Path, key: str, path: Path, res: AttentionOutput, settings) -> None:
    from attnviz.pipeline.page import page_key, write_video_page

    video = path if path.is_file() else None  # frame folders: no playable copy
    write_video_page(
        out / "videos" / page_key(key), res, video=video, params=settings.params, title=key,
        back="../../index.html",
    )  # fmt: skip


def _write_index_page(data: DetectData, out: Path, digest: str) -> None:
    """``index.html``: every video with a part, its top class and score, linking to its page."""
    from attnviz.pipeline.page import PageRow, page_key, write_dataset_page

    rows = []
    for key in data.keys:
        part, _ = _read_part(_part_path(out, key), key, digest)
        if part is None:
            continue
        rows.append(
            PageRow(
                video=key, href=f"videos/{page_key(key)}/index.html", label="",
                predicted=str(part["top_class"]), score=float(part["top_score"]),
                outcome=f"{len(part['tubes'])} tubes, {len(part['segments']['start'])} segments",
            )
        )  # fmt: skip
    write_dataset_page(out, rows, title=f"attnviz detect: {data.source}")


# --------------------------------------------------------------------------- merge
def _class_ids(data: DetectData, names: Sequence[str]) -> list[int]:
    if data.class_ids is not None and len(data.class_ids) == len(names):
        return list(data.class_ids)
    from attnviz.pipeline.explain import _class_ids as model_ids

    return model_ids(names)


def merge_parts(
    data: DetectData, out_dir: str | os.PathLike[str], names: Sequence[str], fp: dict, digest: str
) -> dict:
    """Write the merged files from the parts of ``data``'s videos in list order; returns the
    summary (``failed`` lists the videos without a part)."""
    import pandas as pd

    from attnviz.io.atomic import atomic_write_text
    from attnviz.io.detections import write_frame_detections, write_tubes
    from attnviz.io.thumos import write_run_file
    from attnviz.types import FrameDetections, TemporalDetections, Tube

    out = Path(out_dir)
    fv, ff, fl, fs, fb = [], [], [], [], []
    sv, ss, se, sl, sc = [], [], [], [], []
    tubes: list[Tube] = []
    failed: list[tuple[str, str]] = []
    frames = dropped = 0
    for key, path in zip(data.keys, data.paths, strict=True):
        part, why = _read_part(_part_path(out, key), key, digest)
        if part is None:
            failed.append((key, "not found" if path is None else "no frame decoded"))
            continue
        d = part["frame_dets"]
        fv += [key] * len(d["frame"])
        ff += d["frame"]
        fl += d["label"]
        fs += d["score"]
        fb += d["boxes"]
        s = part["segments"]
        sv += [key] * len(s["start"])
        ss += s["start"]
        se += s["end"]
        sl += s["label"]
        sc += s["score"]
        tubes += [
            Tube(key, int(t["label"]), float(t["score"]), np.asarray(t["boxes"], dtype=np.float64))
            for t in part["tubes"]
        ]
        frames += int(part["frames"])
        dropped += int(part["dropped_classes"])
    fd = FrameDetections.from_arrays(
        fv, ff, fl, fs, np.asarray(fb, dtype=np.float64).reshape(-1, 4)
    )
    td = TemporalDetections.from_arrays(sv, ss, se, sl, sc)
    write_frame_detections(out / "frame_dets.csv", fd, list(names))
    write_tubes(out / "tubes.json", tubes)
    write_run_file(out / "run.txt", td, _class_ids(data, names))
    table = pd.DataFrame(
        {
            "video": td.video,
            "t_start": td.start,
            "t_end": td.end,
            "class": [names[k] for k in td.label],
            "score": td.score,
        }
    )
    atomic_write_text(out / "segments.csv", table.to_csv(index=False, lineterminator="\n"))
    return {
        "data": {"layout": data.layout, "source": data.source, "videos": len(data)},
        "model_sha256": fp["model_sha256"],
        "settings": fp["settings"],
        "device_type": fp["device_type"],
        "class_names": list(names),
        "counts": {
            "videos_done": len(data) - len(failed),
            "videos_failed": len(failed),
            "sampled_frames": frames,
            "frame_detections": len(fd),
            "tubes": len(tubes),
            "segments": len(td),
            "classes_dropped": dropped,
        },
        "failed": [list(f) for f in failed],
    }


def _write_summary(out: Path, summary: dict) -> None:
    from attnviz.io.atomic import atomic_write_text

    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
