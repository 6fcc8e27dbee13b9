"""The localization rules' parameters, in one frozen object with the paper's values as defaults."""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["PAPER_THRESHOLD", "LocalizeParams"]

#: The paper's binarisation threshold of masks and normalised importance.
PAPER_THRESHOLD = 0.5


@dataclass(frozen=True)
class LocalizeParams:
    """How attention maps become boxes, segments and tubes.

    Attributes:
        threshold: binarisation threshold for masks and normalised importance. ``None``
            (default): the threshold the maps carry (``AttentionOutput.threshold``, the one
            their model was built for), else the paper's 0.5 (:meth:`for_output`).
        mask_norm: ``"none"`` (the mask as the model gives it, in [0, 1]; paper), ``"frame"``
            (min-max per frame) or ``"clip"`` (min-max over all the clip's masks) before
            thresholding.
        largest_component: keep only the largest 8-connected region above threshold.
        box_score: ``"prob_x_mean_mask"`` (default: the class probability x the mean of the
            upsampled, normalised mask inside the box), ``"prob"`` or ``"mean_mask"``.
        frame_boxes: which source frames get a box. ``"interpolated"`` (default): the sampled
            frames, and every frame between two consecutive sampled frames that both have a
            box, with the two boxes' corners and scores interpolated linearly (as the
            UCF101-24 tube builders fill the frames between detections), so that frame-mAP
            over all annotated frames is not capped by the sampling; ``"sampled"``: the sampled
            frames only (the paper's).
        importance: per-frame importance from the ``[T, T]`` weights: ``"mean"`` over steps
            (default), ``"max"`` over steps, or ``"last"`` (the last step's weights). The
            pipeline stores the curve it gives in ``AttentionOutput.frame_importance``, which
            the localization functions use as it is.
        importance_norm: ``"minmax"`` (default) or ``"max"`` (divide by the maximum).
        flat_range: a curve whose range is at most this fraction of its maximum is flat
            (uniform attention): it is not stretched, and gives one segment over the clip
            (default 0.05; 0: only a constant curve; see :mod:`attnviz.localize.temporal`).
        segment_score: ``"prob_x_mean_importance"`` (default), ``"prob"`` or
            ``"mean_importance"``.
        class_index: the class to localize (``None``: the top-scoring class).
        window / stride: sliding windows of ``window`` sampled frames every ``stride`` samples
            for long videos (``fps`` sampling).
    """

    threshold: float | None = None
    mask_norm: str = "none"
    largest_component: bool = False
    box_score: str = "prob_x_mean_mask"
    frame_boxes: str = "interpolated"
    importance: str = "mean"
    importance_norm: str = "minmax"
    flat_range: float = 0.05
    segment_score: str = "prob_x_mean_importance"
    class_index: int | None = None
    window: int = 25
    stride: int = 12

    def __post_init__(self) -> None:
        choices = {
            "mask_norm": ("none", "frame", "clip"),
            "box_score": ("prob_x_mean_mask", "prob", "mean_mask"),
            "frame_boxes": ("interpolated", "sampled"),
            "importance": ("mean", "max", "last"),
            "importance_norm": ("minmax", "max"),
            "segment_score": ("prob_x_mean_importance", "prob", "mean_importance"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not 0.0 <= self.flat_range < 1.0:
            raise ValueError(f"flat_range must be in [0, 1), got {self.flat_range}")
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {self.threshold}")
        if self.window < 1 or not 1 <= self.stride <= self.window:
            raise ValueError(
                f"need window >= 1 and 1 <= stride <= window, got {self.window}, {self.stride}"
            )
        if self.class_index is not None and self.class_index < 0:
            raise ValueError(f"class_index must be >= 0, got {self.class_index}")

    def replace(self, **changes) -> LocalizeParams:
        """A copy with ``changes`` (validated again)."""
        return replace(self, **changes)

    @property
    def threshold_value(self) -> float:
        """The threshold in use: ``threshold``, or the paper's 0.5 when it is unset."""
        return PAPER_THRESHOLD if self.threshold is None else float(self.threshold)

    def with_default(self, threshold: float | None) -> LocalizeParams:
        """These parameters with ``threshold`` set: the one given here, else ``threshold`` (one
        that maps or a model carry), else the paper's 0.5."""
        if self.threshold is not None:
            return self
        return replace(self, threshold=PAPER_THRESHOLD if threshold is None else float(threshold))

    def for_output(self, out) -> LocalizeParams:
        """These parameters with ``threshold`` set for the maps ``out``: the one given, else
        the one ``out`` carries (its model's), else the paper's 0.5."""
        return self.with_default(getattr(out, "threshold", None))
