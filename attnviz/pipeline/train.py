"""``attnviz train`` and ``attnviz eval-classify``: wiring around the engine
(:mod:`attnviz.engine`).

A training run is described by a *recipe*, a JSON object with these sections (all optional
except ``data`` or ``synthetic``; relative paths are relative to the current folder):

``synthetic``
    ``{"out", "videos", "seed", "splits", "workers", "config"}``: generate the synthetic dataset
    first (:func:`attnviz.data.synthetic.generate_dataset`; videos already there are kept;
    ``config`` holds fields of :class:`attnviz.data.synthetic.SynthConfig`, e.g. a smaller
    ``width``, ``height`` and ``frames``). Unless
    ``data`` says otherwise, training uses its ``train.csv`` and validation its ``val.csv``.
``data``
    ``{"dataset": "csv"|"ucf101"|"hmdb51"|"ucf24"|"thumos14", "train", "val", "val_fraction",
    "test", "root", "classes", "split"}``: ``train`` is a CSV / split folder / ground-truth file
    (see :func:`attnviz.io.splits.read_video_list`); validation is ``val`` (a list of the same
    kind) or ``val_fraction`` of the training list (stratified, seeded), and is refused if it is
    the test split (:func:`attnviz.engine.check_validation_split`). ``test`` (optional) names the
    test list only to check that validation does not overlap it.
``backbone``
    fields of :class:`attnviz.engine.BackboneConfig`: fine-tune the backbone on the training
    videos with their labels only (multiple-instance learning) before anything else; the weights
    are kept in ``<out>/backbone.pt`` and reused by a rerun with the same settings.
``features``
    ``{"cache", "dtype", "preload"}``: train the attention model on cached backbone features
    (the backbone is frozen). The cache is filled first with the model's own backbone. After
    ``backbone`` fine-tuning the cache is ``<cache>/<checksum of the backbone>``, so caches of
    different backbones never mix; otherwise an existing cache made by ``attnviz
    extract-features`` lends its backbone weights to the model. Either way the checkpoint holds
    the backbone that made the features.
``model``
    keyword arguments of :func:`attnviz.models.build_recognizer` (``backbone``, ``weights``,
    ``random_init``, ``backbone_stage``, ``input_size``, ``hidden_channels``, ...), plus
    ``init_seed`` (weight initialisation) and ``frames`` (T, default 25).
``train``
    fields of :class:`attnviz.engine.TrainConfig`; ``save_every`` defaults to 0 here (only
    ``last.pt`` and ``best.pt``; ``--save-every N`` keeps ``epoch_XXX.pt`` every N epochs).
``select``
    ``{"heads": N, "by": "class_peak"}``: train the attention model N times on the same
    backbone and features (candidate ``i`` with ``model.init_seed + 10 i`` and ``train.seed +
    10 i``, in ``<out>/head<i>``; candidate 0 is the run without ``select``) and keep the one
    whose masks stand out on every class of the validation split (:func:`class_peak_score`, from
    the labels only). ``<out>/select.json`` lists every candidate's score; ``best.pt`` /
    ``last.pt`` of the run folder are the chosen candidate's. Over a head's training the mask
    on one class's actor can fade while the class is still recognised from the weak features
    it lets through (the synthetic recipe: 18 heads of the 44 measured for issue 21); the score
    finds such a head.
``localize``
    ``{"threshold": t}``: the binarisation threshold of masks and importance that the model is
    built for, stored in every checkpoint (``meta.localize``); every command uses it when
    ``--threshold`` is not given (:func:`attnviz.models.load_checkpoint` sets
    ``model.localize_threshold``).
``out``
    the run folder (checkpoints, ``log.csv``).
``export``
    ``{"path", "half"}``: copy the best checkpoint there without optimizer state (``half``:
    float16 weights), e.g. the embedded default model.
``video_model``
    ``{"arch", "frames", "init_seed"}``: instead of the paper's model, train one of torchvision's
    video classifiers (``r3d_18``, ``r2plus1d_18``, ...) from random initialisation on the
    video labels with cross-entropy (:func:`attnviz.engine.fit_video_classifier`; one process,
    no ``backbone`` / ``features`` stage). Clips of ``frames`` frames (default the
    architecture's clip length; one at random in each of ``frames`` equal parts of the video)
    are preprocessed as the model's Kinetics-400 weights are (resize, centre crop, mean / std).
    The run folder gets ``best.pth`` / ``last.pth`` (weights with the class names:
    :func:`attnviz.models.video_model.save_video_weights`), which ``--model ARCH --weights
    FILE`` explains; ``export.path`` receives a copy of ``best.pth``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from attnviz.errors import AttnvizError, InputError, ParameterError
from attnviz.io.splits import VideoList, read_video_list

__all__ = [
    "DEFAULT_MODEL",
    "backbone_stamp",
    "classify_checkpoints",
    "load_recipe",
    "class_peak_score",
    "recipe_configs",
    "run_recipe",
    "split_validation",
]

DEFAULT_MODEL: dict[str, Any] = {
    "backbone": "resnet50",
    "weights": "imagenet",
    "random_init": False,
    "init_seed": 0,
    "frames": 25,
}

_SECTIONS = (
    "name",
    "synthetic",
    "data",
    "backbone",
    "features",
    "model",
    "train",
    "out",
    "export",
    "note",
    "video_model",
    "select",
    "localize",
)


def load_recipe(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a recipe JSON file (sections in the module docstring)."""
    from attnviz.io.textfiles import read_text

    try:
        recipe = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(recipe, dict):
        raise InputError(f"{path}: a recipe is a JSON object")
    unknown = [k for k in recipe if k not in _SECTIONS]
    if unknown:
        raise InputError(
            f'{path}: unknown section "{unknown[0]}" (expected {", ".join(_SECTIONS)})'
        )
    return recipe


def merge_recipe(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with the non-``None`` values of ``overrides`` (one level of sections deep)."""
    out: dict[str, Any] = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in base.items()}
    for key, value in overrides.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            sec = out.setdefault(key, {})
            for k, v in value.items():
                if v is not None:
                    sec[k] = v
        else:
            out[key] = value
    return out


def split_validation(
    videos: VideoList, fraction: float, seed: int = 0
) -> tuple[VideoList, VideoList]:
    """Hold out ``fraction`` of each class of ``videos`` (at least one video of every class with
    two or more), chosen with ``seed``: ``(train, val)``."""
    if not 0 < fraction < 1:
        raise AttnvizError(f"validation fraction must be in (0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    labels = np.asarray(videos.labels)
    val_idx: list[int] = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) < 2:
            continue
        take = max(1, int(round(fraction * len(idx))))
        val_idx += rng.choice(idx, size=take, replace=False).tolist()
    vset = set(val_idx)
    train_idx = [i for i in range(len(videos)) if i not in vset]
    return videos.subset_of(train_idx, "train"), videos.subset_of(sorted(vset), "val")


def _lists(recipe: Mapping[str, Any]) -> tuple[VideoList, VideoList | None, VideoList | None]:
    from attnviz.engine import check_validation_split

    data = dict(recipe.get("data") or {})
    syn = recipe.get("synthetic")
    if syn:
        base = Path(syn["out"])
        data.setdefault("dataset", "csv")
        data.setdefault("train", str(base / "train.csv"))
        if "val_fraction" not in data:
            data.setdefault("val", str(base / "val.csv"))
        data.setdefault("root", str(base / "videos"))
    if "train" not in data:
        raise AttnvizError(
            "no training data: give {data} (or a recipe with data.train)", params=("data",)
        )
    dataset = data.get("dataset", "csv")
    kw = {
        "dataset": dataset,
        "root": data.get("root"),
        "classes": data.get("classes"),
        "split": int(data.get("split", 1)),
    }
    train_subset = "val" if dataset == "thumos14" else "train"
    train = read_video_list(data["train"], subset=train_subset, **kw)
    val = None
    val_subset = ""
    if data.get("val"):
        val_spec = data["val"]
        same = str(val_spec) == str(data["train"]) and dataset != "csv"
        from attnviz.io.splits import looks_like_test_split

        if dataset in ("ucf101", "hmdb51", "ucf24") or (dataset == "thumos14" and same):
            # the official lists have train and test only: a "val" of these is their test split
            val_subset = "test"
        elif looks_like_test_split(str(val_spec)):
            val_subset = "test"
        else:
            val = read_video_list(val_spec, subset="test" if dataset == "thumos14" else "val", **kw)
            val_subset = val.subset
        if val_subset == "test":
            check_validation_split([], [], val_source=str(val_spec), val_subset="test")
    elif data.get("val_fraction"):
        train, val = split_validation(
            train, float(data["val_fraction"]), int((recipe.get("train") or {}).get("seed", 0))
        )
    test = None
    if data.get("test"):
        test = read_video_list(data["test"], subset="test", **{**kw, "root": None})
    if val is not None:
        check_validation_split(
            train.keys,
            val.keys,
            test_keys=test.keys if test is not None else (),
            val_source=str(data.get("val") or ""),
            val_subset=val_subset,
        )
        if val.class_names != train.class_names:
            raise AttnvizError("training and validation lists have different class lists")
    return train, val, test


def _build_model(model_cfg: Mapping[str, Any], class_names):
    from attnviz.engine import seed_everything
    from attnviz.models import build_recognizer

    cfg = {**DEFAULT_MODEL, **model_cfg}
    seed_everything(int(cfg.pop("init_seed")))
    cfg.pop("frames")
    if cfg.get("random_init"):
        cfg["weights"] = None
    return build_recognizer(num_classes=len(class_names), class_names=class_names, **cfg)


_BACKBONE_KEYS = ("backbone", "weights", "random_init", "init_seed", "backbone_stage", "input_size")


def backbone_stamp(recipe: Mapping[str, Any], train: VideoList) -> str:
    """What the ``backbone`` stage depends on (its settings, the backbone's model settings, the
    training list): a rerun, or another recipe that differs only in the attention model (an
    ablation), reuses ``backbone.pt`` when its ``backbone.json`` holds the same stamp."""
    model = {**DEFAULT_MODEL, **(recipe.get("model") or {})}
    return json.dumps(
        {
            "backbone": recipe["backbone"],
            "model": {k: model.get(k) for k in _BACKBONE_KEYS},
            "train_list": train.source,
            "train_videos": list(train.keys),
        },
        sort_keys=True,
        default=str,
    )


def recipe_configs(recipe: Mapping[str, Any]):
    """The recipe's ``train`` and ``backbone`` sections as ``(TrainConfig, BackboneConfig |
    None)``; an unknown key or a bad value raises :class:`AttnvizError` naming the section."""
    from attnviz.engine import BackboneConfig, TrainConfig

    try:
        tconf = TrainConfig(**{"save_every": 0, **(recipe.get("train") or {})})
    except TypeError as exc:
        raise AttnvizError(f"recipe section train: {exc}") from None
    _select_config(recipe)
    loc = recipe.get("localize")
    if loc is not None:
        if not isinstance(loc, Mapping) or set(loc) - {"threshold"}:
            raise AttnvizError('recipe section localize: expected {"threshold": t}')
        thr = loc.get("threshold")
        if thr is not None and not (isinstance(thr, (int, float)) and 0.0 <= thr <= 1.0):
            raise AttnvizError(f"recipe section localize: threshold must be in [0, 1], got {thr!r}")
    bconf = None
    if recipe.get("backbone"):
        try:
            bconf = BackboneConfig(**recipe["backbone"])
        except TypeError as exc:
            raise AttnvizError(f"recipe section backbone: {exc}") from None
    return tconf, bconf


_SELECT_RULES = ("class_peak",)


def _select_config(recipe: Mapping[str, Any]) -> tuple[int, str]:
    """``(heads, by)`` of the ``select`` section (``(1, "class_peak")`` without one)."""
    sel = recipe.get("select")
    if sel is None:
        return 1, "class_peak"
    if not isinstance(sel, Mapping) or set(sel) - {"heads", "by"}:
        raise AttnvizError('recipe section select: expected {"heads": N, "by": "class_peak"}')
    heads, by = sel.get("heads", 1), sel.get("by", "class_peak")
    if not isinstance(heads, int) or isinstance(heads, bool) or heads < 1:
        raise AttnvizError(f"recipe section select: heads must be an integer >= 1, got {heads!r}")
    if by not in _SELECT_RULES:
        raise AttnvizError(
            f"recipe section select: by must be one of {', '.join(_SELECT_RULES)}, got {by!r}"
        )
    return heads, by


def class_peak_score(model, dataset, *, batch_size: int = 16) -> tuple[float, dict[str, float]]:
    """How clearly the masks of ``model`` stand out on every class of ``dataset`` (cached
    features with labels; no boxes).

    Per video: the peak of each frame's mask (its largest cell), averaged over the frames
    with the normalised frame importance as weights (min-max; a flat curve weighs all frames
    alike), so the frames the temporal attention picks count. Per class: the median over its
    videos. The score is the lowest class's value: a head whose mask stays low on one class's
    actor (the class then recognised from the weak features the mask lets through) scores low
    even when the others are fine.

    Returns:
        ``(score, {class name: median})`` over the classes present in ``dataset``.
    """
    import torch

    from attnviz.localize.temporal import frame_importance, normalise_importance

    values: list[float] = []
    labels: list[int] = []
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for s in range(0, len(dataset), batch_size):
                items = [dataset[i] for i in range(s, min(s + batch_size, len(dataset)))]
                x = torch.stack([torch.as_tensor(it[0]) for it in items]).float()
                out = model(x)
                mask = out.mask.float().flatten(2).amax(dim=2).numpy()  # [B, T]
                temporal = out.temporal.float().numpy()
                for j, it in enumerate(items):
                    imp = normalise_importance(frame_importance(temporal[j]), "minmax", 0.05)
                    w = imp / imp.sum() if imp.sum() > 0 else np.full(len(imp), 1 / len(imp))
                    values.append(float((mask[j] * w).sum()))
                    labels.append(int(it[1]))
    finally:
        model.train(was_training)
    v, y = np.asarray(values), np.asarray(labels)
    names = getattr(model, "class_names", None) or [str(k) for k in range(int(y.max()) + 1)]
    per_class = {names[k]: float(np.median(v[y == k])) for k in np.unique(y)}
    return (min(per_class.values()) if per_class else float("nan")), per_class


def _fit_heads(recipe, model, train, tr, va, tconf, meta, dist_info, quiet) -> dict[str, Any]:
    """The ``select`` stage (module docstring): candidates, scores, the chosen one's files."""
    import shutil

    from attnviz.engine import fit
    from attnviz.io.atomic import atomic_path, atomic_write_text
    from attnviz.models import load_checkpoint

    heads, by = _select_config(recipe)
    if va is None:
        raise AttnvizError(
            "recipe section select: choosing a head needs a validation split (data.val or "
            "data.val_fraction)"
        )
    out = Path(recipe["out"])
    model_cfg = dict(recipe.get("model") or {})
    init_seed = int({**DEFAULT_MODEL, **model_cfg}["init_seed"])
    backbone = {k: v.detach().clone() for k, v in model.backbone.state_dict().items()}
    rows, summaries = [], []
    for i in range(heads):
        m = model
        if i:
            m = _build_model({**model_cfg, "init_seed": init_seed + 10 * i}, train.class_names)
            m.backbone.load_state_dict(backbone)
        conf = dataclasses.replace(tconf, seed=tconf.seed + 10 * i)
        if not quiet and dist_info.main:
            print(f"head {i + 1}/{heads} (init_seed {init_seed + 10 * i}, seed {conf.seed})",
                  file=sys.stderr)  # fmt: skip
        summary = fit(m, tr, va, out / f"head{i}", conf, meta={**meta, "head": i}, quiet=quiet,
                      dist_info=dist_info)  # fmt: skip
        score, per_class = class_peak_score(load_checkpoint(summary["best"])[0], va)
        rows.append({"head": i, "init_seed": init_seed + 10 * i, "train_seed": conf.seed,
                     "score": score, "per_class": per_class,
                     "best_epoch": summary["best_epoch"]})  # fmt: skip
        summaries.append(summary)
    chosen = int(np.argmax([r["score"] for r in rows]))  # ties: the first
    summary = dict(summaries[chosen])
    if dist_info.main:
        for name in ("best.pt", "last.pt", "log.csv"):
            with atomic_path(out / name) as tmp:
                shutil.copyfile(out / f"head{chosen}" / name, tmp)
        report = {"by": by, "chosen": chosen, "candidates": rows}
        atomic_write_text(out / "select.json", json.dumps(report, indent=1) + "\n")
    summary.update(best=str(out / "best.pt"), last=str(out / "last.pt"), log=str(out / "log.csv"))
    summary["select"] = {"by": by, "chosen": chosen, "scores": [r["score"] for r in rows]}
    return summary


def _finetune(recipe, model, train: VideoList, dist_info, quiet: bool) -> None:
    """The ``backbone`` stage: fine-tune, or reuse ``<out>/backbone.pt`` made with the same
    settings."""
    import torch

    from attnviz.data.datasets import VideoClipDataset
    from attnviz.engine import finetune_backbone
    from attnviz.io.atomic import atomic_path, atomic_write_text

    bconf = recipe_configs(recipe)[1]
    out = Path(recipe["out"])
    weights, stamp_path = out / "backbone.pt", out / "backbone.json"
    stamp = backbone_stamp(recipe, train)
    if (
        weights.is_file()
        and stamp_path.is_file()
        and stamp_path.read_text(encoding="utf-8") == stamp
    ):
        model.backbone.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        return
    device = (recipe.get("train") or {}).get("device", "cpu")
    initial = {k: v.detach().clone() for k, v in model.backbone.state_dict().items()}
    for attempt in range(1 + bconf.retries):
        conf = bconf
        if attempt:
            conf = dataclasses.replace(bconf, seed=bconf.seed + 1000 * attempt)
            _restart_backbone(recipe, model, initial, attempt)
            log = out / "backbone_log.csv"
            if dist_info.main and log.is_file():
                log.replace(out / f"backbone_log_attempt{attempt}.csv")
        clips = VideoClipDataset(
            train,
            frames=conf.frames,
            input_size=conf.input_size or model.input_size,
            sampling="random",
            seed=conf.seed,
        )
        hist = finetune_backbone(
            model, clips, out, conf, device=device, quiet=quiet, dist_info=dist_info
        )["history"]
        if hist[-1]["top1"] >= bconf.min_top1:
            break
        if not quiet and dist_info.main:
            print(
                f"backbone attempt {attempt + 1}: training top-1 {hist[-1]['top1']:.3f} < "
                f"min_top1 {bconf.min_top1}"
                + (": starting again from new weights" if attempt < bconf.retries else ""),
                file=sys.stderr,
            )
    if dist_info.main:
        state = {k: v.detach().cpu() for k, v in model.backbone.state_dict().items()}
        with atomic_path(weights) as tmp:
            torch.save(state, tmp)
        atomic_write_text(stamp_path, stamp)


def _restart_backbone(recipe, model, initial: dict, attempt: int) -> None:
    """New starting weights for fine-tuning attempt ``attempt`` (>= 1): fresh random weights
    (seed ``init_seed + 1000 * attempt``) for a random-init backbone, the same pretrained ones
    otherwise."""
    from attnviz.engine import seed_everything
    from attnviz.models.backbone import build_backbone

    cfg = {**DEFAULT_MODEL, **(recipe.get("model") or {})}
    if not cfg.get("random_init"):
        model.backbone.load_state_dict(initial)
        return
    seed_everything(int(cfg["init_seed"]) + 1000 * attempt)
    trunk, _ = build_backbone(
        cfg["backbone"], weights=None, random_init=True, stage=int(cfg.get("backbone_stage", 4))
    )
    model.backbone.load_state_dict(trunk.state_dict())


def _datasets(recipe, model, train: VideoList, val: VideoList | None, dist_info, quiet):
    from attnviz.data.datasets import FeatureDataset, VideoClipDataset

    frames = int({**DEFAULT_MODEL, **(recipe.get("model") or {})}["frames"])
    feats = recipe.get("features")
    if not feats:
        tr = VideoClipDataset(
            train,
            frames=frames,
            input_size=model.input_size,
            sampling="random",
            seed=int((recipe.get("train") or {}).get("seed", 0)),
        )
        va = (
            VideoClipDataset(val, frames=frames, input_size=model.input_size)
            if val is not None
            else None
        )
        return tr, va, False
    if model.backbone is None:
        raise AttnvizError("training on features needs a model with a backbone to ship with it")
    from attnviz.io.features import read_manifest, state_checksum
    from attnviz.pipeline.features import extract_features, load_cache_backbone

    checksum = state_checksum(model.backbone.state_dict())
    cache = Path(feats["cache"])
    if recipe.get("backbone"):
        cache = cache / checksum[:16]
    elif (cache / "manifest.json").is_file():
        man = read_manifest(cache)
        cfg = model.config
        if (man.backbone, man.stage, man.input_size) != (
            cfg["backbone"],
            cfg["backbone_stage"],
            cfg["input_size"],
        ):
            raise AttnvizError(
                f"{cache}: features of {man.backbone} stage {man.stage} at {man.input_size} px, "
                f"but the model is {cfg['backbone']} stage {cfg['backbone_stage']} at "
                f"{cfg['input_size']} px"
            )
        if man.checksum != checksum:
            model.backbone.load_state_dict(load_cache_backbone(cache))
    desc = {
        "backbone": model.config["backbone"],
        "stage": model.config["backbone_stage"],
        "input_size": model.input_size,
    }
    for lst in (train, val):
        if lst is None:
            continue
        extract_features(
            lst,
            cache,
            trunk=model.backbone,
            desc=desc,
            frames=frames,
            dtype=feats.get("dtype", "float16"),
            quiet=quiet or not dist_info.main,
            rank=dist_info.rank,
            world_size=dist_info.world_size,
        )
    if dist_info.enabled:
        import torch.distributed as dist

        dist.barrier()
    preload = bool(feats.get("preload", True))
    tr = FeatureDataset(cache, train, preload=preload)
    va = FeatureDataset(cache, val, preload=preload) if val is not None else None
    if tr.manifest.frames != frames:
        raise AttnvizError(f"{cache}: {tr.manifest.frames} frames per video, recipe asks {frames}")
    return tr, va, True


def run_recipe(
    recipe: Mapping[str, Any],
    *,
    resume: str | os.PathLike[str] | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Run a whole training recipe (module docstring): data, features, training, export.

    Returns the engine's summary plus ``"export"`` (the exported checkpoint) when asked.
    """
    from attnviz.engine import cleanup_distributed, fit, setup_distributed

    tconf, _ = recipe_configs(recipe)  # a bad key fails here, before any work
    dist_info = setup_distributed(tconf.device)
    try:
        syn = recipe.get("synthetic")
        if syn:
            if dist_info.main:
                from attnviz.data.synthetic import SynthConfig, generate_dataset

                conf = syn.get("config") or {}
                try:
                    sconf = SynthConfig(
                        **{k: tuple(v) if isinstance(v, list) else v for k, v in conf.items()}
                    )
                except TypeError as exc:
                    raise AttnvizError(f"recipe section synthetic.config: {exc}") from None
                generate_dataset(
                    syn["out"],
                    config=sconf,
                    videos=int(syn["videos"]),
                    seed=int(syn["seed"]),
                    splits=syn.get("splits", "train=0.8,val=0.2"),
                    workers=int(syn.get("workers", 1)),
                    quiet=quiet,
                )
            if dist_info.enabled:
                import torch.distributed as dist

                dist.barrier()
        train, val, _ = _lists(recipe)
        if recipe.get("video_model"):
            if dist_info.enabled or resume is not None:
                raise AttnvizError(
                    "a video_model recipe trains in one process from the start (no torchrun, "
                    "no resume)"
                )
            return _train_video_model(recipe, tconf, train, val, quiet)
        model = _build_model(recipe.get("model") or {}, train.class_names)
        if not recipe.get("out"):
            raise AttnvizError(
                "no output folder: give {out} (or a recipe with out)", params=("out",)
            )
        if recipe.get("backbone"):
            _finetune(recipe, model, train, dist_info, quiet)
        tr, va, on_features = _datasets(recipe, model, train, val, dist_info, quiet)
        if on_features:
            from dataclasses import replace

            tconf = replace(tconf, freeze_backbone=True)
        out = recipe["out"]
        meta = {
            "recipe": json.loads(json.dumps(recipe, default=str)),
            "frames": int({**DEFAULT_MODEL, **(recipe.get("model") or {})}["frames"]),
            "train_videos": len(train),
            "val_videos": len(val) if val is not None else 0,
            "features": bool(on_features),
        }
        if recipe.get("localize") is not None:
            meta["localize"] = dict(recipe["localize"])
        if _select_config(recipe)[0] > 1:
            if resume is not None:
                raise AttnvizError(
                    "{resume} continues one training run; a recipe with select.heads > 1 "
                    "trains several: rerun it instead",
                    params=("resume",),
                )
            summary = _fit_heads(recipe, model, train, tr, va, tconf, meta, dist_info, quiet)
        else:
            summary = fit(
                model, tr, va, out, tconf, resume=resume, meta=meta, quiet=quiet,
                dist_info=dist_info,
            )  # fmt: skip
        exp = recipe.get("export")
        if exp and dist_info.main:
            from attnviz.models import load_checkpoint, save_checkpoint

            best, info = load_checkpoint(summary["best"])
            extra = dict(info["extra"])
            extra.pop("best_key", None)
            save_checkpoint(
                exp["path"],
                best,
                epoch=info["epoch"],
                extra=extra,
                half=bool(exp.get("half", False)),
            )
            summary["export"] = str(exp["path"])
        return summary
    finally:
        cleanup_distributed()


def _train_video_model(recipe, tconf, train: VideoList, val: VideoList | None, quiet: bool):
    """The ``video_model`` recipe (module docstring): build, train, export."""
    import shutil

    from attnviz.data.datasets import VideoClipDataset
    from attnviz.engine import fit_video_classifier, seed_everything
    from attnviz.models.video_model import (
        TORCHVISION_VIDEO_MODELS,
        TorchvisionVideoModel,
        save_video_weights,
    )

    cfg = dict(recipe["video_model"])
    unknown = [k for k in cfg if k not in ("arch", "frames", "init_seed")]
    if unknown:
        raise AttnvizError(
            f'recipe section video_model: unknown key "{unknown[0]}" (expected arch, frames, '
            "init_seed)"
        )
    arch = cfg.get("arch")
    if arch not in TORCHVISION_VIDEO_MODELS:
        raise AttnvizError(
            f"recipe section video_model: arch must be one of {', '.join(TORCHVISION_VIDEO_MODELS)}"
            f", got {arch!r}"
        )
    if not recipe.get("out"):
        raise AttnvizError("no output folder: give {out} (or a recipe with out)", params=("out",))
    seed_everything(int(cfg.get("init_seed", 0)))
    vm = TorchvisionVideoModel(arch, weights="none", class_names=tuple(train.class_names),
                               clip_len=cfg.get("frames"))  # fmt: skip
    frames = vm.preprocess.clip_len

    def clips(videos: VideoList, sampling: str):
        return VideoClipDataset(videos, frames=frames, sampling=sampling, transform=vm.preprocess,
                                seed=tconf.seed)  # fmt: skip

    def save(path, module):
        save_video_weights(path, module, train.class_names, arch=arch)

    summary = fit_video_classifier(
        vm.module, clips(train, "random"), clips(val, "uniform") if val is not None else None,
        recipe["out"], tconf, save=save, quiet=quiet,
    )  # fmt: skip
    exp = recipe.get("export")
    if exp:
        dest = Path(exp["path"])
        dest.parent.mkdir(parents=True, exist_ok=True)
        from attnviz.io.atomic import atomic_path

        with atomic_path(dest) as tmp:
            shutil.copyfile(summary["best"], tmp)
        summary["export"] = str(dest)
    return summary


# --------------------------------------------------------------------------- eval-classify
def classify_checkpoints(
    checkpoints: list[str | os.PathLike[str]],
    videos: VideoList,
    *,
    features: str | os.PathLike[str] | None = None,
    frames: int | None = None,
    batch_size: int = 8,
    device: str = "cpu",
    precision: str = "fp32",
    names: list[str] | None = None,
    quiet: bool = False,
) -> list[tuple[str, Any]]:
    """Top-1 / top-5 of each checkpoint on ``videos`` (clips decoded from the videos, or cached
    features made by the checkpoint's own backbone).

    Returns:
        ``[(name, ClassifyResult)]`` in the order given.
    """
    import torch

    from attnviz.data.datasets import FeatureDataset, VideoClipDataset
    from attnviz.engine import evaluate_classifier
    from attnviz.evaluate.classify import classify_accuracy
    from attnviz.io.features import read_manifest, state_checksum
    from attnviz.models import load_checkpoint

    if names is not None and len(names) != len(checkpoints):
        raise AttnvizError(f"{len(names)} names for {len(checkpoints)} checkpoints")
    results = []
    feat_ds = None
    for j, ckpt in enumerate(checkpoints):
        model, info = load_checkpoint(ckpt)
        if tuple(info["class_names"]) != tuple(videos.class_names):
            raise AttnvizError(
                f"{ckpt}: the model's {len(info['class_names'])} classes differ from the "
                f"list's {len(videos.class_names)} ({videos.source})"
            )
        t = frames or int((info["extra"].get("meta") or {}).get("frames", 25))
        if features is not None:
            man = read_manifest(features)
            if model.backbone is not None:
                if state_checksum(model.backbone.state_dict()) != man.checksum:
                    raise AttnvizError(
                        f"{features}: the cached features were made by another backbone than "
                        f"{ckpt}'s; extract them with {{checkpoint}} {ckpt}",
                        params=("checkpoint",),
                    )
            if feat_ds is None:
                feat_ds = FeatureDataset(features, videos)
            ds = feat_ds
        else:
            ds = VideoClipDataset(videos, frames=t, input_size=model.input_size)
        torch.set_grad_enabled(False)
        ev = evaluate_classifier(
            model, ds, batch_size=batch_size, device=device, precision=precision, quiet=quiet
        )
        torch.set_grad_enabled(True)
        res = classify_accuracy(
            ev["scores"],
            ev["labels"],
            (1, 5) if len(videos.class_names) >= 5 else (1,),
            class_names=videos.class_names,
        )
        results.append((names[j] if names else Path(ckpt).stem, res))
    return results


def format_classify(
    results: list[tuple[str, Any]], fmt: str = "table", dataset: str = "", per_class: bool = False
) -> str:
    """Tables 2-4 layout: one row per model, ``Top-1 (%)`` and ``Top-5 (%)`` columns; ``json``,
    ``csv`` and ``markdown`` too."""
    if fmt == "json":
        return json.dumps(
            {"dataset": dataset, "models": {n: r.to_dict() for n, r in results}}, indent=1
        )
    ks = results[0][1].ks if results else (1, 5)
    head = ["Model"] + [f"Top-{k} (%)" for k in ks]
    rows = [[n] + [f"{100 * a:.2f}" for a in r.accuracy] for n, r in results]
    if fmt == "csv":
        lines = ["model," + ",".join(f"top{k}" for k in ks)]
        lines += [f"{n}," + ",".join(f"{a:.6f}" for a in r.accuracy) for n, r in results]
        return "\n".join(lines) + "\n"
    if fmt == "markdown":
        from attnviz.report import markdown_table

        return markdown_table(head, rows) + "\n"
    if fmt != "table":
        raise ParameterError("format", f"must be table, json, csv or markdown, got {fmt!r}")
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(len(head))]
    title = (
        f"Classification accuracy{f' on {dataset}' if dataset else ''} ({results[0][1].n} videos)"
    )
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    if per_class:
        for n, r in results:
            lines.append(f"\n{n}: per class top-1 (%)")
            for c, name in enumerate(r.class_names):
                v = r.per_class[c, 0]
                lines.append(
                    f"  {name:<24} {'-' if np.isnan(v) else f'{100 * v:.2f}'}  ({r.counts[c]})"
                )
    return "\n".join(lines) + "\n"
