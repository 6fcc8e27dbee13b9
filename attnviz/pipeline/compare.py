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

import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from attnviz.errors import AttnvizError, ParameterError
from attnviz.io.atomic import output_dir
from attnviz.localize import (
    LocalizeParams,
)
from attnviz.pipeline.compare_video import CurveSet
from attnviz.pipeline.scoring import SPATIAL_IOU, TEMPORAL_TIOU, ScoreProtocols
from attnviz.report import markdown_table
from attnviz.types import (
    AttentionOutput,
    SpatialGroundTruth,
    TemporalGroundTruth,
    VideoAnnotation,
)

__all__ = [
    "DEFAULT_METHODS",
    "TABLE_COLUMNS",
    "CompareData",
    "compare_explanations",
    "load_compare_data",
]

DEFAULT_METHODS = ("attention", "gradcam", "occlusion", "ig")
SWEEP = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)

#: column -> (heading, kind): ``pct`` (shown x100), ``auc`` or ``rho`` (3 decimals), ``thr``
#: (best threshold: value), ``sec``.
TABLE_COLUMNS: dict[str, tuple[str, str]] = {
    "top1": ("top-1 accuracy", "pct"),
    "threshold": ("threshold", "thr"),
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
    "Classification": ["top1"],
    "Localization": [
        "threshold", "frame_mAP@0.3", "frame_mAP@0.5", "video_mAP@0.3", "temporal_mAP@0.3",
        "temporal_mAP@0.5", "best_thr_frame", "best_thr_temporal", "pointing", "energy_box",
        "energy_tube", "pointing_temporal", "energy_segment",
    ],
    "Faithfulness": ["deletion_frames", "insertion_frames", "deletion_cells", "insertion_cells"],
    "Sanity": ["rho_mask_top", "rho_mask_all", "rho_importance_top", "rho_importance_all"],
    "Cost": ["seconds_per_clip"],
}  # fmt: skip
RANDOM_ROW = "random order"
#: How the maps are scored: ACT frame-mAP on the sampled frames (the frames the model saw),
#: ACT video-mAP on full tubes, THUMOS14 temporal mAP; only the compared videos.
PROTOCOLS = ScoreProtocols(iou=SPATIAL_IOU, tiou=TEMPORAL_TIOU, sampled_frames=True)


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
    from attnviz.io.splits import read_csv_list
    from attnviz.io.thumos import read_thumos_gt
    from attnviz.io.video import video_files

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
            "{temporal_gt} / {spatial_gt})",
            params=("temporal_gt", "spatial_gt"),
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
        for p in video_files(vid_dir, recursive=True):
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
            raise ParameterError("max_videos", f"must be >= 1, got {max_videos}")
        keys = keys[:max_videos]
    if spatial is not None:
        spatial = spatial.restrict(keys)
        spatial = spatial if spatial.videos else None  # none of the videos: no spatial metrics
    return CompareData(
        videos={k: paths[k] for k in keys},
        labels={k: v for k, v in labels.items() if k in set(keys)},
        temporal=temporal.restrict(keys) if temporal is not None else None,
        spatial=spatial,
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


def _score(outs: list[AttentionOutput], gt, params: LocalizeParams, threshold: float, **kw):
    """The one result ``kw`` asks for (:data:`PROTOCOLS` with ``kw`` changed) at binarisation
    ``threshold``."""
    from attnviz.pipeline.scoring import score_maps

    results = score_maps(outs, gt, params.replace(threshold=threshold), PROTOCOLS.replace(**kw))
    return next(iter(results.values()))


def _map_columns(
    method: str,
    outs: list[AttentionOutput],
    data: CompareData,
    params: LocalizeParams,
    thresholds: Sequence[float],
    sweep_iou: float,
    map_rows: list[tuple],
    sweep_rows: list[tuple],
) -> dict[str, float]:
    """One method's mAP columns of the table (at the paper's threshold, and the best threshold
    of the sweep); appends its rows of ``map.csv`` and ``sweep.csv``. An unset threshold is the
    one the method's maps carry (the attention model's own), else the paper's 0.5."""
    params = params.with_default(outs[0].threshold if outs else None)
    row: dict[str, float] = {"threshold": float(params.threshold)}

    def sweep(metric: str, name: str, gt, **kw) -> None:
        sw = _sweep(
            lambda t: _at(_score(outs, gt, params, t, **kw), sweep_iou),
            thresholds,
            params.threshold,
        )
        row[f"best_thr_{metric}"] = sw.best_threshold
        row[f"best_thr_{metric}_value"] = sw.best_value
        sweep_rows.extend(
            (method, f"{name}@{sweep_iou:g}", t, v)
            for t, v in zip(sw.thresholds, sw.values, strict=True)
        )

    if data.spatial is not None:
        fr = _score(outs, data.spatial, params, params.threshold, video=None)
        vr = _score(outs, data.spatial, params, params.threshold, frame=None)
        row["frame_mAP@0.3"], row["frame_mAP@0.5"] = _at(fr, 0.3), _at(fr, 0.5)
        row["video_mAP@0.3"] = _at(vr, 0.3)
        map_rows += _map_rows(method, fr) + _map_rows(method, vr)
        sweep("frame", "frame-mAP", data.spatial, video=None, iou=(sweep_iou,))
    if data.temporal is not None:
        tr = _score(outs, data.temporal, params, params.threshold)
        row["temporal_mAP@0.3"], row["temporal_mAP@0.5"] = _at(tr, 0.3), _at(tr, 0.5)
        map_rows += _map_rows(method, tr)
        sweep("temporal", "temporal mAP", data.temporal, tiou=(sweep_iou,))
    return row


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
    model: str | None = None,
    weights: str | None = None,
    target_layer: str | None = None,
    resize_whole_frame: bool = False,
    precision: str = "fp32",
) -> dict:
    """Compare explanation methods on a data set with ground truth; write into ``out_dir``
    (all or nothing): ``table.csv`` / ``table.md`` (methods x metrics), ``map.csv`` (every mAP
    at every IoU), ``sweep.csv``, ``curves.csv`` + ``curves.png`` (deletion / insertion),
    ``sanity.csv`` + ``sanity.png``, ``maps.png`` (each method's maps on the same frames),
    ``summary.json``, with ``save_maps`` ``maps/<method>/<video>.npz`` and, with ``html``,
    ``index.html`` (the videos) + ``videos/<key>/index.html`` (:mod:`attnviz.pipeline.page`).

    With ``model`` (a name of :func:`~attnviz.models.video_model.load_video_model`, with
    ``weights``, ``target_layer``, ``resize_whole_frame``, ``precision``) the methods are that
    video classifier's (``gradcam``, ``gradcam++``, ``ig``, ``occlusion``), plus ``attention``:
    the paper model's (``checkpoint``, default the embedded one) on the same sampled frames
    (:mod:`attnviz.pipeline.compare_video` says what else differs). ``weights="none"`` gives
    the random network the data's classes.

    Returns:
        a summary: ``out``, ``videos``, ``methods``, ``accuracy``, ``table`` (rows of numbers)
        and ``markdown``.
    """
    from attnviz.explain import make_explainer, parse_methods
    from attnviz.pipeline.explain import load_model

    params = params or LocalizeParams()
    _check_options(baseline, temporal_steps, spatial_steps, random_orders, sanity_videos, batch)
    if model is not None:
        names = _video_method_names(methods)
    else:
        names = parse_methods(list(methods))
    dataset = load_compare_data(
        data, split=split, temporal_gt=temporal_gt, spatial_gt=spatial_gt, classes=classes,
        max_videos=max_videos,
    )  # fmt: skip
    out_path = Path(out_dir)
    _check_out(out_path)  # fail before the long computation, create nothing yet
    options = {
        "batch": batch,
        "steps": ig_steps,
        "space": ig_space,
        "window": occlusion_window,
        "spatial_window": occlusion_spatial_window,
        "rule": params.importance,
    }
    curve_kw = dict(
        batch=batch, spatial_steps=spatial_steps, temporal_steps=temporal_steps,
        random_orders=random_orders, seed=seed,
    )  # fmt: skip
    if model is None:
        paper, minfo = load_model(checkpoint, device)
        sampling = _Sampling.for_model(minfo, frames, fps, window, stride, baseline)
        explainers = {m: make_explainer(m, paper, **options) for m in names}
        _check_classes(paper.class_names, dataset)
        faith = _Faithfulness(paper, names, **curve_kw)
        run = _explain_dataset(dataset, paper, explainers, params, faith, sampling, quiet=quiet)
        rows, map_rows, sweep_rows = _table_rows(run, dataset, params, thresholds, sweep_iou, faith)
        mean_curves = faith.mean_curves()
        sanity_rows = []
        if sanity_videos > 0:
            sanity_rows = _sanity(
                paper, dataset, names, options, sampling, count=sanity_videos, seed=seed,
                quiet=quiet, trained_maps=run.first_maps,
            )  # fmt: skip
        described = Path(checkpoint).name if checkpoint is not None else "default model"
        clips = faith.clips
    else:
        run, rows, map_rows, sweep_rows, mean_curves, sanity_rows, sampling, described, clips = (
            _compare_video_model(
                dataset,
                names,
                model=model,
                weights=weights,
                target_layer=target_layer,
                resize_whole_frame=resize_whole_frame,
                precision=precision,
                checkpoint=checkpoint,
                device=device,
                frames=frames,
                fps=fps,
                window=window,
                stride=stride,
                baseline=baseline,
                ig_steps=ig_steps,
                occlusion_window=occlusion_window,
                options=options,
                curve_kw=curve_kw,
                params=params,
                thresholds=thresholds,
                sweep_iou=sweep_iou,
                sanity_videos=sanity_videos,
                seed=seed,
                quiet=quiet,
            )  # fmt: skip
        )
    for m, per in mean_curves.items():
        rows.setdefault(m, {}).update({k: cv.auc for k, cv in per.items()})
    for r in _random_rows(rows):
        rows[r]["seconds_per_clip"] = float("nan")
    _add_sanity_columns(rows, names, sanity_rows)

    info = _run_info(dataset, split, described, sampling, run, clips)
    markdown = format_markdown(rows, names, info, sweep_iou=sweep_iou)
    with output_dir(out_path) as tmp:
        _write_tables(
            tmp, rows, names, markdown, map_rows, sweep_rows, mean_curves, sanity_rows, info
        )
        _figures(tmp, dataset, run.outs, names, mean_curves, sanity_rows, params, figure_video)
        if save_maps:
            _save_maps(tmp / "maps", run.outs)
        if html:
            from attnviz.pipeline.page import write_compare_pages

            write_compare_pages(tmp, dataset, run.outs, params=params)
    return {
        "out": str(out_path),
        "videos": len(dataset.videos),
        "methods": names,
        "accuracy": info["accuracy"],
        "table": rows,
        "markdown": markdown,
    }


# --------------------------------------------------------------------------------- video model
def _video_method_names(methods: Sequence[str]) -> list[str]:
    """``attention`` (the paper model's) and the video methods, in the order given."""
    from attnviz.explain.video_methods import VIDEO_METHODS

    names = [m.strip().lower() for m in methods if m.strip()]
    bad = [m for m in names if m != "attention" and m not in VIDEO_METHODS]
    if bad:
        raise AttnvizError(
            f"unknown explanation method {bad[0]!r} for a video model: expected attention, "
            f"{', '.join(VIDEO_METHODS)}"
        )
    if not [m for m in names if m != "attention"]:
        raise AttnvizError(f"give at least one of {', '.join(VIDEO_METHODS)} with a video model")
    return list(dict.fromkeys(names))


def _random_rows(rows: Mapping[str, object]) -> list[str]:
    from attnviz.pipeline.compare_video import PAPER_RANDOM_ROW

    return [r for r in (RANDOM_ROW, PAPER_RANDOM_ROW) if r in rows]


def _compare_video_model(
    dataset: CompareData, names, *, model, weights, target_layer, resize_whole_frame, precision,
    checkpoint, device, frames, fps, window, stride, baseline, ig_steps, occlusion_window,
    options, curve_kw, params, thresholds, sweep_iou, sanity_videos, seed, quiet,
):  # fmt: skip
    """The ``model`` branch of :func:`compare_explanations`: ``(run, rows, map rows, sweep
    rows, mean curves, sanity rows, sampling, model description, clips)``."""
    from attnviz.explain import make_explainer
    from attnviz.explain.video_methods import VideoExplainer, build_video_explainer
    from attnviz.pipeline.compare_video import (
        PAPER_RANDOM_ROW,
        VideoFaithfulness,
        explain_video_dataset,
        video_sanity,
    )
    from attnviz.pipeline.explain import load_model

    if baseline != "blur":
        raise AttnvizError(
            f"a video model's frames and cells are removed by their blurred copies; baseline "
            f"{baseline!r} applies to the paper model only"
        )
    vnames = [m for m in names if m != "attention"]
    data_classes = None
    if weights is not None and str(weights).lower() == "none":
        data_classes = _data_class_names(dataset)
    ex0 = build_video_explainer(
        model, weights=weights, method=vnames[0], target_layer=target_layer,
        resize_whole_frame=resize_whole_frame, checkpoint=checkpoint, device=device,
        precision=precision, class_names=data_classes, batch=options["batch"], steps=ig_steps,
        temporal_window=occlusion_window,
    )  # fmt: skip
    vm = ex0.model
    explainers = {vnames[0]: ex0}
    for m in vnames[1:]:
        explainers[m] = VideoExplainer(
            vm, m, precision=precision, batch=options["batch"], steps=ig_steps,
            temporal_window=occlusion_window,
        )  # fmt: skip
    _check_classes(vm.class_names, dataset)
    sampling = _Sampling(frames or vm.preprocess.clip_len, fps, window, stride, baseline)
    paper = paper_faith = None
    described = f"{vm.name} (weights {vm.weights})"
    if "attention" in names:
        pmodel, _ = load_model(checkpoint, device)
        _check_classes(pmodel.class_names, dataset)
        paper = (pmodel, make_explainer("attention", pmodel, **options))
        paper_faith = _Faithfulness(pmodel, ["attention"], random_row=PAPER_RANDOM_ROW, **curve_kw)
        described += "; attention: " + (
            Path(checkpoint).name if checkpoint is not None else "default model"
        )
    faith = VideoFaithfulness(vnames, random_row=RANDOM_ROW, **curve_kw)
    run = _Run({m: [] for m in names}, {m: {} for m in names}, [], {}, 0.0)
    t_start = time.perf_counter()
    first_clips = explain_video_dataset(
        dataset, explainers, paper, faith, paper_faith, sampling, run, quiet=quiet
    )
    run.seconds = time.perf_counter() - t_start
    for m, outs in run.outs.items():
        keys = [o.video for o in outs]
        for key, o in zip(keys, outs, strict=True):
            ann = dataset.spatial.videos.get(key) if dataset.spatial is not None else None
            boxes = _frame_boxes(ann, o.frame_indices)
            for metric, values in _pointing_energy(
                o, boxes, _segments_of(dataset.temporal, key), params
            ).items():
                run.loc[m].setdefault(metric, []).extend(values)
    rows, map_rows, sweep_rows = _table_rows(run, dataset, params, thresholds, sweep_iou, faith)
    if paper is not None:
        rows["attention"]["seconds_per_clip"] = run.timings.get("attention", 0.0) / max(
            paper_faith.clips, 1
        )
        rows[PAPER_RANDOM_ROW] = {}
    for m, hits in run.top1.items():
        rows[m]["top1"] = float(np.mean(hits))
    mean_curves = faith.mean_curves()
    if paper_faith is not None:
        mean_curves.update(paper_faith.mean_curves())
    sanity_rows = []
    if sanity_videos > 0:
        sanity_rows = video_sanity(explainers, first_clips[:sanity_videos], seed=seed)
        if paper is not None:
            sanity_rows = _sanity(
                paper[0], dataset, ["attention"], options, sampling, count=sanity_videos,
                seed=seed, quiet=quiet,
            ) + sanity_rows  # fmt: skip
    return (
        run, rows, map_rows, sweep_rows, mean_curves, sanity_rows, sampling, described,
        faith.clips,
    )  # fmt: skip


def _data_class_names(data: CompareData) -> tuple[str, ...] | None:
    """The class list of the data's ground truth (temporal first, else spatial)."""
    if data.temporal is not None:
        return tuple(data.temporal.class_names)
    if data.spatial is not None:
        return tuple(data.spatial.labels)
    return None


# --------------------------------------------------------------------------------- steps
def _check_options(baseline, temporal_steps, spatial_steps, random_orders, sanity_videos, batch):
    from attnviz.explain import BASELINES

    if baseline not in BASELINES:
        raise AttnvizError(f"baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
    if temporal_steps is not None and temporal_steps < 1:
        raise AttnvizError(f"temporal_steps must be >= 1, got {temporal_steps}")
    if spatial_steps < 1 or random_orders < 1 or sanity_videos < 0 or batch < 1:
        raise AttnvizError(
            "spatial_steps, random_orders and batch must be >= 1, sanity_videos >= 0"
        )


class _Faithfulness(CurveSet):
    """:class:`~attnviz.pipeline.compare_video.CurveSet` of the paper model's clips;
    :meth:`on_clip` is the ``on_clip`` hook of
    :func:`~attnviz.explain.video.explain_video_methods`."""

    def __init__(
        self, model, methods, *, batch, spatial_steps, temporal_steps, random_orders, seed,
        random_row: str = RANDOM_ROW,
    ):  # fmt: skip
        super().__init__(
            methods, batch=batch, spatial_steps=spatial_steps, temporal_steps=temporal_steps,
            random_orders=random_orders, seed=seed, random_row=random_row,
        )  # fmt: skip
        self.model = model

    def on_clip(self, clip, start, maps) -> None:
        from attnviz.explain import spatial_scorer, temporal_scorer

        self.clips += 1
        ts = temporal_scorer(self.model, clip, batch=self.batch)
        ss = spatial_scorer(self.model, clip, batch=self.batch)
        for m, mp in maps.items():
            self.add_method(m, mp.importance, mp.mask, ts, ss)
        cells = tuple(clip.features.shape[:1]) + clip.grid
        self.add_random((clip.num_frames,), cells, ts, ss)


@dataclass(frozen=True)
class _Sampling:
    """How clips are drawn from each video: ``frames`` uniform samples, or at ``fps`` in
    windows of ``window`` samples every ``stride``; ``baseline`` is the input of a removed
    frame."""

    frames: int
    fps: float | None
    window: int
    stride: int
    baseline: str

    @classmethod
    def for_model(cls, minfo, frames, fps, window, stride, baseline) -> _Sampling:
        """``frames`` default to the clip length the model was trained with, else the
        paper's 25."""
        if frames is None:
            frames = int(((minfo.get("extra") or {}).get("meta") or {}).get("frames", 25))
        if frames < 1:
            raise ParameterError("frames", f"must be >= 1, got {frames}")
        return cls(frames, fps, window, stride, baseline)

    def describe(self) -> str:
        if self.fps is None:
            return f"{self.frames} frames uniform"
        return f"{self.fps:g} fps, windows {self.window}/{self.stride}"


@dataclass
class _Run:
    """What explaining every video gave: the maps of each method, localization scores per
    method and metric (one value per frame / video), correct top-1 predictions, seconds per
    method and in all."""

    outs: dict[str, list[AttentionOutput]]
    loc: dict[str, dict[str, list[float]]]
    correct: list[bool]
    timings: dict[str, float]
    seconds: float
    top1: dict[str, list[bool]] = field(default_factory=dict)
    #: video key -> {method: ClipMaps} of its first clip (what the sanity check starts from)
    first_maps: dict[str, dict] = field(default_factory=dict)


def _explain_dataset(
    data: CompareData, model, explainers, params, faith: _Faithfulness, sampling: _Sampling, *,
    quiet: bool,
) -> _Run:  # fmt: skip
    """Every method's maps of every video (faithfulness curves on the way, through
    ``faith``), and their pointing / energy scores against the ground truth."""
    from tqdm.auto import tqdm

    from attnviz.explain.video import explain_video_methods

    run = _Run({m: [] for m in explainers}, {m: {} for m in explainers}, [], {}, 0.0)
    t_start = time.perf_counter()
    for key, path in tqdm(data.videos.items(), desc="videos", unit="video", disable=quiet):

        def on_clip(clip, start, maps, key=key) -> None:
            faith.on_clip(clip, start, maps)
            run.first_maps.setdefault(key, dict(maps))

        res = explain_video_methods(
            path, model, explainers, frames=sampling.frames, fps=sampling.fps,
            window=sampling.window, stride=sampling.stride, baseline=sampling.baseline, name=key,
            on_clip=on_clip, timings=run.timings, quiet=quiet,
        )  # fmt: skip
        first = next(iter(res.values()))
        if key in data.labels:
            run.correct.append(first.class_names[first.top_class] == data.labels[key])
        ann = data.spatial.videos.get(key) if data.spatial is not None else None
        boxes = _frame_boxes(ann, first.frame_indices)
        segs = _segments_of(data.temporal, key)
        for m, o in res.items():
            run.outs[m].append(o)
            for metric, values in _pointing_energy(o, boxes, segs, params).items():
                run.loc[m].setdefault(metric, []).extend(values)
    run.seconds = time.perf_counter() - t_start
    return run


def _pointing_energy(
    o: AttentionOutput, boxes: list[np.ndarray], segs: np.ndarray, params: LocalizeParams
) -> dict[str, list[float]]:
    """Pointing game and energy of one video's maps inside its ground-truth boxes (per frame
    with a box), tube and segments (per video)."""
    from attnviz.metrics import (
        energy_in_boxes,
        energy_in_segments,
        energy_in_tube,
        pointing_game,
        temporal_pointing_game,
    )

    out: dict[str, list[float]] = {}
    has = [len(b) > 0 for b in boxes]
    if any(has):
        off = o.grid_offset
        out["pointing"] = list(pointing_game(o.mask, o.frame_size, boxes, offset=off)[has])
        out["energy_box"] = list(energy_in_boxes(o.mask, o.frame_size, boxes, offset=off)[has])
        out["energy_tube"] = [energy_in_tube(o.mask, o.frame_size, boxes, offset=off)]
    if len(segs):
        out["pointing_temporal"] = [temporal_pointing_game(o.frame_importance, o.timestamps, segs)]
        out["energy_segment"] = [
            energy_in_segments(o.frame_importance, o.timestamps, segs, norm=params.importance_norm)
        ]
    return out


def _table_rows(run: _Run, data, params, thresholds, sweep_iou, faith: _Faithfulness):
    """``(rows, map_rows, sweep_rows)``: the table's localization and cost columns per method,
    and the rows of ``map.csv`` and ``sweep.csv``."""
    rows: dict[str, dict[str, float]] = {m: {} for m in [*run.outs, RANDOM_ROW]}
    map_rows: list[tuple] = []
    sweep_rows: list[tuple] = []
    for m, outs in run.outs.items():
        row = rows[m]
        row.update(_map_columns(m, outs, data, params, thresholds, sweep_iou, map_rows, sweep_rows))
        for k, v in run.loc[m].items():
            row[k] = _nanmean(v)
        row["seconds_per_clip"] = (run.timings.get(m, 0.0)) / max(faith.clips, 1)
    return rows, map_rows, sweep_rows


def _run_info(data: CompareData, split, described: str, sampling: _Sampling, run: _Run, clips):
    """What the run was (the header of ``table.md`` and ``summary.json``)."""
    return {
        "data": Path(data.source).name,
        "split": split,
        "videos": len(data.videos),
        "clips": clips,
        "checkpoint": described,
        "accuracy": float(np.mean(run.correct)) if run.correct else float("nan"),
        "sampling": sampling.describe(),
        "baseline": sampling.baseline,
        "seconds": run.seconds,
    }


def _add_sanity_columns(rows, names, sanity_rows) -> None:
    """The rank correlations after re-initialising the classifier (the first stage) and every
    layer (the last one)."""
    for m in names:
        sel = [r for r in sanity_rows if r["method"] == m]
        if sel:
            rows[m]["rho_mask_top"] = sel[0]["rho_mask"]
            rows[m]["rho_importance_top"] = sel[0]["rho_importance"]
            rows[m]["rho_mask_all"] = sel[-1]["rho_mask"]
            rows[m]["rho_importance_all"] = sel[-1]["rho_importance"]


def _save_maps(folder: Path, outs: Mapping[str, list[AttentionOutput]]) -> None:
    from attnviz.io.maps import save_attention

    for m, per in outs.items():
        for o in per:
            save_attention(folder / m / f"{o.video.replace('/', '__')}.npz", o)


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


def _first_clip(path: Path, sampling: _Sampling) -> list[np.ndarray]:
    from attnviz.io.video import iter_sampled, sample_uniform

    if sampling.fps is None:
        _, got = sample_uniform(path, sampling.frames)
        return [f for _, f in got]
    out = []
    for _, f in iter_sampled(path, sampling.fps):
        out.append(f)
        if len(out) == sampling.window:
            break
    return out


def _sanity(
    model, data, names, options, sampling: _Sampling, *, count, seed, quiet, trained_maps=None
) -> list[dict]:
    """Mean rank correlation per (method, stage) over the first clip of ``count`` videos.
    ``trained_maps`` (video key -> {method: ClipMaps} of that clip, as the main pass computed
    them with the same model and options) spares computing the trained maps again."""
    from tqdm.auto import tqdm

    from attnviz.explain import cascading_randomization, make_explainer, prepare_clip
    from attnviz.explain.clip import Clip, head_probs
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
        clip_frames = np.stack(_first_clip(data.videos[key], sampling))
        clip = prepare_clip(model, clip_frames, baseline=sampling.baseline)
        known = (trained_maps or {}).get(key, {})
        trained = {
            m: known[m] if m in known else make_explainer(m, model, **options)(clip) for m in names
        }
        backbone_intact = True
        for stage, rmodel in cascading_randomization(model, seed=seed):
            if stage not in stages:
                stages.append(stage)
            backbone_intact = backbone_intact and not stage.startswith("backbone.")
            if backbone_intact:
                # the head's stages leave the backbone as trained: the clip's features (and its
                # baseline's) are the trained model's; only the probabilities change
                probs = head_probs(rmodel, clip.features[None])[0]
                rclip = Clip(clip.features, clip.baseline, probs, clip.target)
            else:
                rclip = prepare_clip(
                    rmodel, clip_frames, baseline=sampling.baseline, target=clip.target
                )
            for m in names:
                maps = make_explainer(m, rmodel, **options)(rclip)
                acc.setdefault((m, stage), []).append(
                    (rho(trained[m].mask, maps.mask), rho(trained[m].importance, maps.importance))
                )
    return sanity_rows(acc, names, stages)


def sanity_rows(acc: Mapping, methods, stages) -> list[dict]:
    """The sanity table's rows from ``acc[(method, stage)] = [(rho_mask, rho_importance), ...]``
    (one pair per clip): the mean correlations over the clips and their number."""
    rows = []
    for m in methods:
        for stage in stages:
            vals = np.asarray(acc.get((m, stage), []), dtype=np.float64).reshape(-1, 2)
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
    # with --model: "<video model>; attention: <paper model>"; the accuracy is the first's
    model, _, attention = str(info.get("checkpoint")).partition("; attention: ")
    lines = [
        f"Explanations compared on {info.get('videos')} videos ({info.get('clips')} clips) of "
        f"`{info.get('data')}` ({info.get('split')} split), model: {model}"
        + (f", top-1 accuracy {100 * acc:.1f}%" if np.isfinite(acc) else "")
        + (f"; attention: {attention}" if attention else "")
        + f"; sampling {info.get('sampling')}; removed frames/cells replaced by their "
        f"{info.get('baseline')} baseline.",
        "",
    ]
    notes = {
        "Classification": "top-1 accuracy (%) on the compared videos of the model behind each "
        "method.",
        "Localization": "mAP and pointing / energy in %; spatial mAP: ACT frame-mAP on the sampled "
        "frames and video-mAP; temporal mAP: THUMOS14 protocol; at the binarisation threshold of "
        "each method (the attention model's own, else the paper's 0.5), and at the best "
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
        row_names = list(methods) + (_random_rows(rows) if group == "Faithfulness" else [])
        cells = [
            [
                m,
                *(
                    _cell(
                        rows[m].get(c),
                        TABLE_COLUMNS[c][1],
                        rows[m].get(f"{c}_value") if c.startswith("best_thr") else None,
                    )
                    for c in present
                ),
            ]
            for m in row_names
        ]
        head = ["method", *(TABLE_COLUMNS[c][0] for c in present)]
        lines.append(markdown_table(head, cells))
        lines.append("")
    return "\n".join(lines)


def _write_tables(
    tmp: Path, rows, methods, markdown, map_rows, sweep_rows, curves, sanity_rows, info
) -> None:
    import pandas as pd

    cols = list(TABLE_COLUMNS) + ["best_thr_frame_value", "best_thr_temporal_value"]
    table = pd.DataFrame(
        [
            {"method": m, **{c: rows[m].get(c, np.nan) for c in cols}}
            for m in [*methods, *_random_rows(rows)]
        ]
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
def _save(fig, path: Path, dpi: int) -> None:
    import matplotlib.pyplot as plt

    try:
        fig.savefig(path, dpi=dpi)
    finally:
        plt.close(fig)


def _figures(
    tmp: Path, data: CompareData, outs, methods, curves, sanity_rows, params, figure_video
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from attnviz.render.compare import plot_curves, plot_sanity

    _save(plot_curves(curves, random_row=_random_rows(curves))[0], tmp / "curves.png", 130)
    if sanity_rows:
        _save(plot_sanity(sanity_rows)[0], tmp / "sanity.png", 130)
    keys = [o.video for o in outs[methods[0]]]
    if figure_video is not None and figure_video not in keys:
        raise ParameterError("figure_video", f"{figure_video!r} is not one of the compared videos")
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
    from attnviz.io.video import iter_frames
    from attnviz.render.compare import pick_frames, plot_method_maps

    first = next(iter(by.values()))
    ann = data.spatial.videos.get(key) if data.spatial is not None else None
    boxes = _frame_boxes(ann, first.frame_indices)
    pick = pick_frames(boxes, first.num_frames)
    want = sorted(set(int(first.frame_indices[t]) - 1 for t in pick))
    imgs = dict(iter_frames(data.videos[key], want))
    images = {t: imgs.get(int(first.frame_indices[t]) - 1) for t in pick}
    fig, _ = plot_method_maps(
        by, images, boxes, _segments_of(data.temporal, key), params, title_video=key
    )
    _save(fig, path, 100)
