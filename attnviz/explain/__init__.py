"""Post-hoc explanations next to the model's own attention, all in the same
:class:`~attnviz.types.AttentionOutput`, so that ``localize``, the evaluators, the metrics and
the renderers take any of them unchanged.

Methods: ``attention`` (intrinsic), ``gradcam`` (layer Grad-CAM on
the backbone's last block), ``occlusion`` (frames and feature cells replaced by a baseline),
``ig`` (integrated gradients reduced to the feature grid). See :mod:`attnviz.explain.methods`.
"""

from attnviz.explain.clip import (
    BASELINES,
    Clip,
    blur_frames,
    head_probs,
    prepare_clip,
    spatial_scorer,
    temporal_scorer,
)
from attnviz.explain.methods import (
    METHODS,
    AttentionExplainer,
    ClipMaps,
    Explainer,
    GradCAMExplainer,
    IGExplainer,
    OcclusionExplainer,
    make_explainer,
    parse_methods,
)
from attnviz.explain.randomize import (
    RANDOMIZATION_STAGES,
    cascading_randomization,
    stage_modules,
)
from attnviz.explain.video import explain_frames, explain_video_methods, stitch

__all__ = [
    "BASELINES",
    "METHODS",
    "RANDOMIZATION_STAGES",
    "AttentionExplainer",
    "Clip",
    "ClipMaps",
    "Explainer",
    "GradCAMExplainer",
    "IGExplainer",
    "OcclusionExplainer",
    "blur_frames",
    "cascading_randomization",
    "explain_frames",
    "explain_video_methods",
    "head_probs",
    "make_explainer",
    "parse_methods",
    "prepare_clip",
    "spatial_scorer",
    "stage_modules",
    "stitch",
    "temporal_scorer",
]
