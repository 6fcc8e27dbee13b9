"""The paper's spatio-temporal attention recognizer, its losses and checkpoints."""

from attnviz.models.backbone import IMAGENET_MEAN, IMAGENET_STD, build_backbone
from attnviz.models.checkpoint import load_checkpoint, save_checkpoint
from attnviz.models.losses import (
    LossTerms,
    attention_loss,
    contrast_loss,
    tv_loss,
    unimodal_loss,
)
from attnviz.models.precision import autocast
from attnviz.models.recognizer import ModelOutput, Recognizer, build_recognizer

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "LossTerms",
    "ModelOutput",
    "Recognizer",
    "attention_loss",
    "autocast",
    "build_backbone",
    "build_recognizer",
    "contrast_loss",
    "load_checkpoint",
    "save_checkpoint",
    "tv_loss",
    "unimodal_loss",
]
