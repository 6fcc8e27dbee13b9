"""``attnviz compare-explanations``: the model's attention and post-hoc explanations, on the same
model and the same videos, localized by the same rules and scored by the same evaluators and
metrics, side by side.

For every video of the data set, every method gives an :class:`~attnviz.types.AttentionOutput`
(:func:`attnviz.explain.explain_video_methods`, the explain command's sampling and windows).
Then, per method:

* localization: boxes, tubes and segments by :mod:`attnviz.localize` (paper threshold 0.5),
  scored by :mod:`attnviz.evaluate`: frame-mAP (ACT protocol, ground truth restricted to the
  sampled frames: the frames the model saw), video-mAP (ACT protocol, full tubes), temporal mAP
  (THUMOS14 protocol); a threshold sweep (the best threshold is an oracle chosen on this data);
  pointing game and energy inside the ground-truth box, tube and segment
  (:mod:`attnviz.metrics`);
* faithfulness: deletion and insertion curves over the frames of each clip and over the cells of
  its feature grid, against random orders;
* sanity: cascading randomisation of the model on the first clips, rank correlation of the maps
  with those of the trained model (a constant map after randomisation counts as 0).

Data layout (what ``attnviz synth`` writes; real data arranged the same way works):
``DIR/videos/<key>.<ext>``, ``DIR/<split>.csv`` (``video,label``), ``DIR/classes.txt``
(``id name``), ``DIR/annotations/<Class>_<split>.txt`` (THUMOS14-style temporal ground truth)
and ``DIR/gt_tubes.json`` (UCF101-24-style tubes, any layout that
:func:`attnviz.io.spatial_gt.read_spatial_gt` reads). Either ground truth may be missing (its
metrics are then left out) or given explicitly.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attnviz.errors import AttnvizError
from attnviz.io.atomic import output_dir
from attnviz.localize import (
    LocalizeParams,
    boxes_from_attention,
    normalise_importance,
    segments_from_attention,
    tubes_from_attention,
)
from attnviz.types import (
    AttentionOutput,
    FrameDetections,
    GTTube,
    SpatialGroundTruth,
    TemporalDetections,
    TemporalGroundTruth,
    Tube,
    VideoAnnotation,
)

__all__ = [
    "DEFAULT_METHODS",
    "TABLE_COLUMNS",
    "CompareData",
    "compare_explanations",
    "load_compare_data",
    "sampled_gt",
]

DEFAULT_METHODS = ("attention", "gradcam", "occlusion", "ig")
SPATIAL_IOU = (0.05, 0.1, 0.2, 0.3, 0.5)
TEMPORAL_TIOU = (0.1, 0.2, 0.3, 0.4, 0.5)
SWEEP = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)

#: column -> (heading, kind): ``pct`` (shown x100), ``auc`` or ``rho`` (3 decimals), ``thr``
#: (best threshold: value), ``sec``.
TABLE_COLUMNS: dict[str, tuple[str, str]] = {
    "frame_mAP@0.3": ("frame-mAP@0.3", "pct"),
    "frame_mAP@0.5": ("frame-mAP@0.5", "pct"),
    "video_mAP@0.3": ("video-mAP@0.3", "pct"),
    "temporal_mAP@0.3": ("temporal mAP@0.3", "pct"),
    "temporal_mAP@0.5": ("temporal mAP@0.5", "pct"),
    "best_thr_frame": ("best thr: frame-mAP@0.3", "thr"),
    "best_thr_temporal": ("best thr: temporal mAP@0.3", "thr"),
    "pointing": ("pointing game", "pct"),
    "energy_box": ("energy in box", "pct"),
    "energy_tube": ("energy in tube", "pct"),
    "pointing_temporal": ("temporal pointing", "pct"),
    "energy_segment": ("energy in segment", "pct"),
    "deletion_frames": ("deletion AUC, frames (lower better)", "auc"),
    "insertion_frames": ("insertion AUC, frames (higher better)", "auc"),
    "deletion_cells": ("deletion AUC, cells (lower better)", "auc"),
    "insertion_cells": ("insertion AUC, cells (higher better)", "auc"),
    "rho_mask_top": ("rho mask, classifier re-init", "rho"),
    "rho_mask_all": ("rho mask, all re-init", "rho"),
    "rho_importance_top": ("rho importance, classifier re-init", "rho"),
    "rho_importance_all": ("rho importance, all re-init", "rho"),
    "seconds_per_clip": ("seconds per clip", "sec"),
}
_GROUPS = {
    "Localization": [
        "frame_mAP@0.3", "frame_mAP@0.5", "video_mAP@0.3", "temporal_mAP@0.3",
        "temporal_mAP@0.5", "best_thr_frame", "best_thr_temporal", "pointing", "energy_box",
        "energy_tube", "pointing_temporal", "energy_segment",
    ],
    "Faithfulness": ["deletion_frames", "insertion_frames", "deletion_cells", "insertion_cells"],
    "Sanity": ["rho_mask_top", "rho_mask_all", "rho_importance_top", "rho_importance_all"],
    "Cost": ["seconds_per_clip"],
}  # fmt: skip
RANDOM_ROW = "random order"


# --------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class CompareData:
    """The videos to explain and their ground truth.

    Attributes:
        videos (Mapping[str, Path]): key -> video file, in order.
        labels (Mapping[str, str]): key -> class name (empty when no split file lists them).
        temporal (TemporalGroundTruth or None): restricted to ``videos``.
        spatial (SpatialGroundTruth or None): restricted to ``videos`` (their ``test`` split).
        source (str): the data folder.
    """

    videos: Mapping[str, Path]
    labels: Mapping[str, str]
    temporal: TemporalGroundTruth | None
    spatial: SpatialGroundTruth | None
    source: str = ""


def _restrict_temporal(gt: TemporalGroundTruth, keys: set[str]) -> TemporalGroundTruth:
    keep = np.array([str(v) in keys for v in gt.video], dtype=bool)
    return dataclasses.replace(
        gt,
        video=gt.video[keep],
        start=gt.start[keep],
        end=gt.end[keep],
        label=gt.label[keep],
        ambiguous={k: v for k, v in gt.ambiguous.items() if k in keys},
        videos=tuple(v for v in gt.videos if v in keys),
    )


def _restrict_spatial(gt: SpatialGroundTruth, keys: Sequence[str]) -> SpatialGroundTruth:
    vids = {k: gt.videos[k] for k in keys if k in gt.videos}
    return SpatialGroundTruth(gt.labels, vids, (), tuple(vids), gt.source)


def load_compare_data(
    data: str | os.PathLike[str],
    *,
    split: str = "test",
    temporal_gt: str | os.PathLike[str] | None = None,
    spatial_gt: str | os.PathLike[str] | None = None,
    classes: str | os.PathLike[str] | None = None,
    max_videos: int | None = None,
) -> CompareData:
    """Find the videos of ``split`` and their ground truth under ``data`` (layout in the module
    docstring). ``max_videos`` keeps the first ones (in split-file order)."""
    from attnviz.io.spatial_gt import read_spatial_gt
    from attnviz.io.splits import VIDEO_EXTENSIONS, read_csv_list
    from attnviz.io.thumos import read_thumos_gt

    root = Path(data)
    if not root.is_dir():
        raise AttnvizError(f"{root}: data folder not found")
    if classes is None and (root / "classes.txt").is_file():
        classes = root / "classes.txt"
    vid_dir = root / "videos" if (root / "videos").is_dir() else root
    tpath = Path(temporal_gt) if temporal_gt is not None else root / "annotations"
    temporal = None
    if temporal_gt is not None or tpath.is_dir():
        temporal = read_thumos_gt(tpath, subset=split, classes=classes)
    spath = Path(spatial_gt) if spatial_gt is not None else root / "gt_tubes.json"
    spatial = read_spatial_gt(spath) if spatial_gt is not None or spath.is_file() else None
    if temporal is None and spatial is None:
        raise AttnvizError(
            f"{root}: no ground truth found (expected annotations/ or gt_tubes.json; or pass "
            "--temporal-gt / --spatial-gt)"
        )
    labels: dict[str, str] = {}
    csv_path = root / f"{split}.csv"
    if csv_path.is_file():
        vl = read_csv_list(csv_path, root=vid_dir, classes=classes)
        keys = list(vl.keys)
        paths = {it.key: it.path for it in vl.items}
        labels = {it.key: vl.class_names[it.label] for it in vl.items}
    else:
        keys = []
        if spatial is not None:
            keys += [k for k in spatial.split(split) if k not in keys]
        if temporal is not None:
            keys += [
                k
                for k in sorted(set(temporal.video.tolist()) | set(temporal.videos))
                if k not in keys
            ]
        files = {}
        for p in sorted(vid_dir.rglob("*")):
            if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS:
                files.setdefault(p.relative_to(vid_dir).with_suffix("").as_posix(), p)
                files.setdefault(p.stem, p)
        missing = [k for k in keys if k not in files]
        if missing:
            raise AttnvizError(
                f"{vid_dir}: no video file for {len(missing)} ground-truth videos of the {split} "
                f"split (e.g. {missing[0]!r})"
            )
        paths = {k: files[k] for k in keys}
    if not keys:
        raise AttnvizError(f"{root}: no video in the {split} split")
    folders = [k for k in keys if paths[k] is not None and paths[k].is_dir()]
    if folders:
        raise AttnvizError(
            f"{paths[folders[0]]}: frame folders are not supported here, only video files"
        )
    if max_videos is not None:
        if max_videos < 1:
            raise AttnvizError(f"max_videos must be >= 1, got {max_videos}")
        keys = keys[:max_videos]
    kset = set(keys)
    return CompareData(
        videos={k: paths[k] for k in keys},
        labels={k: v for k, v in labels.items() if k in kset},
        temporal=_restrict_temporal(temporal, kset) if temporal is not None else None,
        spatial=_restrict_spatial(spatial, keys) if spatial is not None else None,
        source=str(root),
    )


# --------------------------------------------------------------------------------- ground truth
def _frame_boxes(ann: VideoAnnotation | None, frames: np.ndarray) -> list[np.ndarray]:
    """Ground-truth boxes ``[k, 4]`` on each of ``frames`` (1-based), all tubes together."""
    out = [np.zeros((0, 4)) for _ in frames]
    if ann is None:
        return out
    pos: dict[int, list[int]] = {}
    for t, f in enumerate(frames):
        pos.setdefault(int(f), []).append(t)
    for tube in ann.tubes:
        b = np.asarray(tube.boxes, dtype=np.float64)
        for row in b:
            for t in pos.get(int(row[0]), ()):
                out[t] = np.vstack([out[t], row[None, 1:5]])
    return out


def _segments_of(gt: TemporalGroundTruth | None, key: str) -> np.ndarray:
    if gt is None:
        return np.zeros((0, 2))
    sel = np.asarray([str(v) == key for v in gt.video], dtype=bool)
    return np.stack([gt.start[sel], gt.end[sel]], axis=1) if sel.any() else np.zeros((0, 2))


def sampled_gt(gt: SpatialGroundTruth, frames: Mapping[str, np.ndarray]) -> SpatialGroundTruth:
    """The ground truth restricted to the sampled frames of each video (for frame-mAP)."""
    vids = {}
    for key, ann in gt.videos.items():
        keep = set(int(f) for f in frames.get(key, ()))
        tubes = []
        for t in ann.tubes:
            b = np.asarray(t.boxes, dtype=np.float64)
            b = b[np.isin(b[:, 0].astype(np.int64), list(keep))] if len(b) else b
            if len(b):
                tubes.append(GTTube(t.label, b))
        vids[key] = VideoAnnotation(ann.label, ann.nframes, tuple(tubes), ann.resolution)
    return SpatialGroundTruth(gt.labels, vids, (), tuple(vids), gt.source)


# --------------------------------------------------------------------------------- scoring
def _label_map(model_names: Sequence[str], gt_names: Sequence[str]) -> dict[int, int]:
    index = {n: i for i, n in enumerate(gt_names)}
    return {k: index[n] for k, n in enumerate(model_names) if n in index}


def _frame_dets(outs, params, lmap, videos) -> FrameDetections:
    rows = [
        (b.video, b.frame, lmap[b.label], b.score, (b.x1, b.y1, b.x2, b.y2))
        for o in outs
        if o.video in videos
        for b in boxes_from_attention(o, params)
        if b.label in lmap
    ]
    return FrameDetections.from_arrays(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        np.array([r[4] for r in rows], dtype=np.float64).reshape(-1, 4),
    )


def _tubes(outs, params, lmap, videos) -> list[Tube]:
    return [
        Tube(t.video, lmap[t.label], t.score, t.boxes)
        for o in outs
        if o.video in videos
        for t in tubes_from_attention(o, params)
        if t.label in lmap
    ]


def _temporal_dets(outs, params, lmap) -> TemporalDetections:
    segs = [s for o in outs for s in segments_from_attention(o, params) if s.label in lmap]
    return TemporalDetections.from_arrays(
        [s.video for s in segs],
        [s.start for s in segs],
        [s.end for s in segs],
        [lmap[s.label] for s in segs],
        [s.score for s in segs],
    )


class _Scorer:
    """mAPs of one method's outputs at any binarisation threshold."""

    def __init__(self, outs: list[AttentionOutput], data: CompareData, params: LocalizeParams):
        names = outs[0].class_names if outs else ()
        self.outs = outs
        self.params = params
        self.spatial = data.spatial
        self.temporal = data.temporal
        if data.spatial is not None:
            self.smap = _label_map(names, data.spatial.labels)
            self.svideos = set(data.spatial.videos)
            self.sampled = sampled_gt(
                data.spatial, {o.video: o.frame_indices for o in outs if o.video in self.svideos}
            )
        if data.temporal is not None:
            self.tmap = _label_map(names, data.temporal.class_names)

    def frame(self, thr: float, iou=SPATIAL_IOU):
        from attnviz.evaluate.ucf24 import frame_map

        p = self.params.replace(threshold=thr)
        dets = _frame_dets(self.outs, p, self.smap, self.svideos)
        return frame_map(self.sampled, dets, protocol="act", iou=iou, split="test")

    def video(self, thr: float, iou=SPATIAL_IOU):
        from attnviz.evaluate.ucf24 import video_map

        p = self.params.replace(threshold=thr)
        tubes = _tubes(self.outs, p, self.smap, self.svideos)
        return video_map(self.spatial, tubes, protocol="act", iou=iou, split="test")

    def temporal_map(self, thr: float, tiou=TEMPORAL_TIOU):
        from attnviz.evaluate.thumos import evaluate_thumos

        p = self.params.replace(threshold=thr)
        dets = _temporal_dets(self.outs, p, self.tmap)
        return evaluate_thumos(self.temporal, dets, protocol="thumos14", tiou=tiou)


def _present_map(result) -> np.ndarray:
    """mAP over the classes that have ground truth among the compared videos (ACT's frame- and
    video-mAP count absent classes as AP 0, which would only dilute a subset's numbers)."""
    npos = result.extra.get("npos") if isinstance(result.extra, Mapping) else None
    if not npos:
        return np.asarray(result.mAP, dtype=np.float64)
    present = np.array([npos.get(c, 0) > 0 for c in result.class_names], dtype=bool)
    if not present.any():
        return np.zeros(len(result.thresholds))
    return np.asarray(result.ap, dtype=np.float64)[present].mean(axis=0)


def _at(result, t: float) -> float:
    for th, v in zip(result.thresholds, _present_map(result), strict=True):
        if math.isclose(th, t):
            return float(v)
    return float("nan")


def _nanmean(values) -> float:
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else float("nan")


# --------------------------------------------------------------------------------- main
def compare_explanations(
    data: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    methods: Sequence[str] = DEFAULT_METHODS,
    split: str = "test",
    temporal_gt: str | os.PathLike[str] | None = None,
    spatial_gt: str | os.PathLike[str] | None = None,
    classes: str | os.PathLike[str] | None = None,
    max_videos: int | None = None,
    frames: int | None = None,
    fps: float | None = None,
    window: int = 25,
    stride: int = 12,
    baseline: str = "blur",
    batch: int = 16,
    ig_steps: int = 32,
    ig_space: str = "features",
    occlusion_window: int = 1,
    occlusion_spatial_window: int = 5,
    spatial_steps: int = 16,
    temporal_steps: int | None = None,
    random_orders: int = 3,
    sanity_videos: int = 4,
    thresholds: Sequence[float] = SWEEP,
    sweep_iou: float = 0.3,
    params: LocalizeParams | None = None,
    figure_video: str | None = None,
    save_maps: bool = False,
    device: str = "cpu",
    seed: int = 0,
    quiet: bool = False,
    html: bool = True,
) -> dict:
    """Compare explanation methods on a data set with ground truth; write into ``out_dir``
    (all or nothing): ``table.csv`` / ``table.md`` (methods x metrics), ``map.csv`` (every mAP
    at every IoU), ``sweep.csv``, ``curves.csv`` + ``curves.png`` (deletion / insertion),
    ``sanity.csv`` + ``sanity.png``, ``maps.png`` (each method's maps on the same frames),
    ``summary.json``, with ``save_maps`` ``maps/<method>/<video>.npz`` and, with ``html``,
    ``index.html`` (the videos) + ``videos/<key>/index.html`` (:mod:`attnviz.pipeline.page`).

    Returns:
        a summary: ``out``, ``videos``, ``methods``, ``accuracy``, ``table`` (rows of numbers)
        and ``markdown``.
    """
    from tqdm.auto import tqdm

    from attnviz.explain import (
        BASELINES,
        make_explainer,
        parse_methods,
        spatial_scorer,
        temporal_scorer,
    )
    from attnviz.explain.video import explain_video_methods
    from attnviz.metrics import (
        deletion_curve,
        energy_in_boxes,
        energy_in_segments,
        energy_in_tube,
        insertion_curve,
        pointing_game,
        random_order_curves,
        temporal_pointing_game,
    )
    from attnviz.pipeline.explain import load_model

    names = parse_methods(list(methods))
    params = params or LocalizeParams()
    if baseline not in BASELINES:
        raise AttnvizError(f"baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
    if temporal_steps is not None and temporal_steps < 1:
        raise AttnvizError(f"temporal_steps must be >= 1, got {temporal_steps}")
    if spatial_steps < 1 or random_orders < 1 or sanity_videos < 0 or batch < 1:
        raise AttnvizError(
            "spatial_steps, random_orders and batch must be >= 1, sanity_videos >= 0"
        )
    dataset = load_compare_data(
        data, split=split, temporal_gt=temporal_gt, spatial_gt=spatial_gt, classes=classes,
        max_videos=max_videos,
    )  # fmt: skip
    out_path = Path(out_dir)
    _check_out(out_path)  # fail before the long computation, create nothing yet
    model, minfo = load_model(checkpoint, device)
    if frames is None:  # the clip length the model was trained with, else the paper's 25
        frames = int(((minfo.get("extra") or {}).get("meta") or {}).get("frames", 25))
    if frames < 1:
        raise AttnvizError(f"frames must be >= 1, got {frames}")
    options = {
        "batch": batch,
        "steps": ig_steps,
        "space": ig_space,
        "window": occlusion_window,
        "spatial_window": occlusion_spatial_window,
        "rule": params.importance,
    }
    explainers = {m: make_explainer(m, model, **options) for m in names}
    _check_classes(model.class_names, dataset)

    outs: dict[str, list[AttentionOutput]] = {m: [] for m in names}
    curves: dict[str, dict[str, list]] = {m: {} for m in [*names, RANDOM_ROW]}
    loc: dict[str, dict[str, list[float]]] = {m: {} for m in names}
    timings: dict[str, float] = {}
    clips = [0]
    correct = []

    def add(store, key, value):
        store.setdefault(key, []).append(value)

    def on_clip(clip, start, maps):
        clips[0] += 1
        ts = temporal_scorer(model, clip, batch=batch)
        ss = spatial_scorer(model, clip, batch=batch)
        for m, mp in maps.items():
            c = curves[m]
            kt = dict(steps=temporal_steps, batch=batch, seed=seed)
            add(c, "deletion_frames", deletion_curve(mp.importance, ts, **kt))
            add(c, "insertion_frames", insertion_curve(mp.importance, ts, **kt))
            kw = dict(steps=spatial_steps, batch=batch, seed=seed)
            add(c, "deletion_cells", deletion_curve(mp.mask, ss, **kw))
            add(c, "insertion_cells", insertion_curve(mp.mask, ss, **kw))
        r = curves[RANDOM_ROW]
        d, i = random_order_curves(
            (clip.num_frames,),
            ts,
            repeats=random_orders,
            steps=temporal_steps,
            batch=batch,
            seed=seed,
        )
        add(r, "deletion_frames", d)
        add(r, "insertion_frames", i)
        d, i = random_order_curves(
            tuple(clip.features.shape[:1]) + clip.grid, ss, repeats=random_orders,
            steps=spatial_steps, batch=batch, seed=seed,
        )  # fmt: skip
        add(r, "deletion_cells", d)
        add(r, "insertion_cells", i)

    t_start = time.perf_counter()
    for key, path in tqdm(dataset.videos.items(), desc="videos", unit="video", disable=quiet):
        res = explain_video_methods(
            path, model, explainers, frames=frames, fps=fps, window=window, stride=stride,
            baseline=baseline, name=key, on_clip=on_clip, timings=timings, quiet=quiet,
        )  # fmt: skip
        first = next(iter(res.values()))
        if key in dataset.labels:
            correct.append(first.class_names[first.top_class] == dataset.labels[key])
        ann = dataset.spatial.videos.get(key) if dataset.spatial is not None else None
        boxes = _frame_boxes(ann, first.frame_indices)
        has_box = any(len(b) for b in boxes)
        segs = _segments_of(dataset.temporal, key)
        for m, o in res.items():
            outs[m].append(o)
            if has_box:
                loc[m].setdefault("pointing", []).extend(
                    pointing_game(o.mask, o.frame_size, boxes)[[len(b) > 0 for b in boxes]]
                )
                loc[m].setdefault("energy_box", []).extend(
                    energy_in_boxes(o.mask, o.frame_size, boxes)[[len(b) > 0 for b in boxes]]
                )
                add(loc[m], "energy_tube", energy_in_tube(o.mask, o.frame_size, boxes))
            if len(segs):
                add(
                    loc[m],
                    "pointing_temporal",
                    temporal_pointing_game(o.frame_importance, o.timestamps, segs),
                )
                add(
                    loc[m],
                    "energy_segment",
                    energy_in_segments(
                        o.frame_importance, o.timestamps, segs, norm=params.importance_norm
                    ),
                )
    elapsed = time.perf_counter() - t_start

    rows: dict[str, dict[str, float]] = {m: {} for m in [*names, RANDOM_ROW]}
    map_rows, sweep_rows = [], []
    for m in names:
        sc = _Scorer(outs[m], dataset, params)
        row = rows[m]
        if dataset.spatial is not None:
            fr = sc.frame(params.threshold)
            vr = sc.video(params.threshold)
            row["frame_mAP@0.3"], row["frame_mAP@0.5"] = _at(fr, 0.3), _at(fr, 0.5)
            row["video_mAP@0.3"] = _at(vr, 0.3)
            map_rows += _map_rows(m, fr) + _map_rows(m, vr)
            sw = _sweep(
                lambda t, sc=sc: _at(sc.frame(t, (sweep_iou,)), sweep_iou),
                thresholds,
                params.threshold,
            )
            row["best_thr_frame"] = sw.best_threshold
            row["best_thr_frame_value"] = sw.best_value
            sweep_rows += [
                (m, f"frame-mAP@{sweep_iou:g}", t, v)
                for t, v in zip(sw.thresholds, sw.values, strict=True)
            ]
        if dataset.temporal is not None:
            tr = sc.temporal_map(params.threshold)
            row["temporal_mAP@0.3"], row["temporal_mAP@0.5"] = _at(tr, 0.3), _at(tr, 0.5)
            map_rows += _map_rows(m, tr)
            sw = _sweep(
                lambda t, sc=sc: _at(sc.temporal_map(t, (sweep_iou,)), sweep_iou),
                thresholds,
                params.threshold,
            )
            row["best_thr_temporal"] = sw.best_threshold
            row["best_thr_temporal_value"] = sw.best_value
            sweep_rows += [
                (m, f"temporal mAP@{sweep_iou:g}", t, v)
                for t, v in zip(sw.thresholds, sw.values, strict=True)
            ]
        for k, v in loc[m].items():
            row[k] = _nanmean(v)
        row["seconds_per_clip"] = (timings.get(m, 0.0)) / max(clips[0], 1)
    from attnviz.metrics import mean_curve

    mean_curves: dict[str, dict[str, object]] = {}
    for m, c in curves.items():
        mean_curves[m] = {k: mean_curve(v) for k, v in c.items() if v}
        for k, cv in mean_curves[m].items():
            rows[m][k] = cv.auc
    rows[RANDOM_ROW]["seconds_per_clip"] = float("nan")

    sanity_rows = []
    if sanity_videos > 0:
        sanity_rows = _sanity(
            model, dataset, names, options, baseline=baseline, frames=frames, fps=fps,
            window=window, count=sanity_videos, seed=seed, quiet=quiet,
        )  # fmt: skip
        for m in names:
            sel = [r for r in sanity_rows if r["method"] == m]
            if sel:
                rows[m]["rho_mask_top"] = sel[0]["rho_mask"]
                rows[m]["rho_importance_top"] = sel[0]["rho_importance"]
                rows[m]["rho_mask_all"] = sel[-1]["rho_mask"]
                rows[m]["rho_importance_all"] = sel[-1]["rho_importance"]

    accuracy = float(np.mean(correct)) if correct else float("nan")
    info = {
        "data": Path(dataset.source).name,
        "split": split,
        "videos": len(dataset.videos),
        "clips": clips[0],
        "checkpoint": Path(checkpoint).name if checkpoint is not None else "default model",
        "accuracy": accuracy,
        "sampling": f"{frames} frames uniform"
        if fps is None
        else f"{fps:g} fps, windows {window}/{stride}",
        "baseline": baseline,
        "seconds": elapsed,
    }
    markdown = format_markdown(rows, names, info, sweep_iou=sweep_iou)
    with output_dir(out_path) as tmp:
        _write_tables(
            tmp, rows, names, markdown, map_rows, sweep_rows, mean_curves, sanity_rows, info
        )
        _figures(tmp, dataset, outs, names, mean_curves, sanity_rows, params, figure_video)
        if save_maps:
            from attnviz.io.maps import save_attention

            for m in names:
                for o in outs[m]:
                    save_attention(tmp / "maps" / m / f"{o.video.replace('/', '__')}.npz", o)
        if html:
            from attnviz.pipeline.page import write_compare_pages

            write_compare_pages(tmp, dataset, outs, params=params)
    return {
        "out": str(out_path),
        "videos": len(dataset.videos),
        "methods": names,
        "accuracy": accuracy,
        "table": rows,
        "markdown": markdown,
    }


def _check_out(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise AttnvizError(f"{path}: exists and is not a folder")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise AttnvizError(f"{path}: output folder is not writable ({parent})")


def _check_classes(model_names: Sequence[str], data: CompareData) -> None:
    gts = []
    if data.spatial is not None:
        gts.append(("spatial", data.spatial.labels))
    if data.temporal is not None:
        gts.append(("temporal", data.temporal.class_names))
    for kind, names in gts:
        if not set(model_names) & set(names):
            raise AttnvizError(
                f"the model's classes ({', '.join(list(model_names)[:3])}, ...) share no name with "
                f"the {kind} ground truth's ({', '.join(list(names)[:3])}, ...): a checkpoint of "
                "another data set?"
            )


def _sweep(score, thresholds, reference):
    from attnviz.metrics import threshold_sweep

    return threshold_sweep(score, thresholds, reference=reference)


def _map_rows(method: str, result) -> list[tuple]:
    kind = {"frame": "frame-mAP", "video": "video-mAP", "temporal": "temporal mAP"}[result.metric]
    return [
        (method, kind, result.protocol, float(t), float(v))
        for t, v in zip(result.thresholds, _present_map(result), strict=True)
    ]


def _first_clip(path: Path, frames: int, fps: float | None, window: int) -> list[np.ndarray]:
    from attnviz.io.video import iter_sampled, sample_uniform

    if fps is None:
        _, got = sample_uniform(path, frames)
        return [f for _, f in got]
    out = []
    for _, f in iter_sampled(path, fps):
        out.append(f)
        if len(out) == window:
            break
    return out


def _sanity(
    model, data, names, options, *, baseline, frames, fps, window, count, seed, quiet
) -> list[dict]:
    """Mean rank correlation per (method, stage) over the first clip of ``count`` videos."""
    from tqdm.auto import tqdm

    from attnviz.explain import cascading_randomization, make_explainer, prepare_clip
    from attnviz.metrics import rank_correlation

    def rho(a, b) -> float:
        r = rank_correlation(a, b)
        if np.isnan(r) and np.ptp(np.asarray(a)) > 0:
            return 0.0  # the randomised map went flat: it keeps none of the ranking
        return r

    acc: dict[tuple[str, str], list[tuple[float, float]]] = {}
    stages: list[str] = []
    keys = list(data.videos)[:count]
    for key in tqdm(keys, desc="sanity", unit="video", disable=quiet):
        clip_frames = np.stack(_first_clip(data.videos[key], frames, fps, window))
        clip = prepare_clip(model, clip_frames, baseline=baseline)
        trained = {m: make_explainer(m, model, **options)(clip) for m in names}
        for stage, rmodel in cascading_randomization(model, seed=seed):
            if stage not in stages:
                stages.append(stage)
            rclip = prepare_clip(rmodel, clip_frames, baseline=baseline, target=clip.target)
            for m in names:
                maps = make_explainer(m, rmodel, **options)(rclip)
                acc.setdefault((m, stage), []).append(
                    (rho(trained[m].mask, maps.mask), rho(trained[m].importance, maps.importance))
                )
    rows = []
    for m in names:
        for stage in stages:
            vals = np.asarray(acc[(m, stage)], dtype=np.float64)
            rows.append(
                {
                    "method": m,
                    "stage": stage,
                    "rho_mask": _nanmean(vals[:, 0]),
                    "rho_importance": _nanmean(vals[:, 1]),
                    "clips": len(vals),
                }
            )
    return rows


# --------------------------------------------------------------------------------- output
def _cell(value: float | None, kind: str, best: float | None = None) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    if kind == "pct":
        return f"{100 * value:.1f}"
    if kind == "sec":
        return f"{value:.3f}"
    if kind == "thr":
        return f"{value:g}" + (
            f": {100 * best:.1f}" if best is not None and np.isfinite(best) else ""
        )
    return f"{value:.3f}"


def format_markdown(
    rows: Mapping[str, Mapping[str, float]],
    methods: Sequence[str],
    info: Mapping,
    *,
    sweep_iou: float = 0.3,
) -> str:
    """The comparison as Markdown: one table per group of metrics (methods as rows)."""
    acc = info.get("accuracy", float("nan"))
    lines = [
        f"Explanations compared on {info.get('videos')} videos ({info.get('clips')} clips) of "
        f"`{info.get('data')}` ({info.get('split')} split), model: {info.get('checkpoint')}"
        + (f", top-1 accuracy {100 * acc:.1f}%" if np.isfinite(acc) else "")
        + f"; sampling {info.get('sampling')}; removed frames/cells replaced by their "
        f"{info.get('baseline')} baseline.",
        "",
    ]
    notes = {
        "Localization": "mAP and pointing / energy in %; spatial mAP: ACT frame-mAP on the sampled "
        "frames and video-mAP; temporal mAP: THUMOS14 protocol; paper threshold 0.5, and the best "
        f"threshold of a sweep (an oracle chosen on these videos) for mAP at IoU {sweep_iou:g}.",
        "Faithfulness": "area under the target's probability as frames (or feature cells) are "
        "removed (deletion: lower is better) or added (insertion: higher is better); "
        "'random order' is the reference to beat.",
        "Sanity": "Spearman rank correlation between the trained model's maps and the maps after "
        "re-initialising the classifier only, and every layer (cascading, top to bottom): "
        "a map that keeps a high correlation does not depend on what the model learned.",
        "Cost": "seconds of computation per clip for each method (the backbone's features are "
        "computed once per clip and shared).",
    }
    for group, cols in _GROUPS.items():
        present = [c for c in cols if any(np.isfinite(rows[m].get(c, np.nan)) for m in rows)]
        if not present:
            continue
        lines.append(f"**{group}**: {notes[group]}")
        lines.append("")
        lines.append("| method | " + " | ".join(TABLE_COLUMNS[c][0] for c in present) + " |")
        lines.append("|---" + "|---:" * len(present) + "|")
        row_names = list(methods) + ([RANDOM_ROW] if group == "Faithfulness" else [])
        for m in row_names:
            r = rows[m]
            cells = [
                _cell(
                    r.get(c),
                    TABLE_COLUMNS[c][1],
                    r.get(f"{c}_value") if c.startswith("best_thr") else None,
                )
                for c in present
            ]
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _write_tables(
    tmp: Path, rows, methods, markdown, map_rows, sweep_rows, curves, sanity_rows, info
) -> None:
    import pandas as pd

    cols = list(TABLE_COLUMNS) + ["best_thr_frame_value", "best_thr_temporal_value"]
    table = pd.DataFrame(
        [{"method": m, **{c: rows[m].get(c, np.nan) for c in cols}} for m in [*methods, RANDOM_ROW]]
    )
    table.to_csv(tmp / "table.csv", index=False, float_format="%.6g")
    (tmp / "table.md").write_text(markdown + "\n", encoding="utf-8")
    pd.DataFrame(map_rows, columns=["method", "metric", "protocol", "threshold", "mAP"]).to_csv(
        tmp / "map.csv", index=False, float_format="%.6g"
    )
    pd.DataFrame(sweep_rows, columns=["method", "metric", "binarisation_threshold", "mAP"]).to_csv(
        tmp / "sweep.csv", index=False, float_format="%.6g"
    )
    crow = [
        (m, kind, float(x), float(y), float(cv.auc))
        for m, per in curves.items()
        for kind, cv in per.items()
        for x, y in zip(cv.fractions, cv.scores, strict=True)
    ]
    pd.DataFrame(crow, columns=["method", "curve", "fraction", "probability", "auc"]).to_csv(
        tmp / "curves.csv", index=False, float_format="%.6g"
    )
    pd.DataFrame(
        sanity_rows, columns=["method", "stage", "rho_mask", "rho_importance", "clips"]
    ).to_csv(tmp / "sanity.csv", index=False, float_format="%.6g")
    summary = {
        "info": dict(info),
        "table": {
            m: {k: (None if not np.isfinite(v) else float(v)) for k, v in r.items()}
            for m, r in rows.items()
        },
    }
    (tmp / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")


# --------------------------------------------------------------------------------- figures
_CURVE_TITLES = {
    "deletion_frames": "deletion over frames",
    "insertion_frames": "insertion over frames",
    "deletion_cells": "deletion over feature cells",
    "insertion_cells": "insertion over feature cells",
}


def _plot_curve_panel(ax, curves: Mapping[str, Mapping[str, object]], kind: str):
    """One panel of deletion / insertion curves, one line per method (random dashed).
    Returns ``(fig, ax)``."""
    for m, per in curves.items():
        if kind not in per:
            continue
        cv = per[kind]
        style = dict(ls="--", color="gray") if m == RANDOM_ROW else {}
        ax.plot(cv.fractions, cv.scores, label=f"{m} ({cv.auc:.3f})", lw=1.4, **style)
    ax.set_title(_CURVE_TITLES[kind], fontsize=9)
    ax.set_xlabel(
        "fraction " + ("removed" if kind.startswith("deletion") else "present"), fontsize=8
    )
    ax.set_ylabel("probability of the class", fontsize=8)
    ax.set_xlim(0, 1)
    ax.legend(fontsize=7, frameon=False)
    return ax.figure, ax


def _plot_sanity_panel(ax, sanity_rows: Sequence[Mapping], field: str):
    """Rank correlation against the randomisation stage, one line per method. Returns
    ``(fig, ax)``."""
    stages = list(dict.fromkeys(r["stage"] for r in sanity_rows))
    for m in dict.fromkeys(r["method"] for r in sanity_rows):
        ys = [
            next(r[field] for r in sanity_rows if r["method"] == m and r["stage"] == s)
            for s in stages
        ]
        ax.plot(range(len(stages)), ys, marker="o", ms=3, lw=1.4, label=m)
    ax.set_xticks(range(len(stages)))
    ax.set_xticklabels(stages, rotation=40, ha="right", fontsize=7)
    ax.axhline(0, color="gray", lw=0.6)
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel(
        "Spearman rho with trained " + ("mask" if field == "rho_mask" else "importance"), fontsize=8
    )
    ax.set_title("cascading randomisation (re-initialised up to)", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    return ax.figure, ax


def _pick_frames(out: AttentionOutput, boxes: list[np.ndarray], num: int = 6) -> list[int]:
    inside = [t for t, b in enumerate(boxes) if len(b)]
    outside = [t for t, b in enumerate(boxes) if not len(b)]
    pick: list[int] = []
    if inside:
        k = min(len(inside), num - min(2, len(outside)))
        pick += [inside[i] for i in np.linspace(0, len(inside) - 1, k).round().astype(int)]
        before = [t for t in outside if t < inside[0]]
        after = [t for t in outside if t > inside[-1]]
        if before:
            pick.append(before[len(before) // 2])
        if after and len(pick) < num:
            pick.append(after[len(after) // 2])
    rest = [t for t in np.linspace(0, out.num_frames - 1, num).round().astype(int) if t not in pick]
    pick += rest[: max(0, num - len(pick))]
    return sorted(set(int(t) for t in pick))[:num]


def _figures(
    tmp: Path, data: CompareData, outs, methods, curves, sanity_rows, params, figure_video
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(9, 6.5))
    for ax, kind in zip(axes.ravel(), _CURVE_TITLES, strict=True):
        _plot_curve_panel(ax, curves, kind)
    fig.tight_layout()
    fig.savefig(tmp / "curves.png", dpi=130)
    plt.close(fig)

    if sanity_rows:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
        _plot_sanity_panel(axes[0], sanity_rows, "rho_mask")
        _plot_sanity_panel(axes[1], sanity_rows, "rho_importance")
        fig.tight_layout()
        fig.savefig(tmp / "sanity.png", dpi=130)
        plt.close(fig)

    keys = [o.video for o in outs[methods[0]]]
    if figure_video is not None and figure_video not in keys:
        raise AttnvizError(f"--figure-video {figure_video!r} is not one of the compared videos")
    key = figure_video
    if key is None:
        for k in keys:
            ann = data.spatial.videos.get(k) if data.spatial is not None else None
            if ann is not None and ann.tubes and len(_segments_of(data.temporal, k)):
                key = k
                break
        key = key or keys[0]
    by = {m: next(o for o in outs[m] if o.video == key) for m in methods}
    _maps_figure(tmp / "maps.png", data, key, by, params)


def _maps_figure(
    path: Path, data: CompareData, key: str, by: Mapping[str, AttentionOutput], params
) -> None:
    import matplotlib.pyplot as plt

    from attnviz.io.video import iter_frames
    from attnviz.localize import mask_to_box
    from attnviz.render import GT_COLOR, PRED_COLOR, draw_boxes, overlay_heatmap

    first = next(iter(by.values()))
    ann = data.spatial.videos.get(key) if data.spatial is not None else None
    boxes = _frame_boxes(ann, first.frame_indices)
    pick = _pick_frames(first, boxes)
    want = sorted(set(int(first.frame_indices[t]) - 1 for t in pick))
    imgs = dict(iter_frames(data.videos[key], want))
    methods = list(by)
    ncol = len(pick)
    fig = plt.figure(figsize=(1.6 * ncol + 1.2, 1.35 * (len(methods) + 1) + 2.0))
    gs = fig.add_gridspec(len(methods) + 2, ncol, height_ratios=[1] * (len(methods) + 1) + [1.4])
    segs = _segments_of(data.temporal, key)
    for j, t in enumerate(pick):
        img = imgs.get(int(first.frame_indices[t]) - 1)
        if img is None:
            continue
        gt_img = draw_boxes(img, boxes[t], color=GT_COLOR) if len(boxes[t]) else img
        ax = fig.add_subplot(gs[0, j])
        ax.imshow(gt_img)
        ax.set_title(f"{first.timestamps[t]:.2f} s", fontsize=7)
        ax.axis("off")
        for i, m in enumerate(methods):
            o = by[m]
            k = o.top_class if params.class_index is None else params.class_index
            vis = overlay_heatmap(img, o.mask[t], alpha=0.5)
            res = mask_to_box(o.mask[t], o.frame_size, params, prob=float(o.scores[k]))
            if res is not None:
                vis = draw_boxes(vis, [res[0]], color=PRED_COLOR)
            ax = fig.add_subplot(gs[i + 1, j])
            ax.imshow(vis)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(m, fontsize=8)
    ax = fig.add_subplot(gs[-1, :])
    for s, e in segs:
        ax.axvspan(s, e, color="tab:blue", alpha=0.15, lw=0)
    for m in methods:
        o = by[m]
        ax.plot(
            o.timestamps,
            normalise_importance(o.frame_importance, params.importance_norm),
            lw=1.3,
            label=m,
        )
    ax.axhline(params.threshold, color="gray", ls="--", lw=0.7)
    ax.set_xlabel("time (s); ground-truth segment shaded", fontsize=8)
    ax.set_ylabel("normalised importance", fontsize=8)
    ax.legend(
        fontsize=7, frameon=False, ncol=len(methods), loc="lower center", bbox_to_anchor=(0.5, 1.0)
    )
    name = first.class_names[first.top_class]
    fig.suptitle(
        f"{key}: predicted {name} ({first.scores[first.top_class]:.2f}); ground truth blue, "
        f"boxes at threshold {params.threshold:g} red",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
