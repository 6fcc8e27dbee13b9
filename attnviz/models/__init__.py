"""The paper's spatio-temporal attention recognizer, its losses and checkpoints."""

from attnviz.models.backbone import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    build_backbone,
    feature_channels,
    imagenet_weights_path,
)
from attnviz.models.checkpoint import load_checkpoint, save_checkpoint
from attnviz.models.losses import (
    LossTerms,
    attention_loss,
    contrast_loss,
    tv_loss,
    unimodal_loss,
)
from attnviz.models.precision import autocast, native_bf16
from attnviz.models.recognizer import (
    FrameTerms,
    ModelOutput,
    Recognizer,
    SplicedFrames,
    build_recognizer,
)

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "FrameTerms",
    "LossTerms",
    "ModelOutput",
    "Recognizer",
    "SplicedFrames",
    "attention_loss",
    "autocast",
    "build_backbone",
    "build_recognizer",
    "contrast_loss",
    "feature_channels",
    "imagenet_weights_path",
    "load_checkpoint",
    "native_bf16",
    "save_checkpoint",
    "tv_loss",
    "unimodal_loss",
]
