"""The paper's figures and tables from attnviz's own outputs (``attnviz figures`` / ``report``).

Every step is a function a notebook cell can call alone:

* :func:`load_maps` -- ``maps.npz`` files (one, several, or a folder of them) -> records;
* :func:`read_ground_truth` -- THUMOS14-style (temporal) or UCF101-24-style (spatial) ground
  truth, told apart by layout;
* :func:`load_frames` -- the sampled frames of a video that a figure draws;
* :func:`gt_boxes_for` / :func:`gt_segments_for` -- one video's ground truth, as the figure
  functions take it;
* :func:`evaluate_maps` -- localize the maps with :mod:`attnviz.localize` and score them with
  :mod:`attnviz.evaluate`, keeping precision-recall curves;
* :func:`pr_curves` -- the precision-recall curve of each class at one threshold;
* :func:`write_figures` / :func:`write_report` -- the two commands: PNG and PDF of every figure,
  the table layouts as Markdown, LaTeX, text and CSV.

The drawing itself is :mod:`attnviz.render.figures` and :mod:`attnviz.render.tables`.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from attnviz.errors import AttnvizError, InputError, ParameterError
from attnviz.io.video import VIDEO_SUFFIXES, find_video, video_files
from attnviz.localize import LocalizeParams
from attnviz.pipeline.scoring import (
    SPATIAL_IOU,
    TEMPORAL_TIOU,
    ScoreProtocols,
    match_video_key,
    score_maps,
    temporal_pr,
)
from attnviz.types import AttentionOutput, EvalResult, SpatialGroundTruth, TemporalGroundTruth

__all__ = [
    "evaluate_maps",
    "explain_videos",
    "find_video",
    "gt_boxes_for",
    "gt_segments_for",
    "load_frames",
    "load_maps",
    "pr_curves",
    "read_eval",
    "read_ground_truth",
    "write_figures",
    "write_report",
]


# --------------------------------------------------------------------------------------------
# inputs


def load_maps(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]):
    """Read attention maps: one ``.npz`` file, several, or folders searched recursively for
    ``*.npz``. Returns ``list[AttentionOutput]`` in path order (folders sorted by path)."""
    from attnviz.io.maps import load_attention

    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    files: list[Path] = []
    for p in map(Path, items):
        if p.is_dir():
            found = sorted(p.rglob("*.npz"))
            if not found:
                raise AttnvizError(f"{p}: no .npz maps file in this folder")
            files += found
        else:
            files.append(p)
    if not files:
        raise AttnvizError("no maps file given")
    return [load_attention(f) for f in files]


def read_ground_truth(
    path: str | os.PathLike[str],
    *,
    subset: str = "test",
    classes: str | os.PathLike[str] | None = None,
) -> TemporalGroundTruth | SpatialGroundTruth:
    """Temporal or spatial ground truth, told apart by layout: a folder of
    ``<Class>_<subset>.txt`` files, a ``.csv``, or a JSON with a ``database`` entry is temporal
    (:func:`attnviz.io.thumos.read_thumos_gt`; ``classes`` is its ``id name`` class list, e.g.
    the ``classes.txt`` of ``attnviz synth``); ``.pkl``, ``.mat``, ``.zip`` and other JSON are
    spatial (:func:`attnviz.io.spatial_gt.read_spatial_gt`)."""
    from attnviz.io.spatial_gt import read_spatial_gt
    from attnviz.io.thumos import read_thumos_gt

    p = Path(path)
    if not p.exists():
        raise AttnvizError(f"{p}: ground truth not found")
    suffixes = [s.lower() for s in p.suffixes if s.lower() != ".gz"]
    ext = suffixes[-1] if suffixes else ""
    temporal = p.is_dir() or ext == ".csv"
    if ext == ".json":
        from attnviz.io.textfiles import read_text

        try:
            data = json.loads(read_text(p))
        except json.JSONDecodeError as exc:
            raise InputError(f"{p}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
        temporal = isinstance(data, dict) and "database" in data
    if temporal:
        return read_thumos_gt(p, subset=subset, classes=classes)
    return read_spatial_gt(p)


def load_frames(
    video: str | os.PathLike[str],
    out: AttentionOutput,
    *,
    frame_numbers: Sequence[int] | None = None,
    max_height: int | None = 360,
) -> dict[int, np.ndarray]:
    """The sampled frames of ``video`` that ``out`` was computed on.

    Args:
        video: the video file, or a folder holding ``<out.video>.<ext>`` (see
            :func:`find_video`).
        out: its attention (``out.frame_indices`` are 1-based source frame numbers).
        frame_numbers: the 1-based frame numbers wanted (default: all of ``out.frame_indices``;
            a figure of 8 frames only needs those, see
            :func:`attnviz.render.figures.select_frames`).
        max_height: frames taller than this are scaled down (figures only need thumbnails; the
            figure functions rescale boxes to the image size). ``None`` keeps the source size.

    Returns:
        ``{frame number: ndarray[H, W, 3] uint8 RGB}`` (the mapping the figure functions take).
    """
    import cv2

    from attnviz.io.video import iter_frames

    if Path(video).is_dir():
        found = find_video(out.video, video)
        if found is None:
            raise AttnvizError(f"{video}: no video file named {out.video!r} in this folder")
        video = found
    wanted = np.asarray(out.frame_indices if frame_numbers is None else frame_numbers, np.int64)
    uniq = np.unique(wanted)
    if len(uniq) and uniq[0] < 1:
        raise ValueError(f"frame numbers are 1-based, got {int(uniq[0])}")
    got: dict[int, np.ndarray] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        for i0, rgb in iter_frames(video, (uniq - 1).tolist()):
            h = rgb.shape[0]
            if max_height is not None and h > max_height:
                w = max(1, round(rgb.shape[1] * max_height / h))
                rgb = cv2.resize(rgb, (w, max_height), interpolation=cv2.INTER_AREA)
            got[int(i0) + 1] = rgb
    missing = [int(f) for f in uniq if int(f) not in got]
    if missing:
        raise AttnvizError(
            f"{video}: frames {missing[:5]} of the maps could not be decoded (is it the video the "
            f"maps of {out.video!r} were computed on?)"
        )
    return got


def gt_boxes_for(gt: SpatialGroundTruth, video: str) -> dict[int, np.ndarray]:
    """Ground-truth boxes of ``video`` by 1-based frame number (``ndarray[k, 4]``, ``x1, y1, x2,
    y2`` pixels); empty when the video is not annotated."""
    key = match_video_key(list(gt.videos), video)
    if key is None:
        return {}
    by_frame: dict[int, list[np.ndarray]] = {}
    for tube in gt.videos[key].tubes:
        for row in np.asarray(tube.boxes, dtype=np.float64):
            by_frame.setdefault(int(row[0]), []).append(row[1:5])
    return {f: np.stack(b) for f, b in sorted(by_frame.items())}


def gt_segments_for(gt: TemporalGroundTruth, video: str) -> list[tuple[float, float]]:
    """Ground-truth ``(start, end)`` seconds of ``video`` (every class), in file order."""
    names = [str(v) for v in gt.video]
    key = match_video_key(sorted(set(names)), video)
    if key is None:
        return []
    return [(float(gt.start[i]), float(gt.end[i])) for i, v in enumerate(names) if v == key]


def read_evals(path: str | os.PathLike[str]) -> list[EvalResult]:
    """Every :class:`~attnviz.types.EvalResult` of an evaluation JSON: one, or one per protocol
    for the ``--compare`` JSON of ``eval-thumos`` / ``eval-ucf24``."""
    from attnviz.report import results_from_json

    return _read_eval_json(path, results_from_json)


def _read_eval_json(path: str | os.PathLike[str], parse):
    """``parse`` of the JSON in ``path``; a missing file, bad JSON or a bad record names it."""
    from attnviz.io.textfiles import read_text

    p = Path(path)
    if not p.is_file():
        raise AttnvizError(f"{p}: evaluation file not found")
    try:
        data = json.loads(read_text(p))
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    try:
        return parse(data)
    except InputError as exc:
        raise InputError(f"{p}: {exc}") from None


def _row_name(path: str | os.PathLike[str]) -> str:
    """A table row's default name: the file stem, or for the generic ``eval_<metric>.json``
    that ``attnviz figures`` writes, the name of its folder (the run)."""
    p = Path(path)
    if re.fullmatch(r"eval_(temporal|frame|video)", p.stem):
        return p.resolve().parent.name or p.stem
    return p.stem


def read_eval(path: str | os.PathLike[str]) -> EvalResult:
    """An :class:`~attnviz.types.EvalResult` from the JSON that ``eval-thumos`` /
    ``eval-ucf24 --format json`` (or :func:`write_figures`) write."""
    from attnviz.report import result_from_dict

    return _read_eval_json(path, result_from_dict)


def explain_videos(
    videos: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    frames: int = 25,
    limit: int | None = None,
    quiet: bool = True,
) -> list[AttentionOutput]:
    """Run the model over videos (a list of files, or a folder: its video files, or those of
    its ``videos/`` subfolder, sorted by name) with :func:`attnviz.pipeline.explain.explain_video`
    (``frames`` uniformly sampled frames, the paper's n = 25). ``limit`` keeps the first ones."""
    from attnviz.pipeline.explain import explain_video, load_model

    if isinstance(videos, str | os.PathLike) and Path(videos).is_dir():
        root = Path(videos)
        if (root / "videos").is_dir():
            root = root / "videos"
        files = video_files(root)
        if not files:
            raise AttnvizError(f"{root}: no video file ({', '.join(VIDEO_SUFFIXES)})")
    else:
        files = [Path(videos)] if isinstance(videos, str | os.PathLike) else list(map(Path, videos))
    if limit is not None:
        files = files[:limit]
    model, _ = load_model(checkpoint, "cpu")
    return [explain_video(f, model=model, frames=frames, quiet=quiet) for f in files]


# --------------------------------------------------------------------------------------------
# evaluation with precision-recall curves (the scoring itself: attnviz.pipeline.scoring)


def evaluate_maps(
    maps: Sequence[AttentionOutput],
    *,
    temporal_gt: TemporalGroundTruth | None = None,
    spatial_gt: SpatialGroundTruth | None = None,
    params: LocalizeParams | None = None,
    temporal_protocol: str = "thumos14",
    frame_protocol: str = "act",
    video_protocol: str = "act",
    tiou: Sequence[float] = TEMPORAL_TIOU,
    iou: Sequence[float] = SPATIAL_IOU,
    only_covered: bool = True,
) -> dict[str, EvalResult]:
    """:func:`attnviz.pipeline.scoring.score_maps` with precision-recall curves, the figures'
    evaluation: ``{"temporal" | "frame" | "video": EvalResult}``; ``extra["pr"]`` holds, for
    the temporal and frame results, ``{class: [(recall [D], precision [D]) per threshold]}``.

    Args:
        maps: attention of each video (video names matched to ground-truth keys by
            :func:`~attnviz.pipeline.scoring.match_video_key`, classes by name).
        temporal_gt: gives the ``temporal`` result (segments, THUMOS14 protocols).
        spatial_gt: gives ``frame`` (per-frame boxes) and ``video`` (tubes) results.
        params: localization parameters (default: the paper's).
        only_covered: score only the videos that have maps; a warning in each result says so.
    """
    protocols = ScoreProtocols(
        temporal=temporal_protocol, frame=frame_protocol, video=video_protocol,
        tiou=tuple(tiou), iou=tuple(iou), only_covered=only_covered, pr=True,
    )  # fmt: skip
    return score_maps(maps, [temporal_gt, spatial_gt], params, protocols)


def pr_curves(result: EvalResult, threshold: float) -> dict:
    """Precision-recall curve of each class of ``result`` at ``threshold``.

    Reads ``result.extra["pr"]`` (``{class: [(recall, precision) per threshold]}``, as
    :func:`evaluate_maps` stores it) or, for THUMOS14 results computed with
    ``keep_matches=True``, ``result.extra["matches"]``.

    Returns:
        ``{class name: PRCurve}`` (:class:`attnviz.render.figures.PRCurve`), with the AP the
        protocol gives.
    """
    from attnviz.render.figures import PRCurve

    matches = [j for j, t in enumerate(result.thresholds) if abs(float(t) - threshold) < 1e-9]
    if not matches:
        raise AttnvizError(
            f"threshold {threshold:g} was not evaluated (thresholds: "
            f"{', '.join(f'{t:g}' for t in result.thresholds)})"
        )
    j = matches[0]
    if "pr" in result.extra:
        pr = result.extra["pr"]
    elif "matches" in result.extra:
        pr = temporal_pr(result)
    else:
        raise AttnvizError(
            f"this {result.metric} result ({result.protocol}) holds no precision-recall data: "
            "evaluate with attnviz.pipeline.figures.evaluate_maps (or keep_matches=True)"
        )
    out = {}
    for k, name in enumerate(result.class_names):
        if name not in pr:
            continue
        rec, prec = pr[name][j]
        ap = float("nan") if name in result.not_scored else float(result.ap[k, j])
        out[name] = PRCurve(np.asarray(rec), np.asarray(prec), ap)
    return out


# --------------------------------------------------------------------------------------------
# the two commands


def _save(fig, stem: Path, formats: Sequence[str]) -> list[str]:
    import matplotlib.pyplot as plt

    written = []
    try:
        for ext in formats:
            path = stem.with_name(f"{stem.name}.{ext}")
            fig.savefig(path, format=ext)
            written.append(path.name)
    finally:
        plt.close(fig)
    return written


def _safe_name(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return keep.strip("._") or "video"


def write_figures(
    maps: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | Sequence[AttentionOutput],
    out_dir: str | os.PathLike[str],
    *,
    gt: Sequence[str | os.PathLike[str]] = (),
    classes: str | os.PathLike[str] | None = None,
    subset: str = "test",
    video: str | os.PathLike[str] | None = None,
    videos: str | os.PathLike[str] | None = None,
    examples: int | Sequence[str] = 3,
    num: int = 8,
    pr_threshold: float | None = None,
    formats: Sequence[str] = ("png", "pdf"),
    params: LocalizeParams | None = None,
    quiet: bool = True,
) -> dict:
    """Write every figure of the paper for ``maps`` into ``out_dir`` (all files or none).

    For each example video: ``fig4_<video>`` (frames, spatial heatmaps, temporal gray levels),
    ``fig5_<video>`` (predicted boxes red, ground-truth boxes blue when a spatial ground truth is
    given), ``fig6_<video>`` (frames shaded by temporal weight, attention curve with ground-truth
    segments). With ground truth, over all maps: ``pr_<metric>`` (precision-recall per class at
    ``pr_threshold``), ``map_temporal`` / ``map_spatial`` (mAP against threshold) and
    ``eval_<metric>.json`` (the ``--format json`` layout, for ``attnviz report``).

    Args:
        maps: ``maps.npz`` files or folders of them (see :func:`load_maps`), or records.
        gt: ground-truth files (see :func:`read_ground_truth`), temporal and/or spatial.
        classes: ``id name`` class list of a temporal ground truth (``classes.txt`` of
            ``attnviz synth``; default THUMOS14's).
        subset: the temporal ground truth's subset (``test``, ``val``, ...).
        video: the video of a single maps file; ``videos``: a folder holding ``<video>.<ext>``
            for each maps file (the ``videos/`` subfolder of ``attnviz synth`` output works too).
            Without either, frames are drawn as gray canvases.
        examples: how many videos get Figs. 4-6 (the first, by name), or their names.
        num: frames per figure row.
        pr_threshold: threshold of the precision-recall curves (default 0.3 temporal, 0.1
            spatial: columns of the paper's Tables 6 and 5).
        formats: file formats (``png``, ``pdf``, ``svg``).
        params: localization parameters (default: the paper's).

    Returns:
        ``{"out": str, "files": [names], "results": {metric: EvalResult}, "notes": [str]}``.
    """
    from attnviz.io.atomic import output_dir
    from attnviz.render.figures import paper_style

    bad = [f for f in formats if f not in ("png", "pdf", "svg")]
    if bad or not formats:
        raise ParameterError("formats", f"takes png, pdf or svg, got {', '.join(bad) or 'nothing'}")
    params = params or LocalizeParams()
    records = _records(maps)
    if video is not None and len(records) != 1:
        raise ParameterError(
            "video",
            f"goes with one maps file, got {len(records)}: use {{videos}} (a folder)",
            others=("videos",),
        )
    temporal_gt, spatial_gt = _read_ground_truths(gt, subset, classes)
    chosen = _examples(records, examples)
    notes: list[str] = []
    out_path = Path(out_dir)
    files: list[str] = []
    with output_dir(out_path) as tmp, paper_style():
        results = (
            evaluate_maps(records, temporal_gt=temporal_gt, spatial_gt=spatial_gt, params=params)
            if (temporal_gt is not None or spatial_gt is not None)
            else {}
        )
        for o in chosen:
            src = Path(video) if video is not None else None
            if src is None and videos is not None:
                src = find_video(o.video, videos)
                if src is None:
                    notes.append(f"{o.video}: no video file in {videos}; frames drawn gray")
            files += _example_figures(tmp, o, src, spatial_gt, temporal_gt, params, num, formats)
        if video is None and videos is None and chosen:
            notes.append("no video or videos folder given: frames drawn as gray canvases")
        files += _result_figures(tmp, results, pr_threshold, formats)
    for r in results.values():
        notes += [f"[{r.metric}] {w}" for w in r.warnings]
    return {"out": str(out_path), "files": files, "results": results, "notes": notes}


def _records(maps) -> list[AttentionOutput]:
    """Records as given, or read by :func:`load_maps`; sorted by video."""
    if isinstance(maps, Sequence) and maps and isinstance(maps[0], AttentionOutput):
        records = list(maps)
    else:
        records = load_maps(maps)  # type: ignore[arg-type]
    records.sort(key=lambda o: o.video)
    return records


def _read_ground_truths(gt, subset, classes):
    """``(temporal, spatial)`` ground truth of the files ``gt`` (the last of each kind)."""
    temporal_gt = spatial_gt = None
    for g in gt:
        truth = read_ground_truth(g, subset=subset, classes=classes)
        if isinstance(truth, TemporalGroundTruth):
            temporal_gt = truth
        else:
            spatial_gt = truth
    return temporal_gt, spatial_gt


def _examples(records: list[AttentionOutput], examples: int | Sequence[str]):
    """The first ``examples`` records, or those of the videos named."""
    if isinstance(examples, int):
        return records[: max(0, examples)]
    by_name = {o.video: o for o in records}
    unknown = [n for n in examples if n not in by_name]
    if unknown:
        raise ParameterError("examples", f"{unknown[0]!r}: no maps for this video")
    return [by_name[n] for n in examples]


def _example_figures(
    tmp: Path, o: AttentionOutput, src, spatial_gt, temporal_gt, params, num, formats
) -> list[str]:
    """Figs. 4, 5 and 6 of one video (frames from ``src``, gray canvases without it)."""
    from attnviz.localize import boxes_from_attention
    from attnviz.render.figures import (
        plot_localization,
        plot_spatiotemporal,
        plot_temporal_attention,
        select_box_frames,
        select_frames,
    )

    name = _safe_name(o.video)
    pred = boxes_from_attention(o, params)
    gtb = gt_boxes_for(spatial_gt, o.video) if spatial_gt is not None else None
    segs = gt_segments_for(temporal_gt, o.video) if temporal_gt is not None else []
    frames = None
    if src is not None:
        sel = select_frames(o, num)
        box_sel = select_box_frames(o, pred_boxes=pred, gt_boxes=gtb, num=min(num, 5))
        wanted = sorted({int(o.frame_indices[t]) for t in (*sel, *box_sel)})
        frames = load_frames(src, o, frame_numbers=wanted)
    files = []
    fig, _ = plot_spatiotemporal(o, frames, num=num)
    files += _save(fig, tmp / f"fig4_{name}", formats)
    fig, _ = plot_localization(o, frames, pred_boxes=pred, gt_boxes=gtb, num=min(num, 5))
    files += _save(fig, tmp / f"fig5_{name}", formats)
    fig, _ = plot_temporal_attention(
        o, frames, gt_segments=segs, num=num, threshold=params.for_output(o).threshold,
        normalise=params.importance_norm,
    )  # fmt: skip
    files += _save(fig, tmp / f"fig6_{name}", formats)
    return files


def _result_figures(tmp: Path, results, pr_threshold, formats) -> list[str]:
    """Precision-recall curves, mAP against threshold and ``eval_<metric>.json`` of every
    result."""
    from attnviz.io.atomic import atomic_write_text
    from attnviz.render.figures import plot_map_vs_threshold, plot_pr_curves

    files = []
    for metric, r in results.items():
        if "pr" in r.extra:
            thr = pr_threshold
            if thr is None:
                thr = 0.3 if metric == "temporal" else 0.1
            if not any(abs(t - thr) < 1e-9 for t in r.thresholds):
                raise ParameterError(
                    "pr_threshold",
                    f"{thr:g} is not one of the evaluated thresholds "
                    f"{', '.join(f'{t:g}' for t in r.thresholds)}",
                )
            sym = "tIoU" if metric == "temporal" else "IoU"
            label = "temporal" if metric == "temporal" else f"{metric}-mAP"
            fig, _ = plot_pr_curves(
                pr_curves(r, thr), title=f"{label}, {r.protocol}, {sym} = {thr:g}"
            )
            files += _save(fig, tmp / f"pr_{metric}", formats)
        atomic_write_text(tmp / f"eval_{metric}.json", json.dumps(r.to_dict(), indent=2) + "\n")
        files.append(f"eval_{metric}.json")
    if "temporal" in results:
        fig, _ = plot_map_vs_threshold({"attention": results["temporal"]})
        files += _save(fig, tmp / "map_temporal", formats)
    spatial = {f"{m}-mAP": results[m] for m in ("frame", "video") if m in results}
    if spatial:
        fig, _ = plot_map_vs_threshold(spatial, title="Spatial localization (attention)")
        files += _save(fig, tmp / "map_spatial", formats)
    return files


def write_report(
    evals: Sequence[str | os.PathLike[str] | tuple[str, str | os.PathLike[str]]]
    | Mapping[str, str | os.PathLike[str]],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    paper: bool = False,
    decimals: int = 1,
) -> dict:
    """The table layouts of evaluation results (``--format json`` files of ``eval-thumos`` /
    ``eval-ucf24``, or ``eval_<metric>.json`` of :func:`write_figures`).

    Results of one metric form one table, one row per result (``evals`` as ``{method: path}``
    or ``(method, path)`` pairs, so that one method can have a row in several tables; a plain
    path names its row by the file stem, or for ``eval_<metric>.json`` by its folder; a
    ``--compare`` JSON gives one row per protocol, ``method (protocol)``): temporal results the
    paper's Table 6 (``table6``),
    frame-mAP and video-mAP results Table 5 (``table5_frame``, ``table5_video``). Each table is
    written as ``.md``, ``.tex`` and ``.csv``; each result also gets its per-class layout of
    :mod:`attnviz.report` as ``<method>_<metric>.txt`` and ``.md``.

    Args:
        paper: add the paper's published rows to each table.
        out_dir: where to write (all files or none); ``None`` writes nothing.

    Returns:
        ``{"tables": {name: DataFrame}, "markdown": {name: str}, "latex": {name: str},
        "files": [names]}``.
    """
    from attnviz.io.atomic import atomic_write_text, output_dir
    from attnviz.render.tables import (
        TABLE5_IOU,
        TABLE6_TIOU,
        localization_table,
        table_latex,
        table_markdown,
    )
    from attnviz.report import format_result

    if isinstance(evals, Mapping):
        pairs = [(str(k), v) for k, v in evals.items()]
    else:
        pairs = [
            (str(e[0]), e[1]) if isinstance(e, tuple) else (_row_name(e), e)
            for e in evals  # type: ignore[union-attr]
        ]
    if not pairs:
        raise ParameterError("evals", "names no evaluation file (results.json)")
    loaded = []
    for name, p in pairs:
        rs = read_evals(p)
        loaded += [(name if len(rs) == 1 else f"{name} ({r.protocol})", r) for r in rs]
    groups: dict[str, dict[str, EvalResult]] = {}
    for name, r in loaded:
        table = "table6" if r.metric == "temporal" else f"table5_{r.metric}"
        if name in groups.get(table, {}):
            raise AttnvizError(
                f"two {r.metric} results named {name!r} (one table row each): name them NAME=PATH"
            )
        groups.setdefault(table, {})[name] = r
    tables, md, tex = {}, {}, {}
    # the paper's Table 5 does not say whether it is frame- or video-mAP: its rows go once,
    # under the first spatial table (frame-mAP when there is one), with that note
    spatial = [t for t in ("table5_frame", "table5_video") if t in groups]
    for table, rs in groups.items():
        temporal = table == "table6"
        wanted = TABLE6_TIOU if temporal else TABLE5_IOU
        # every threshold evaluated is a column: the paper's first, then the others
        have = sorted({round(float(t), 9) for r in rs.values() for t in r.thresholds})
        cols = [t for t in wanted if round(t, 9) in have] + [
            t for t in have if all(abs(t - w) > 1e-9 for w in wanted)
        ]
        from attnviz.render.tables import PAPER_TABLE5, PAPER_TABLE6

        ref = None
        if paper and (temporal or table == spatial[0]):
            ref = PAPER_TABLE6 if temporal else PAPER_TABLE5
        df = localization_table(rs, thresholds=cols, reference=ref)
        what = (
            "Temporal localization mAP (%)"
            if temporal
            else f"Spatial localization {table.split('_')[1]}-mAP (%)"
        )
        protocols = ", ".join(sorted({r.protocol for r in rs.values()}))
        sym = "tIoU" if temporal else "IoU"
        caption = f"{what}, protocol {protocols}, at {sym} thresholds ALPHA"
        if ref is not None and not temporal:
            caption += (
                "; rows marked (paper) are the paper's Table 5, which does not say whether it "
                "reports frame-mAP or video-mAP (shown once)"
            )
        tables[table] = df
        md[table] = table_markdown(
            df, decimals=decimals, caption=f"**{caption.replace('ALPHA', 'α')}**"
        )
        tex[table] = table_latex(
            df,
            decimals=decimals,
            caption=caption.replace("ALPHA", "$\\alpha$"),
            label=f"tab:{table}",
        )
    files: list[str] = []
    if out_dir is not None:
        out_path = Path(out_dir)
        with output_dir(out_path) as tmp:
            for table, df in tables.items():
                atomic_write_text(tmp / f"{table}.md", md[table])
                atomic_write_text(tmp / f"{table}.tex", tex[table])
                atomic_write_text(tmp / f"{table}.csv", df.to_csv(float_format="%.6g"))
                files += [f"{table}.md", f"{table}.tex", f"{table}.csv"]
            for name, r in loaded:
                base = _safe_name(name)
                stem = base if base.endswith(f"_{r.metric}") else f"{base}_{r.metric}"
                atomic_write_text(tmp / f"{stem}.txt", format_result(r, "table", per_class=True))
                atomic_write_text(tmp / f"{stem}.md", format_result(r, "markdown", per_class=True))
                files += [f"{stem}.txt", f"{stem}.md"]
    return {"tables": tables, "markdown": md, "latex": tex, "files": files}
