"""Cascading model randomisation (Adebayo et al., "Sanity checks for saliency maps", 2018):
re-initialise the model's layers from the top down, one stage at a time, and see whether an
explanation changes. The rank correlation with the trained model's maps is in
:func:`attnviz.metrics.rank_correlation`."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence

import torch
from torch import nn

__all__ = ["RANDOMIZATION_STAGES", "cascading_randomization", "stage_modules"]

#: Stages from the top of the network (the classifier) to the bottom (the backbone's stem).
RANDOMIZATION_STAGES = (
    "classifier",
    "convlstm",
    "temporal_attention",
    "spatial_attention",
    "backbone.layer4",
    "backbone.layer3",
    "backbone.layer2",
    "backbone.layer1",
    "backbone.stem",
)


def stage_modules(model: nn.Module, stage: str) -> list[nn.Module]:
    """The modules of ``model`` (a :class:`~attnviz.models.Recognizer`) that ``stage``
    re-initialises; empty when the model has no such part (an ablated attention, a
    features-only model, a backbone cut before ``layer4``)."""
    if stage == "classifier":
        return [model.classifier]
    if stage == "convlstm":
        return [model.cell, model.init_h, model.init_c]
    if stage == "temporal_attention":
        return [model.energy] if model.energy is not None else []
    if stage == "spatial_attention":
        return [model.spatial] if model.spatial is not None else []
    if stage.startswith("backbone."):
        trunk = model.backbone
        if trunk is None:
            return []
        part = stage.split(".", 1)[1]
        if part == "stem":
            return [trunk[0], trunk[1]]
        k = int(part.removeprefix("layer"))
        return [trunk[3 + k]] if 3 + k < len(trunk) else []
    raise ValueError(f"unknown randomisation stage {stage!r}: expected {RANDOMIZATION_STAGES}")


def _reinit(module: nn.Module) -> None:
    for m in module.modules():
        if hasattr(m, "reset_parameters") and callable(m.reset_parameters):
            m.reset_parameters()
        # parameters a module owns directly without a reset (the ConvLSTM gate bias) go back
        # to their value at construction: zero
        if not hasattr(m, "reset_parameters"):
            for p in m.parameters(recurse=False):
                with torch.no_grad():
                    p.zero_()


def cascading_randomization(
    model: nn.Module, *, stages: Sequence[str] | None = None, seed: int = 0
) -> Iterator[tuple[str, nn.Module]]:
    """Yield ``(stage, randomised model)`` for each stage in turn, each model with that stage
    and every stage before it re-initialised (a deep copy; ``model`` is never touched). The
    same copy is modified in place from one step to the next, so use each before asking for
    the next. Stages the model does not have are skipped."""
    work = copy.deepcopy(model).eval()
    gen = torch.Generator().manual_seed(seed)
    for stage in stages if stages is not None else RANDOMIZATION_STAGES:
        mods = stage_modules(work, stage)
        if not mods:
            continue
        with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
            for m in mods:
                _reinit(m)
        yield stage, work
