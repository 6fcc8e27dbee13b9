"""attnviz: interpretable spatio-temporal attention for video action recognition, and exact
evaluators for how well explanations localize actions (THUMOS14, UCF101-24, JHMDB-21)."""

from attnviz.types import (
    AttentionOutput,
    Box,
    EvalResult,
    GTTube,
    Segment,
    SpatialGroundTruth,
    TemporalGroundTruth,
    Tube,
    VideoAnnotation,
    VideoInfo,
)

__version__ = "0.1.0"

__all__ = [
    "AttentionOutput",
    "Box",
    "EvalResult",
    "GTTube",
    "Segment",
    "SpatialGroundTruth",
    "TemporalGroundTruth",
    "Tube",
    "VideoAnnotation",
    "VideoInfo",
    "__version__",
]
