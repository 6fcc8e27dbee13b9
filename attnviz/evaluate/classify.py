"""Video classification accuracy: top-1 / top-5 (Tables 2-4 of the paper).

``match()`` ranks the true class of each video; ``accumulate()`` turns ranks into top-k
accuracies. Ties: a video's rank is the number of classes with a strictly higher score plus the
number of classes with an equal score and a smaller index (the order a stable descending sort
gives), so a tie never counts as correct for two classes at once. numpy only; prints nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ClassifyResult", "accumulate", "classify_accuracy", "match"]


@dataclass(frozen=True)
class ClassifyResult:
    """Top-k accuracy of one model on one set of videos.

    Attributes:
        ks (tuple[int, ...]): the k's, e.g. ``(1, 5)``.
        accuracy (ndarray[len(ks)]): fraction in [0, 1] of videos whose class is in the top k.
        per_class (ndarray[K, len(ks)]): the same per true class (NaN for classes without video).
        counts (ndarray[K] int): videos per class.
        class_names (tuple[str, ...]): K names.
        n (int): number of videos.
        mean_class_accuracy (ndarray[len(ks)]): mean over the classes that have videos.
    """

    ks: tuple[int, ...]
    accuracy: np.ndarray
    per_class: np.ndarray
    counts: np.ndarray
    class_names: tuple[str, ...]
    n: int
    mean_class_accuracy: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def top(self, k: int) -> float:
        """Accuracy at ``k`` (one of ``ks``)."""
        return float(self.accuracy[self.ks.index(k)])

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "ks": list(self.ks),
            "accuracy": {f"top{k}": float(a) for k, a in zip(self.ks, self.accuracy, strict=True)},
            "mean_class_accuracy": {
                f"top{k}": float(a) for k, a in zip(self.ks, self.mean_class_accuracy, strict=True)
            },
            "per_class": {
                name: {
                    f"top{k}": (None if np.isnan(v) else float(v))
                    for k, v in zip(self.ks, self.per_class[c], strict=True)
                }
                for c, name in enumerate(self.class_names)
            },
        }


def match(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """0-based rank of the true class of each video.

    Args:
        scores (ndarray[N, K]): class scores (logits or probabilities; any monotone scale).
        labels (ndarray[N] int): true class indices.

    Returns:
        ndarray[N] int64: rank 0 = top-1.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if s.ndim != 2:
        raise ValueError(f"scores must be [N, K], got shape {s.shape}")
    if y.shape != (s.shape[0],):
        raise ValueError(f"labels must be [N={s.shape[0]}], got shape {y.shape}")
    if len(y) and (y.min() < 0 or y.max() >= s.shape[1]):
        raise ValueError(f"labels must be in [0, {s.shape[1]}), got {y.min()}..{y.max()}")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN")
    true = s[np.arange(len(y)), y][:, None]
    higher = (s > true).sum(axis=1)
    cols = np.arange(s.shape[1])[None, :]
    tied_before = ((s == true) & (cols < y[:, None])).sum(axis=1)
    return (higher + tied_before).astype(np.int64)


def accumulate(
    ranks: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    ks: Sequence[int] = (1, 5),
    class_names: Sequence[str] | None = None,
) -> ClassifyResult:
    """Top-k accuracies from the ranks of :func:`match`."""
    r = np.asarray(ranks, dtype=np.int64)
    y = np.asarray(labels, dtype=np.int64)
    ks = tuple(int(k) for k in ks)
    if any(k < 1 for k in ks):
        raise ValueError(f"k must be >= 1, got {ks}")
    hit = r[:, None] < np.asarray(ks)[None, :]  # [N, len(ks)]
    counts = np.bincount(y, minlength=num_classes)[:num_classes]
    per = np.full((num_classes, len(ks)), np.nan)
    for c in np.flatnonzero(counts):
        per[c] = hit[y == c].mean(axis=0)
    acc = hit.mean(axis=0) if len(r) else np.zeros(len(ks))
    present = counts > 0
    mca = per[present].mean(axis=0) if present.any() else np.zeros(len(ks))
    names = (
        tuple(str(n) for n in class_names)
        if class_names is not None
        else tuple(f"class_{c}" for c in range(num_classes))
    )
    if len(names) != num_classes:
        raise ValueError(f"{len(names)} class names for {num_classes} classes")
    return ClassifyResult(ks, acc, per, counts, names, int(len(r)), mca)


def classify_accuracy(
    scores: np.ndarray,
    labels: np.ndarray,
    ks: Sequence[int] = (1, 5),
    class_names: Sequence[str] | None = None,
) -> ClassifyResult:
    """Top-k accuracy of ``scores [N, K]`` against ``labels [N]`` (``match`` + ``accumulate``).

    Example: scores ``[[0.1, 0.7, 0.2]]``, label 2 -> rank 1: top-1 0, top-2 1.
    """
    s = np.asarray(scores)
    k = s.shape[1] if s.ndim == 2 else 0
    return accumulate(match(s, labels), labels, k, ks, class_names)
