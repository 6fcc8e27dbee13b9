"""Synthetic action videos whose answer is known: where and when the action happens.

Every video shows a textured background that pans slowly, a few moving *distractors* and, only
during one ground-truth segment, the *actor*. The actor's class is a conjunction: its shape AND
its colour (each shape and each colour belongs to two classes, so neither alone names the class)
and a class-specific motion (swing, bob, orbit, zigzag, pulse). Distractors are drawn from the
same shapes and colours (they may look exactly like another class's actor at a glance) but are
plain, move in straight lines and are there all the time; the actor carries a white core and a
dark outline. The class can therefore only be told from the actor's region during the actor's
segment, which is what the paper's spatial and temporal attention should find.

Everything is reproducible from ``(seed, index)``: video ``i`` of seed ``s`` is the same whatever
the number of videos or workers. :func:`generate_dataset` (``attnviz synth``) writes:

``videos/<name>.mp4``
    the videos (``--codec`` ``mp4`` or ``avi``), ``fps`` 25 by default.
``classes.txt``
    ``id name`` lines (ids 1..K), the class-list format of THUMOS14's ``Class Index_*.txt``.
``<split>.csv``
    ``video,label`` per split (``train``/``val``/``test``; label = class name).
``annotations/<Class>_<split>.txt``
    THUMOS14-style ground truth: ``video  t_start t_end`` in seconds, one file per class and
    split (empty files for classes without instances), read by ``attnviz eval-thumos``.
``gt_tubes.json``
    UCF101-24 tubes in the ACT layout (``labels``, ``gttubes``, ``nframes``, ``train_videos``,
    ``test_videos``, ``resolution``): per video one tube, rows ``frame, x1, y1, x2, y2`` with
    1-based frames and ``x2``/``y2`` one past the last pixel of the actor, read by
    ``attnviz eval-ucf24``. Videos of the ``test`` split are ACT's ``test_videos``; the others
    are ``train_videos``.
``synth.json``
    the generator's parameters and each video's label, frame count and segment.

Times: frame ``f`` (0-based) shows at ``f / fps``; a segment of frames ``[a, b)`` is
``[a / fps, b / fps]`` seconds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from attnviz.errors import AttnvizError, ParameterError

__all__ = [
    "COLOURS",
    "DEFAULT_CLASSES",
    "MOTIONS",
    "SHAPES",
    "ActionClass",
    "SynthConfig",
    "SynthVideo",
    "generate_dataset",
    "parse_splits",
    "render_video",
    "video_spec",
]

SHAPES = ("circle", "square", "triangle", "diamond")
COLOURS = {
    "red": (225, 45, 45),
    "green": (40, 185, 70),
    "blue": (55, 95, 240),
    "yellow": (235, 205, 40),
}
MOTIONS = ("swing", "bob", "orbit", "zigzag", "pulse")


@dataclass(frozen=True)
class ActionClass:
    """One synthetic action: the actor's ``shape``, ``colour`` and ``motion``."""

    name: str
    shape: str
    colour: str
    motion: str


#: Eight classes; every shape and every colour is used by exactly two of them.
DEFAULT_CLASSES = (
    ActionClass("RedCircleSwing", "circle", "red", "swing"),
    ActionClass("BlueSquareBob", "square", "blue", "bob"),
    ActionClass("GreenTriangleOrbit", "triangle", "green", "orbit"),
    ActionClass("YellowDiamondZigzag", "diamond", "yellow", "zigzag"),
    ActionClass("BlueCirclePulse", "circle", "blue", "pulse"),
    ActionClass("YellowSquareOrbit", "square", "yellow", "orbit"),
    ActionClass("RedTriangleBob", "triangle", "red", "bob"),
    ActionClass("GreenDiamondSwing", "diamond", "green", "swing"),
)


@dataclass(frozen=True)
class SynthConfig:
    """Generator parameters (all sizes in pixels, durations in frames).

    Attributes:
        width, height: frame size.
        fps: frame rate written in the video files.
        frames: ``(min, max)`` frames per video (inclusive).
        segment: ``(min, max)`` fraction of the video the action lasts.
        actor_size: ``(min, max)`` actor diameter.
        distractors: ``(min, max)`` number of distractors.
        distractor_size: ``(min, max)`` distractor diameter.
        amplitude: ``(min, max)`` amplitude of the actor's motion.
        period: ``(min, max)`` period of the actor's motion.
        noise: standard deviation of per-frame pixel noise.
        codec: ``mp4`` (mp4v) or ``avi`` (MJPG).
    """

    width: int = 160
    height: int = 120
    fps: float = 25.0
    frames: tuple[int, int] = (48, 96)
    segment: tuple[float, float] = (0.15, 0.4)
    actor_size: tuple[int, int] = (26, 36)
    distractors: tuple[int, int] = (2, 4)
    distractor_size: tuple[int, int] = (22, 36)
    amplitude: tuple[float, float] = (8.0, 18.0)
    period: tuple[float, float] = (14.0, 28.0)
    noise: float = 3.0
    codec: str = "mp4"

    def __post_init__(self) -> None:
        if self.codec not in ("mp4", "avi"):
            raise AttnvizError(f"codec must be mp4 or avi, got {self.codec!r}")
        if self.width < 64 or self.height < 64:
            raise AttnvizError(f"frames must be at least 64x64, got {self.width}x{self.height}")
        lo, hi = self.frames
        if not 8 <= lo <= hi:
            raise AttnvizError(f"frames must be (min, max) with 8 <= min <= max, got {self.frames}")
        a, b = self.segment
        if not 0 < a <= b <= 1:
            raise AttnvizError(f"segment fractions must satisfy 0 < min <= max <= 1, got {a}, {b}")
        if self.actor_size[1] + 2 * self.amplitude[1] + 4 > min(self.width, self.height):
            raise AttnvizError("actor size plus twice the motion amplitude exceeds the frame")


@dataclass(frozen=True)
class _Mover:
    shape: str
    colour: str
    radius: float
    x0: float
    y0: float
    vx: float
    vy: float


@dataclass(frozen=True)
class SynthVideo:
    """Everything that defines one video (and its ground truth).

    Attributes:
        name: file stem and ground-truth key (``synth<seed>_<index>``).
        label: class index.
        num_frames: frames in the video.
        start, end: the actor is visible on frames ``start <= f < end`` (0-based).
        boxes (ndarray[end - start, 4]): actor box per visible frame, ``x1, y1, x2, y2`` pixels.
    """

    name: str
    label: int
    num_frames: int
    start: int
    end: int
    boxes: np.ndarray = field(repr=False)
    seed: int = 0
    index: int = 0
    _actor: dict = field(default_factory=dict, repr=False)
    _movers: tuple[_Mover, ...] = field(default=(), repr=False)
    _bg: dict = field(default_factory=dict, repr=False)


# --------------------------------------------------------------------------- drawing
def _polygon(shape: str, cx: float, cy: float, r: float) -> np.ndarray | None:
    if shape == "circle":
        return None
    if shape == "square":
        s = r * 0.9
        pts = [(cx - s, cy - s), (cx + s, cy - s), (cx + s, cy + s), (cx - s, cy + s)]
    elif shape == "triangle":
        pts = [(cx, cy - r), (cx + 0.95 * r, cy + 0.75 * r), (cx - 0.95 * r, cy + 0.75 * r)]
    elif shape == "diamond":
        pts = [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]
    else:
        raise AttnvizError(f"unknown shape {shape!r}: expected one of {SHAPES}")
    return np.asarray(pts, dtype=np.float64)


_SHIFT = 4  # sub-pixel bits for cv2 drawing


def _draw(img: np.ndarray, shape: str, cx: float, cy: float, r: float, colour, aa: bool) -> None:
    import cv2

    line = cv2.LINE_AA if aa else cv2.LINE_8
    k = 1 << _SHIFT
    poly = _polygon(shape, cx, cy, r)
    if poly is None:
        cv2.circle(
            img, (round(cx * k), round(cy * k)), max(1, round(r * k)), colour, -1, line, _SHIFT
        )
    else:
        cv2.fillPoly(img, [np.round(poly * k).astype(np.int32)], colour, line, _SHIFT)


def _actor_centre(actor: Mapping, t: int) -> tuple[float, float, float]:
    """Centre and radius of the actor ``t`` frames after it appeared."""
    a, p, ph = actor["amplitude"], actor["period"], actor["phase"]
    w = 2 * np.pi * t / p + ph
    cx, cy, r = actor["cx"], actor["cy"], actor["radius"]
    m = actor["motion"]
    if m == "swing":
        return cx + a * np.sin(w), cy, r
    if m == "bob":
        return cx, cy + a * np.sin(w), r
    if m == "orbit":
        return cx + a * np.cos(w), cy + a * np.sin(w), r
    if m == "zigzag":  # a triangle wave along the diagonal
        tri = 2 / np.pi * np.arcsin(np.sin(w))
        return cx + a * tri, cy - a * tri, r
    if m == "pulse":
        return cx, cy, r * (1 + 0.3 * np.sin(w))
    raise AttnvizError(f"unknown motion {m!r}: expected one of {MOTIONS}")


def _mover_pos(m: _Mover, t: int, w: int, h: int) -> tuple[float, float]:
    """Straight-line motion bouncing off the frame edges (a triangle wave per axis)."""

    def bounce(p0: float, v: float, lo: float, hi: float) -> float:
        span = hi - lo
        if span <= 0:
            return lo
        q = (p0 - lo + v * t) % (2 * span)
        return lo + (q if q <= span else 2 * span - q)

    return (
        bounce(m.x0, m.vx, m.radius, w - m.radius),
        bounce(m.y0, m.vy, m.radius, h - m.radius),
    )


def _background(bg: Mapping, w: int, h: int) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(bg["seed"])
    pad = bg["pad"]
    coarse = rng.random((max(2, (h + pad) // 10), max(2, (w + pad) // 10), 3))
    big = cv2.resize(coarse, (w + pad, h + pad), interpolation=cv2.INTER_CUBIC)
    fine = rng.random((h + pad, w + pad, 1))
    base = np.asarray(bg["tint"], dtype=np.float64)
    img = base + 55.0 * (big - 0.5) + 18.0 * (fine - 0.5)
    # desaturate: the texture is muted so that it never looks like an actor
    grey = img.mean(axis=2, keepdims=True)
    img = grey + 0.35 * (img - grey)
    return np.clip(img, 0, 255).astype(np.float32)


def video_spec(
    seed: int,
    index: int,
    *,
    config: SynthConfig = SynthConfig(),
    classes: Sequence[ActionClass] = DEFAULT_CLASSES,
    label: int | None = None,
) -> SynthVideo:
    """The definition of video ``index`` of ``seed`` (drawing its random numbers, no pixels).

    ``label`` defaults to ``index % K`` (balanced classes).
    """
    cfg = config
    rng = np.random.default_rng([int(seed), int(index), 7919])
    k = len(classes)
    label = index % k if label is None else int(label)
    cls = classes[label]
    w, h = cfg.width, cfg.height
    n = int(rng.integers(cfg.frames[0], cfg.frames[1] + 1))
    frac = rng.uniform(*cfg.segment)
    length = int(np.clip(round(frac * n), 2, n))
    start = int(rng.integers(0, n - length + 1))
    end = start + length
    radius = rng.uniform(*cfg.actor_size) / 2
    amp = rng.uniform(*cfg.amplitude)
    reach = radius * (1.3 if cls.motion == "pulse" else 1.0) + (0 if cls.motion == "pulse" else amp)
    margin = reach + 2
    actor = {
        "shape": cls.shape,
        "colour": cls.colour,
        "motion": cls.motion,
        "radius": float(radius),
        "amplitude": float(amp),
        "period": float(rng.uniform(*cfg.period)),
        "phase": float(rng.uniform(0, 2 * np.pi)),
        "cx": float(rng.uniform(margin, w - margin)),
        "cy": float(rng.uniform(margin, h - margin)),
    }
    movers = []
    colours = list(COLOURS)
    for _ in range(int(rng.integers(cfg.distractors[0], cfg.distractors[1] + 1))):
        r = rng.uniform(*cfg.distractor_size) / 2
        speed = rng.uniform(0.6, 1.8)
        ang = rng.uniform(0, 2 * np.pi)
        movers.append(
            _Mover(
                shape=SHAPES[int(rng.integers(len(SHAPES)))],
                colour=colours[int(rng.integers(len(colours)))],
                radius=float(r),
                x0=float(rng.uniform(r, w - r)),
                y0=float(rng.uniform(r, h - r)),
                vx=float(speed * np.cos(ang)),
                vy=float(speed * np.sin(ang)),
            )
        )
    tint = rng.uniform(85, 150, size=3)
    bg = {
        "seed": int(rng.integers(2**31)),
        "pad": 24,
        "tint": tint.tolist(),
        "ox": float(rng.uniform(0, 24)),
        "oy": float(rng.uniform(0, 24)),
        "vx": float(rng.uniform(-0.25, 0.25)),
        "vy": float(rng.uniform(-0.25, 0.25)),
        "noise_seed": int(rng.integers(2**31)),
    }
    boxes = np.stack([_actor_box(actor, t, w, h) for t in range(length)])
    return SynthVideo(
        name=f"synth{seed}_{index:05d}",
        label=label,
        num_frames=n,
        start=start,
        end=end,
        boxes=boxes,
        seed=int(seed),
        index=int(index),
        _actor=actor,
        _movers=tuple(movers),
        _bg=bg,
    )


def _actor_box(actor: Mapping, t: int, w: int, h: int) -> np.ndarray:
    """Tight box around the actor's drawn pixels: ``x1, y1, x2, y2`` (``x2`` one past the last
    column)."""
    cx, cy, r = _actor_centre(actor, t)
    canvas = np.zeros((h, w), dtype=np.uint8)
    _draw(canvas, actor["shape"], cx, cy, r, 255, aa=False)
    rows = np.flatnonzero(canvas.any(axis=1))
    cols = np.flatnonzero(canvas.any(axis=0))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float64)


def render_video(spec: SynthVideo, config: SynthConfig = SynthConfig()) -> Iterator[np.ndarray]:
    """Yield the frames of ``spec`` as ``ndarray[H, W, 3] uint8`` RGB."""
    w, h = config.width, config.height
    bg = spec._bg
    tex = _background(bg, w, h)
    noise_rng = np.random.default_rng(bg["noise_seed"])
    pad = bg["pad"]
    actor = spec._actor
    for f in range(spec.num_frames):
        ox = int(np.clip(round(bg["ox"] + bg["vx"] * f), 0, pad))
        oy = int(np.clip(round(bg["oy"] + bg["vy"] * f), 0, pad))
        img = tex[oy : oy + h, ox : ox + w].copy()
        if config.noise > 0:
            img += noise_rng.normal(0.0, config.noise, size=img.shape).astype(np.float32)
        frame = np.clip(img, 0, 255).astype(np.uint8)
        for m in spec._movers:
            x, y = _mover_pos(m, f, w, h)
            _draw(frame, m.shape, x, y, m.radius, COLOURS[m.colour], aa=True)
        if spec.start <= f < spec.end:
            cx, cy, r = _actor_centre(actor, f - spec.start)
            _draw(frame, actor["shape"], cx, cy, r, (25, 25, 25), aa=True)  # outline
            _draw(frame, actor["shape"], cx, cy, r * 0.84, COLOURS[actor["colour"]], aa=True)
            _draw(frame, actor["shape"], cx, cy, r * 0.36, (250, 250, 250), aa=True)  # core
        yield frame


# --------------------------------------------------------------------------- dataset
def parse_splits(spec: str | Mapping[str, float]) -> dict[str, float]:
    """``"train=0.8,val=0.2"`` -> ``{"train": 0.8, "val": 0.2}`` (fractions summing to 1)."""
    if isinstance(spec, Mapping):
        out = {str(k): float(v) for k, v in spec.items()}
    else:
        out = {}
        for part in str(spec).split(","):
            if not part.strip():
                continue
            name, sep, frac = part.partition("=")
            if not sep:
                raise AttnvizError(f"splits {spec!r}: expected name=fraction, got {part!r}")
            try:
                out[name.strip()] = float(frac)
            except ValueError:
                raise AttnvizError(f"splits {spec!r}: {frac!r} is not a number") from None
    if not out:
        raise AttnvizError(f"splits {spec!r}: no split given")
    for name, frac in out.items():
        if name not in ("train", "val", "test"):
            raise AttnvizError(f"splits: unknown split {name!r} (train, val or test)")
        if not 0 <= frac <= 1:
            raise AttnvizError(f"splits: fraction of {name!r} must be in [0, 1], got {frac}")
    if abs(sum(out.values()) - 1) > 1e-6:
        raise AttnvizError(f"splits {spec!r}: fractions must sum to 1")
    return out


def _assign_splits(labels: Sequence[int], splits: Mapping[str, float]) -> list[str]:
    """Stratified split: videos are ordered by their rank within their class (relative to the
    class size, then by class) and the ordered list is cut by the fractions, so that every split
    gets a near-equal share of every class."""
    n = len(labels)
    counts: dict[int, int] = {}
    rank = []
    for lab in labels:
        rank.append(counts.get(lab, 0))
        counts[lab] = rank[-1] + 1
    order = sorted(range(n), key=lambda i: ((rank[i] + 0.5) / counts[labels[i]], labels[i], i))
    cuts = np.round(np.cumsum(list(splits.values())) * n).astype(int)
    out = [""] * n
    lo = 0
    for name, hi in zip(splits, cuts, strict=True):
        for i in order[lo:hi]:
            out[i] = name
        lo = hi
    return out


def _write_one(args) -> str:
    from attnviz.io.video_writer import write_video

    seed, index, config, classes, path = args
    spec = video_spec(seed, index, config=config, classes=classes)
    write_video(path, render_video(spec, config), config.fps)
    return spec.name


def generate_dataset(
    out: str | os.PathLike[str],
    *,
    videos: int,
    seed: int,
    splits: str | Mapping[str, float] = "train=0.8,val=0.2",
    config: SynthConfig = SynthConfig(),
    classes: Sequence[ActionClass] = DEFAULT_CLASSES,
    workers: int = 1,
    quiet: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Write ``videos`` synthetic videos and their ground truth under ``out`` (layout in the
    module docstring). Videos already present with the right name are kept (a rerun after an
    interruption finishes the job); every file is written atomically.

    Returns:
        a summary: ``{"out", "videos", "splits": {split: count}, "classes"}``.
    """
    from tqdm.auto import tqdm

    from attnviz.io.atomic import atomic_write_text

    if videos < 1:
        raise ParameterError("videos", f"must be >= 1, got {videos}")
    fractions = parse_splits(splits)
    root = Path(out)
    try:
        (root / "videos").mkdir(parents=True, exist_ok=True)
        (root / "annotations").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AttnvizError(f"{root}: cannot create the output folder ({exc.strerror})") from None
    ext = ".mp4" if config.codec == "mp4" else ".avi"
    specs = [video_spec(seed, i, config=config, classes=classes) for i in range(videos)]
    subset = _assign_splits([s.label for s in specs], fractions)
    todo = [
        (seed, s.index, config, tuple(classes), root / "videos" / f"{s.name}{ext}")
        for s in specs
        if not (root / "videos" / f"{s.name}{ext}").is_file()
    ]
    bar = tqdm(
        total=videos, initial=videos - len(todo), unit="video", disable=quiet or None, desc="synth"
    )
    if workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(_write_one, todo, chunksize=4):
                bar.update(1)
    else:
        for job in todo:
            _write_one(job)
            bar.update(1)
            if progress is not None:
                progress(bar.n)
    bar.close()

    names = [c.name for c in classes]
    fps = config.fps
    atomic_write_text(root / "classes.txt", "".join(f"{k + 1} {n}\n" for k, n in enumerate(names)))
    for split in fractions:
        rows = ["video,label"] + [
            f"{s.name},{names[s.label]}"
            for s, sub in zip(specs, subset, strict=True)
            if sub == split
        ]
        atomic_write_text(root / f"{split}.csv", "\n".join(rows) + "\n")
        for k, name in enumerate(names):
            lines = [
                f"{s.name}  {s.start / fps:.6g} {s.end / fps:.6g}\n"
                for s, sub in zip(specs, subset, strict=True)
                if sub == split and s.label == k
            ]
            atomic_write_text(root / "annotations" / f"{name}_{split}.txt", "".join(lines))
    gttubes, nframes, resolution = {}, {}, {}
    for s in specs:
        frames = np.arange(s.start + 1, s.end + 1, dtype=np.float64)[:, None]
        gttubes[s.name] = {str(s.label): [np.hstack([frames, s.boxes]).tolist()]}
        nframes[s.name] = s.num_frames
        resolution[s.name] = [config.height, config.width]
    act = {
        "labels": names,
        "gttubes": gttubes,
        "nframes": nframes,
        "train_videos": [[s.name for s, sub in zip(specs, subset, strict=True) if sub != "test"]],
        "test_videos": [[s.name for s, sub in zip(specs, subset, strict=True) if sub == "test"]],
        "resolution": resolution,
    }
    atomic_write_text(root / "gt_tubes.json", json.dumps(act))
    meta = {
        "format": "attnviz-synthetic",
        "version": 1,
        "seed": int(seed),
        "videos": int(videos),
        "splits": fractions,
        "config": asdict(config),
        "classes": [asdict(c) for c in classes],
        "items": [
            {
                "video": s.name,
                "file": f"videos/{s.name}{ext}",
                "label": names[s.label],
                "split": sub,
                "num_frames": s.num_frames,
                "start_frame": s.start,
                "end_frame": s.end,
            }
            for s, sub in zip(specs, subset, strict=True)
        ],
    }
    atomic_write_text(root / "synth.json", json.dumps(meta, indent=1))
    counts = {sp: sum(1 for x in subset if x == sp) for sp in fractions}
    return {"out": str(root), "videos": videos, "splits": counts, "classes": names}
