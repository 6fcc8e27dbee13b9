"""Tiny random-init recognizers and generated videos for the explanation-method tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch


def tiny_model(seed: int = 0, *, classes: int = 4, input_size: int = 64, **kw):
    """ResNet-18 trunk at 64x64 (a 2x2 feature grid) with a narrow attention head."""
    from attnviz.models import build_recognizer

    torch.manual_seed(seed)
    opts = dict(hidden_channels=16, spatial_widths=(16, 8), energy_dim=8, dropout=0.0)
    opts.update(kw)
    return build_recognizer(
        "resnet18",
        classes,
        weights=None,
        random_init=True,
        input_size=input_size,
        class_names=[f"class{k}" for k in range(classes)],
        **opts,
    ).eval()


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def frames():
    """Six 48x64 RGB frames: noise with a bright square that moves."""
    rng = np.random.default_rng(0)
    out = rng.integers(0, 120, size=(6, 48, 64, 3), dtype=np.uint8)
    for t in range(6):
        out[t, 10:26, 5 + 6 * t : 21 + 6 * t] = (240, 40, 40)
    return out


def write_video(path: Path, n: int, width: int = 64, height: int = 48, fps: float = 10.0) -> Path:
    """An MJPG .avi of ``n`` frames (a square moving over noise)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG .avi")
    rng = np.random.default_rng(1)
    for t in range(n):
        img = rng.integers(0, 120, size=(height, width, 3), dtype=np.uint8)
        x = (3 * t) % (width - 16)
        img[8:24, x : x + 16] = (40, 40, 240)
        writer.write(img)
    writer.release()
    return path


@pytest.fixture(name="tiny_model")
def tiny_model_fixture():
    return tiny_model


@pytest.fixture(name="write_video")
def write_video_fixture():
    return write_video


CLASSES = ("Red", "Blue")


def write_dataset(root: Path, *, n_videos: int = 3, frames: int = 20, fps: float = 10.0) -> Path:
    """A tiny data folder in the layout ``attnviz synth`` writes: ``videos/*.avi``, ``test.csv``,
    ``classes.txt``, ``annotations/<Class>_test.txt`` and ``gt_tubes.json`` (ACT layout). The
    actor (a coloured square) is on frames 6..13 (1-based) of each video, inside the boxes the
    ground truth gives."""
    import json

    (root / "videos").mkdir(parents=True)
    (root / "annotations").mkdir()
    rng = np.random.default_rng(2)
    gttubes, nframes, res, rows = {}, {}, {}, ["video,label"]
    lines = {c: [] for c in CLASSES}
    for v in range(n_videos):
        name = f"vid{v}"
        label = v % len(CLASSES)
        colour = (40, 40, 240) if label == 0 else (240, 40, 40)  # BGR
        writer = cv2.VideoWriter(
            str(root / "videos" / f"{name}.avi"), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48)
        )
        if not writer.isOpened():
            pytest.skip("this OpenCV build cannot write MJPG .avi")
        tube = []
        for t in range(frames):
            img = rng.integers(0, 100, size=(48, 64, 3), dtype=np.uint8)
            if 5 <= t < 13:
                x = 4 + 3 * (t - 5)
                img[10:30, x : x + 20] = colour
                tube.append([t + 1, x, 10, x + 20, 30])
            writer.write(img)
        writer.release()
        gttubes[name] = {str(label): [tube]}
        nframes[name] = frames
        res[name] = [48, 64]
        rows.append(f"{name},{CLASSES[label]}")
        lines[CLASSES[label]].append(f"{name} {5 / fps:g} {13 / fps:g}\n")
    for c in CLASSES:
        (root / "annotations" / f"{c}_test.txt").write_text("".join(lines[c]))
    (root / "classes.txt").write_text("".join(f"{k + 1} {c}\n" for k, c in enumerate(CLASSES)))
    (root / "test.csv").write_text("\n".join(rows) + "\n")
    act = {
        "labels": list(CLASSES),
        "gttubes": gttubes,
        "nframes": nframes,
        "train_videos": [[]],
        "test_videos": [list(gttubes)],
        "resolution": res,
    }
    (root / "gt_tubes.json").write_text(json.dumps(act))
    return root


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from attnviz.models import save_checkpoint

    m = tiny_model(1, classes=2)
    m.class_names = CLASSES
    m.config["class_names"] = list(CLASSES)
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt", m)
