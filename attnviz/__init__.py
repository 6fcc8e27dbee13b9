"""attnviz: interpretable spatio-temporal attention for video action recognition, and exact
evaluators for how well explanations localize actions (THUMOS14, UCF101-24, JHMDB-21).

The public API, in the order of a job::

    import attnviz

    out = attnviz.explain_video("clip.mp4", checkpoint="runs/x")   # AttentionOutput
    found = attnviz.localize(out)                                   # boxes, tubes, segments
    attnviz.save_attention("maps.npz", out)
    result = attnviz.evaluate.thumos14("annotations_test/", found.segments,
                                       class_names=out.class_names)
    model = attnviz.build_recognizer("resnet18", num_classes=3, random_init=True)
    attnviz.save_checkpoint("model.pt", model)
    model, info = attnviz.load_checkpoint("model.pt")

Names that need torch (``explain_video``, ``build_recognizer``, ``save_checkpoint``,
``load_checkpoint``) are imported on first use, so ``import attnviz`` stays light.
"""

import importlib

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

_LAZY = {
    "explain_video": "attnviz.pipeline.explain",
    "build_recognizer": "attnviz.models",
    "save_checkpoint": "attnviz.models",
    "load_checkpoint": "attnviz.models",
    "attention_loss": "attnviz.models",
    "load_attention": "attnviz.io.maps",
    "save_attention": "attnviz.io.maps",
    "LocalizeParams": "attnviz.localize",
    "Localization": "attnviz.localize",
}


def __getattr__(name: str):
    if name in ("localize", "evaluate"):
        return importlib.import_module(f"attnviz.{name}")
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'attnviz' has no attribute {name!r}")


__all__ = [
    "AttentionOutput",
    "Localization",
    "LocalizeParams",
    "attention_loss",
    "build_recognizer",
    "evaluate",
    "explain_video",
    "load_attention",
    "load_checkpoint",
    "localize",
    "save_attention",
    "save_checkpoint",
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
