"""Plain data records that flow between attnviz's layers.

Every stage of the pipeline hands the next one of these frozen records (see DESIGN.md):
``io.video`` gives :class:`VideoInfo`, the pipeline gives :class:`AttentionOutput`,
``localize`` gives :class:`Box` / :class:`Tube` / :class:`Segment`, ``evaluate`` gives
:class:`EvalResult`. Ground truth of every supported layout is read into
:class:`TemporalGroundTruth` (THUMOS14-style) or :class:`SpatialGroundTruth`
(UCF101-24 / JHMDB-21 style).

Conventions used everywhere:

* boxes are ``x1, y1, x2, y2`` in absolute pixels of the source frame;
* frame numbers are 1-based source-frame numbers (``%05d.jpg`` numbering);
* times are seconds;
* class labels are 0-based indices into a class-name list.

This module imports numpy only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

__all__ = [
    "AttentionOutput",
    "Box",
    "EvalResult",
    "FrameDetections",
    "KeyframeBoxes",
    "GTTube",
    "Segment",
    "SpatialGroundTruth",
    "TemporalDetections",
    "TemporalGroundTruth",
    "Tube",
    "VideoAnnotation",
    "VideoInfo",
]


@dataclass(frozen=True)
class VideoInfo:
    """What decoding a video found out about it.

    Attributes:
        path (str): the file.
        fps (float): frames per second from the container (``> 0``; 25.0 when the header has
            none).
        num_frames (int): frames that actually decoded (never the header's claim).
        width (int), height (int): frame size in pixels.
        header_frames (int): the frame count the header claims (may be wrong; informative).
    """

    path: str
    fps: float
    num_frames: int
    width: int
    height: int
    header_frames: int = -1

    @property
    def duration(self) -> float:
        """Seconds covered by the decoded frames (``num_frames / fps``)."""
        return self.num_frames / self.fps if self.fps > 0 else 0.0


@dataclass(frozen=True)
class AttentionOutput:
    """Where and when a model looked, in source-video coordinates (numpy only).

    A user with another attention model can build one of these from arrays and use every
    later stage (``localize``, ``evaluate``, ``render``) unchanged.

    Attributes:
        frame_indices (ndarray[T] int): 1-based source frame number of each sampled frame.
        timestamps (ndarray[T] float): time of each sampled frame in seconds.
        frame_size (tuple[int, int]): source frame ``(H, W)`` in pixels.
        mask (ndarray[T, h, w] float32): spatial importance in [0, 1] on the feature grid.
        temporal (ndarray float32): temporal attention weights, rows summing to 1: ``[T, T]``
            (``w[t, i]``) for one clip, or ``[W, n, n]`` for ``W`` sliding windows of ``n``
            sampled frames starting at ``window_starts`` (a ``[T, T]`` matrix of an hour-long
            video would not fit in memory); ``frame_importance`` is the stitched curve.
        frame_importance (ndarray[T] float32): per-frame importance derived from ``temporal``
            (rule in ``localize.temporal``), not yet normalised.
        scores (ndarray[K] float32): class probabilities for the clip / video.
        class_names (tuple[str, ...]): ``K`` names.
        video (str): an identifier for the video (file stem or dataset key).
        fps (float): the source video's frame rate.
        window_starts (ndarray[W] int or None): index (into the T sampled frames) of the first
            frame of each window when ``temporal`` is ``[W, n, n]``.
        grid_offset (tuple[float, float]): where the centres of the mask's cells lie, ``(dy,
            dx)`` in cells, relative to the bilinear convention (``align_corners=False``: cell
            ``i`` of ``h`` centred on pixel ``(i + 0.5) * H / h - 0.5``). A torchvision ResNet
            cut after a stage of stride ``S`` centres cell ``i`` on input pixel ``S * i``:
            offset ``0.5 / S - 0.5`` (-0.4375 at stride 8). Default ``(0, 0)``.
        threshold (float or None): the binarisation threshold of masks and normalised
            importance that the model which made these maps was built for (its checkpoint's
            ``localize.threshold``, see :func:`attnviz.models.load_checkpoint`); the
            localization functions use it when :class:`~attnviz.localize.LocalizeParams` leaves
            ``threshold`` unset. ``None``: the paper's 0.5.
    """

    frame_indices: np.ndarray
    timestamps: np.ndarray
    frame_size: tuple[int, int]
    mask: np.ndarray
    temporal: np.ndarray
    frame_importance: np.ndarray
    scores: np.ndarray
    class_names: tuple[str, ...]
    video: str = ""
    fps: float = 0.0
    window_starts: np.ndarray | None = None
    grid_offset: tuple[float, float] = (0.0, 0.0)
    threshold: float | None = None

    def __post_init__(self) -> None:
        t = len(self.frame_indices)
        if self.threshold is not None and not 0.0 <= float(self.threshold) <= 1.0:
            raise ValueError(f"threshold must be in [0, 1] or None, got {self.threshold}")
        if len(self.grid_offset) != 2 or not all(-1.0 < float(v) < 1.0 for v in self.grid_offset):
            raise ValueError(f"grid_offset must be (dy, dx) in (-1, 1), got {self.grid_offset}")
        if len(self.timestamps) != t:
            raise ValueError(f"timestamps has {len(self.timestamps)} entries, expected T={t}")
        if self.mask.ndim != 3 or self.mask.shape[0] != t:
            raise ValueError(f"mask must be [T={t}, h, w], got shape {tuple(self.mask.shape)}")
        if self.window_starts is None:
            if self.temporal.shape != (t, t):
                raise ValueError(f"temporal must be [T, T] = [{t}, {t}], got {self.temporal.shape}")
        else:
            w = len(self.window_starts)
            shape = self.temporal.shape
            if len(shape) != 3 or shape[0] != w or shape[1] != shape[2] or shape[1] > t:
                raise ValueError(
                    f"temporal must be [W={w}, n, n] (n <= T={t}) with window_starts, got {shape}"
                )
            starts = np.asarray(self.window_starts)
            if w and (starts.min() < 0 or starts.max() + shape[1] > t):
                raise ValueError(f"window_starts must lie in 0..T-n = 0..{t - shape[1]}")
        if len(self.frame_importance) != t:
            raise ValueError(f"frame_importance has {len(self.frame_importance)} entries, T={t}")
        if len(self.scores) != len(self.class_names):
            raise ValueError(
                f"scores has {len(self.scores)} entries but class_names has {len(self.class_names)}"
            )

    @property
    def num_frames(self) -> int:
        return int(len(self.frame_indices))

    @property
    def top_class(self) -> int:
        return int(np.argmax(self.scores))


@dataclass(frozen=True)
class Box:
    """One detection box on one frame: ``x1, y1, x2, y2`` pixels, 1-based ``frame``."""

    video: str
    frame: int
    label: int
    score: float
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Tube:
    """A spatio-temporal detection: ``boxes`` is ``ndarray[n, 5]`` rows ``frame, x1, y1, x2, y2``
    with consecutive ascending 1-based frames."""

    video: str
    label: int
    score: float
    boxes: np.ndarray


@dataclass(frozen=True)
class Segment:
    """A temporal detection ``[start, end]`` seconds in ``video`` for class ``label``."""

    video: str
    start: float
    end: float
    label: int
    score: float


@dataclass(frozen=True)
class GTTube:
    """A ground-truth tube: ``boxes`` is ``ndarray[n, 5]`` float64 rows
    ``frame, x1, y1, x2, y2`` (1-based frames, pixels)."""

    label: int
    boxes: np.ndarray


@dataclass(frozen=True)
class VideoAnnotation:
    """Ground truth of one video for spatial localization."""

    label: int
    nframes: int
    tubes: tuple[GTTube, ...]
    resolution: tuple[int, int] | None = None  # (H, W)


@dataclass(frozen=True)
class SpatialGroundTruth:
    """UCF101-24 / JHMDB-21 ground truth in one layout, whatever file it came from.

    Attributes:
        labels (tuple[str, ...]): class names; labels are 0-based indices into it.
        videos (Mapping[str, VideoAnnotation]): every annotated video by key
            (``Class/v_Class_gXX_cYY``).
        train_videos (tuple[str, ...]), test_videos (tuple[str, ...]): the split.
        source (str): the file it was read from.
    """

    labels: tuple[str, ...]
    videos: Mapping[str, VideoAnnotation]
    train_videos: tuple[str, ...] = ()
    test_videos: tuple[str, ...] = ()
    source: str = ""

    def split(self, name: str) -> tuple[str, ...]:
        """Video keys of split ``name`` (``train``, ``test`` or ``all``)."""
        if name == "train":
            return self.train_videos
        if name == "test":
            return self.test_videos
        if name == "all":
            return tuple(self.videos)
        raise ValueError(f"unknown split {name!r}: expected train, test or all")

    def restrict(self, videos: Iterable[str]) -> SpatialGroundTruth:
        """The ground truth of ``videos`` only, in the order given (names it does not annotate
        are skipped); the split lists keep their order, filtered."""
        keep = {v: self.videos[v] for v in dict.fromkeys(videos) if v in self.videos}
        return SpatialGroundTruth(
            self.labels,
            keep,
            tuple(v for v in self.train_videos if v in keep),
            tuple(v for v in self.test_videos if v in keep),
            self.source,
        )


@dataclass(frozen=True)
class TemporalGroundTruth:
    """THUMOS14-style temporal ground truth, instances in annotation-file order.

    Attributes:
        class_names (tuple[str, ...]): detection classes; ``label`` indexes into it.
        class_ids (tuple[int, ...]): the id of each class in run files (UCF101 ids for
            THUMOS14).
        video (ndarray[N] object): video name of each instance.
        start (ndarray[N] float64), end (ndarray[N] float64): seconds, as written.
        label (ndarray[N] int64): class index of each instance.
        ambiguous (Mapping[str, ndarray[k, 2]]): Ambiguous segments per video.
        videos (tuple[str, ...]): every video of the subset (also those with only
            Ambiguous segments).
        subset (str): ``test`` / ``val`` / ...
        source (str): file or folder it was read from.
    """

    class_names: tuple[str, ...]
    class_ids: tuple[int, ...]
    video: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    ambiguous: Mapping[str, np.ndarray] = field(default_factory=dict)
    videos: tuple[str, ...] = ()
    subset: str = "test"
    source: str = ""

    def __len__(self) -> int:
        return int(len(self.video))

    def restrict(self, videos: Iterable[str]) -> TemporalGroundTruth:
        """The instances, Ambiguous segments and subset videos of ``videos`` only (file order
        kept)."""
        keys = set(videos)
        keep = np.array([str(v) in keys for v in self.video], dtype=bool).reshape(-1)
        return replace(
            self,
            video=self.video[keep],
            start=self.start[keep],
            end=self.end[keep],
            label=self.label[keep],
            ambiguous={k: v for k, v in self.ambiguous.items() if k in keys},
            videos=tuple(v for v in self.videos if v in keys),
        )


@dataclass(frozen=True)
class TemporalDetections:
    """Temporal detections as arrays, in file order.

    Attributes:
        video (ndarray[N] object): video names as written.
        start (ndarray[N] float64), end (ndarray[N] float64): seconds as written (may be
            reversed; each protocol decides what that means).
        label (ndarray[N] int64): class index into the class list.
        score (ndarray[N] float64): confidence.
        line (ndarray[N] int64): 1-based line (or entry) number in the file, for messages.
        source (str): the file they came from.
    """

    video: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    score: np.ndarray
    line: np.ndarray
    source: str = ""

    def __len__(self) -> int:
        return int(len(self.video))

    @staticmethod
    def from_arrays(video, start, end, label, score, source: str = "") -> TemporalDetections:
        """Build from sequences (``label`` = class indices); lines are numbered 1..N."""
        n = len(video)
        return TemporalDetections(
            np.asarray(list(video), dtype=object).reshape(n),
            np.asarray(start, dtype=np.float64).reshape(n),
            np.asarray(end, dtype=np.float64).reshape(n),
            np.asarray(label, dtype=np.int64).reshape(n),
            np.asarray(score, dtype=np.float64).reshape(n),
            np.arange(1, n + 1, dtype=np.int64),
            source,
        )

    @staticmethod
    def from_segments(segments: Sequence[Segment], source: str = "") -> TemporalDetections:
        """Build from :class:`Segment` records, in order."""
        return TemporalDetections.from_arrays(
            [s.video for s in segments],
            [s.start for s in segments],
            [s.end for s in segments],
            [s.label for s in segments],
            [s.score for s in segments],
            source,
        )

    def with_videos(self, video: np.ndarray) -> TemporalDetections:
        """The same detections with other video names (e.g. a suffix removed)."""
        return TemporalDetections(
            video, self.start, self.end, self.label, self.score, self.line, self.source
        )

    @property
    def order_key(self) -> np.ndarray:
        """``ndarray[N]``: results order of ActivityNet-style files: videos in order of first
        appearance, file order within a video."""
        n = len(self.video)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        _, first, inv = np.unique(self.video.astype(str), return_index=True, return_inverse=True)
        video_rank = np.argsort(np.argsort(first))[inv]
        return video_rank.astype(np.int64) * (n + 1) + np.arange(n)


@dataclass(frozen=True)
class FrameDetections:
    """Per-frame box detections as arrays, in file order.

    Attributes:
        video (ndarray[N] object): ground-truth video keys (``Class/v_Class_gXX_cYY``).
        frame (ndarray[N] int64): 1-based source frame numbers.
        label (ndarray[N] int64): 0-based class indices.
        score (ndarray[N] float64): confidences.
        boxes (ndarray[N, 4] float64): ``x1, y1, x2, y2`` pixels.
        line (ndarray[N] int64): 1-based line (or entry) number in the file.
        source (str): the file.
    """

    video: np.ndarray
    frame: np.ndarray
    label: np.ndarray
    score: np.ndarray
    boxes: np.ndarray
    line: np.ndarray
    source: str = ""

    def __len__(self) -> int:
        return int(len(self.video))

    @staticmethod
    def from_arrays(video, frame, label, score, boxes, source: str = "") -> FrameDetections:
        """Build from sequences; lines are numbered 1..N."""
        n = len(video)
        return FrameDetections(
            np.asarray(list(video), dtype=object).reshape(n),
            np.asarray(frame, dtype=np.int64).reshape(n),
            np.asarray(label, dtype=np.int64).reshape(n),
            np.asarray(score, dtype=np.float64).reshape(n),
            np.asarray(boxes, dtype=np.float64).reshape(n, 4),
            np.arange(1, n + 1, dtype=np.int64),
            source,
        )

    @staticmethod
    def from_boxes(boxes: Sequence[Box], source: str = "") -> FrameDetections:
        """Build from :class:`Box` records, in order."""
        return FrameDetections.from_arrays(
            [b.video for b in boxes],
            [b.frame for b in boxes],
            [b.label for b in boxes],
            [b.score for b in boxes],
            np.array([[b.x1, b.y1, b.x2, b.y2] for b in boxes], dtype=np.float64).reshape(-1, 4),
            source,
        )


@dataclass(frozen=True)
class EvalResult:
    """Average precision per class and threshold, and their mean.

    Attributes:
        metric (str): ``temporal``, ``frame`` or ``video``.
        protocol (str): the named protocol (``thumos14``, ``activitynet``, ``act``, ...).
        thresholds (tuple[float, ...]): IoU / tIoU thresholds, in the order asked for.
        class_names (tuple[str, ...]): ``K`` classes.
        ap (ndarray[K, T] float64): AP in [0, 1] of class k at threshold t.
        mAP (ndarray[T] float64): mean over the classes that the protocol averages over.
        params (Mapping[str, Any]): the protocol's parameters (for reports and JSON).
        warnings (tuple[str, ...]): things the user should know (unknown videos, ...).
        extra (Mapping[str, Any]): protocol-specific data (counts, PR curves on request).
    """

    metric: str
    protocol: str
    thresholds: tuple[float, ...]
    class_names: tuple[str, ...]
    ap: np.ndarray
    mAP: np.ndarray  # noqa: N815 - the field's name in every report
    params: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def not_scored(self) -> tuple[str, ...]:
        """Classes the mAP leaves out (no ground truth in the split; their ``ap`` row holds 0):
        reports print them as not scored rather than 0.00."""
        return tuple(self.extra.get("not_scored", ()))

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout scripts depend on (``tiou`` for temporal, ``iou`` for spatial)."""
        key = "tiou" if self.metric == "temporal" else "iou"
        out: dict[str, Any] = {}
        if self.metric not in ("temporal", "keyframe"):
            out["metric"] = self.metric
        out["protocol"] = self.protocol
        out[key] = [float(t) for t in self.thresholds]
        if self.metric == "keyframe":  # AVA: a class without ground truth has no AP (null)
            out["mAP"] = [_or_none(v) for v in self.mAP]
            out["AP"] = {
                name: [_or_none(v) for v in self.ap[k]] for k, name in enumerate(self.class_names)
            }
            return out
        out["mAP"] = [float(v) for v in self.mAP]
        out["AP"] = {
            name: [float(v) for v in self.ap[k]] for k, name in enumerate(self.class_names)
        }
        if "average_mAP" in self.extra:  # ActivityNet-1.3: the mean over the thresholds
            out["average_mAP"] = float(self.extra["average_mAP"])
        return out


def _or_none(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


@dataclass(frozen=True)
class KeyframeBoxes:
    """Boxes on AVA keyframes (ground truth or detections), in file order.

    Attributes:
        video (ndarray[N] object): video id as written.
        timestamp (ndarray[N] float64): keyframe time in seconds (``0902`` and ``902.0`` read
            as 902.0; AVA-Kinetics' fractional times as written).
        box (ndarray[N, 4] float64): ``x1, y1, x2, y2`` as written (AVA: normalised to [0, 1]);
            ``nan`` on a row that only names a keyframe.
        label (ndarray[N] int64): action id; ``-1`` on a row that only names a keyframe
            (``video,timestamp``: a keyframe with no action, still part of the ground truth).
        score (ndarray[N] float64): the 8th column (detections: the score; ground truth: the
            person id), ``1.0`` where the row has 7 columns.
        line (ndarray[N] int64): 1-based line in the file, for messages.
        source (str): the file they came from.

    The keyframe key of the official evaluator, ``"video,%.6f"``, is :attr:`key` (built on
    demand; evaluators compare video and ``"%.6f"`` text through integer codes).
    """

    video: np.ndarray
    timestamp: np.ndarray
    box: np.ndarray
    label: np.ndarray
    score: np.ndarray
    line: np.ndarray
    source: str = ""

    def __len__(self) -> int:
        return len(self.video)

    @property
    def key(self) -> np.ndarray:
        """``ndarray[N] object``: ``"video,%.6f"`` keys (the timestamp as the official key)."""
        uniq, inv = np.unique(self.timestamp, return_inverse=True)
        text = np.asarray(["%.6f" % t for t in uniq.tolist()], dtype=object)  # noqa: UP031
        times = text[inv.reshape(-1)].tolist()
        keys = [f"{v},{t}" for v, t in zip(self.video.tolist(), times, strict=True)]
        return np.asarray(keys, dtype=object)
