"""Any video classifier as attnviz explains it: one small interface, three implementations.

:class:`ExplainableVideoModel` is what every explanation method of
:mod:`attnviz.explain.video_methods` needs from a model:

* ``preprocess``: a :class:`ClipTransform` (clip length, resize, centre crop, mean / std, as
  the weights' own transforms give them) turning ``frames [T, H, W, 3] uint8`` into the model's
  input ``[3, T, S, S]``, and mapping maps on the crop back onto the whole source frame;
* ``forward(x [B, 3, T, S, S]) -> logits [B, K]`` and ``class_names`` (``K`` names);
* ``target_layer`` (a module name) whose output, turned into ``[B, C, T', h, w]`` by
  :meth:`ExplainableVideoModel.to_bcthw`, holds the spatio-temporal features.

Implementations: :class:`TorchvisionVideoModel` (``r3d_18``, ``mc3_18``, ``r2plus1d_18``,
``s3d``, ``mvit_v1_b``, ``mvit_v2_s``, ``swin3d_t`` / ``swin3d_s`` / ``swin3d_b``),
:class:`UserVideoModel` (a TorchScript file or a ``package.module:factory`` entry point) and
:class:`PaperVideoModel` (the paper's :class:`~attnviz.models.Recognizer`). Build them with
:func:`load_video_model`.

Weights are torchvision's (:func:`resolve_video_weights`): ``DEFAULT`` / an enum name such as
``KINETICS400_V1`` goes through ``torchvision.models.get_model_weights(arch)[name]
.get_state_dict(progress=True)``, which downloads into the torch hub cache
(``$TORCH_HOME/hub/checkpoints/<file name of weights.url>``) where there is a network and reads
that file without one; ``none`` is random initialisation (Kinetics-400's class names all the
same); a ``.pth`` file is a state dict read with ``weights_only=True``.

Layouts of the target layer's output:

=========  ==================================  ============================================
layout     output                              models
=========  ==================================  ============================================
bcthw      ``Tensor[B, C, T', h, w]``          r3d_18, mc3_18, r2plus1d_18, s3d, user's
bthwc      ``Tensor[B, T', h, w, C]``          swin3d_* (``features``)
tokens     ``Tensor[B, 1 + T'hw, C]``          mvit_* (the last block's ``norm1``: its
                                               output reaches the class token through
                                               attention; a block's output ``(x, thw)`` is
                                               also taken; the class token is dropped)
frames     ``Tensor[B * T, C, h, w]``          the paper's recognizer (per-frame backbone)
=========  ==================================  ============================================
"""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from attnviz.errors import AttnvizError

__all__ = [
    "KINETICS_MEAN",
    "KINETICS_STD",
    "TORCHVISION_VIDEO_MODELS",
    "ClipTransform",
    "ExplainableVideoModel",
    "PaperVideoModel",
    "TorchvisionVideoModel",
    "UserVideoModel",
    "load_video_model",
    "read_video_weights",
    "resolve_video_weights",
    "save_video_weights",
]

#: Kinetics-400 normalisation of torchvision's 3D ResNets and S3D (RGB in [0, 1]).
KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)

#: name -> (default target layer, layout).
TORCHVISION_VIDEO_MODELS: dict[str, tuple[str, str]] = {
    "r3d_18": ("layer4", "bcthw"),
    "mc3_18": ("layer4", "bcthw"),
    "r2plus1d_18": ("layer4", "bcthw"),
    "s3d": ("features", "bcthw"),
    "mvit_v1_b": ("blocks.15.norm1", "tokens"),
    "mvit_v2_s": ("blocks.15.norm1", "tokens"),
    "swin3d_t": ("features", "bthwc"),
    "swin3d_s": ("features", "bthwc"),
    "swin3d_b": ("features", "bthwc"),
}

LAYOUTS = ("bcthw", "bthwc", "tokens", "frames")


# --------------------------------------------------------------------------- preprocessing
@dataclass(frozen=True)
class ClipTransform:
    """A model's preprocessing and the geometry that maps its maps back to source frames.

    ``crop`` mode is torchvision's ``VideoClassification`` preset: uint8 frames resized
    (``resize = (h, w)`` exactly, or ``(s,)``: the shorter side to ``s``, aspect kept)
    bilinearly without antialiasing, centre-cropped to ``crop``, scaled to [0, 1],
    normalised. A map on the crop is placed back on the source frame through the crop (zero
    outside it). ``resize`` mode
    resizes the whole frame to ``crop`` (aspect not kept, nothing cut off): the map covers the
    whole frame, as the paper's model does.

    Attributes:
        clip_len (int): frames per clip the weights were trained with.
        resize (tuple[int] or tuple[int, int]): resize before the crop.
        crop (tuple[int, int]): ``(S_h, S_w)`` the model sees.
        mean, std (tuple[float, float, float]): RGB normalisation of [0, 1] frames.
        mode (str): ``crop`` (default) or ``resize``.
    """

    clip_len: int
    resize: tuple[int, ...]
    crop: tuple[int, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    mode: str = "crop"

    def __post_init__(self) -> None:
        if self.mode not in ("crop", "resize"):
            raise AttnvizError(f"preprocessing mode must be crop or resize, got {self.mode!r}")
        if self.clip_len < 1 or len(self.resize) not in (1, 2) or len(self.crop) != 2:
            raise AttnvizError(
                f"bad clip transform: clip_len={self.clip_len}, resize={self.resize}, "
                f"crop={self.crop}"
            )

    def resized_size(self, height: int, width: int) -> tuple[int, int]:
        """``(Rh, Rw)`` of a ``height x width`` frame after the resize (before the crop)."""
        if self.mode == "resize":
            return int(self.crop[0]), int(self.crop[1])
        if len(self.resize) == 2:
            return int(self.resize[0]), int(self.resize[1])
        s = int(self.resize[0])
        if height <= width:
            return s, int(s * width / height)
        return int(s * height / width), s

    def crop_box(self, height: int, width: int) -> tuple[float, float, float, float]:
        """The crop in source pixels: ``(x1, y1, x2, y2)``."""
        rh, rw = self.resized_size(height, width)
        ch, cw = self.crop
        if self.mode == "resize":
            return 0.0, 0.0, float(width), float(height)
        top, left = int(round((rh - ch) / 2.0)), int(round((rw - cw) / 2.0))
        sy, sx = height / rh, width / rw
        return left * sx, top * sy, (left + cw) * sx, (top + ch) * sy

    def __call__(self, frames: np.ndarray) -> torch.Tensor:
        """``frames [T, H, W, 3] uint8`` RGB -> ``float32 [3, T, S_h, S_w]``."""
        arr = np.asarray(frames)
        if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
            raise AttnvizError(
                f"frames must be [T, H, W, 3] uint8 RGB, got {arr.dtype} {tuple(arr.shape)}"
            )
        from torchvision.transforms import functional as TF

        x = torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2)
        rh, rw = self.resized_size(*arr.shape[1:3])
        if (rh, rw) != tuple(x.shape[-2:]):  # on uint8, no antialias: torchvision's preset
            x = TF.resize(x, [rh, rw], antialias=False)
        if self.mode == "crop":
            x = TF.center_crop(x, list(self.crop))
        x = x.float() / 255.0
        mean = torch.tensor(self.mean).view(1, 3, 1, 1)
        std = torch.tensor(self.std).view(1, 3, 1, 1)
        return ((x - mean) / std).permute(1, 0, 2, 3).contiguous()

    def frame_grid(self, grid: tuple[int, int], height: int, width: int) -> tuple[int, int]:
        """Size of the grid over the whole source frame that :meth:`to_frame` writes: in
        ``resize`` mode the map's own grid; in ``crop`` mode cells half the size of a map
        cell, covering the whole frame."""
        if self.mode == "resize":
            return int(grid[0]), int(grid[1])
        x1, y1, x2, y2 = self.crop_box(height, width)
        cy, cx = (y2 - y1) / grid[0], (x2 - x1) / grid[1]  # a map cell, in source pixels
        return max(1, int(np.ceil(2 * height / cy))), max(1, int(np.ceil(2 * width / cx)))

    def to_frame(self, maps: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """``maps [T, h, w]`` on the model's input -> ``[T, Hg, Wg]`` over the whole
        ``height x width`` source frame (:meth:`frame_grid`): a cell whose centre lies in the
        crop takes the bilinear value of the map there (the map's edge values continue up to
        the crop's edge), any other cell zero. Values stay in the maps' range
        (bilinear weights are convex)."""
        if self.mode == "resize":
            return maps
        hg, wg = self.frame_grid(tuple(maps.shape[-2:]), height, width)
        x1, y1, x2, y2 = self.crop_box(height, width)
        ys = (torch.arange(hg, dtype=torch.float64) + 0.5) * height / hg
        xs = (torch.arange(wg, dtype=torch.float64) + 0.5) * width / wg
        gy = 2 * (ys - y1) / (y2 - y1) - 1  # align_corners=False: -1/+1 are the crop's edges
        gx = 2 * (xs - x1) / (x2 - x1) - 1
        grid = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], dim=-1).float()
        out = F.grid_sample(
            maps[:, None].float(),
            grid[None].expand(len(maps), -1, -1, -1),
            mode="bilinear",
            padding_mode="border",
            align_corners=False,
        )
        inside = ((gy.abs() <= 1)[:, None] & (gx.abs() <= 1)[None, :]).to(out.dtype)
        return out[:, 0] * inside


# --------------------------------------------------------------------------- interface
class ExplainableVideoModel:
    """What an explanation method needs from a video classifier (see the module docstring).

    Attributes:
        name (str): the architecture or file.
        module (nn.Module): the network, in eval mode.
        preprocess (ClipTransform): frames -> input, maps -> source frame.
        class_names (tuple[str, ...]): ``K`` names.
        target_layer (str or None): the module whose output holds the features.
        layout (str): how that output is laid out (:data:`LAYOUTS`).
    """

    name: str
    module: nn.Module
    preprocess: ClipTransform
    class_names: tuple[str, ...]
    target_layer: str | None
    layout: str

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x [B, 3, T, S_h, S_w]`` (preprocessed) -> ``logits [B, K]``."""
        return self.module(x)

    @property
    def device(self) -> torch.device:
        p = next(self.module.parameters(), None)
        return p.device if p is not None else torch.device("cpu")

    def layer(self) -> nn.Module:
        """The target layer's module (an error lists candidates when it does not exist)."""
        if self.target_layer is None:
            raise AttnvizError(
                f"{self.name}: no target layer; pass one ({{target_layer}} NAME) to use a "
                "layer-based method",
                params=("target_layer",),
            )
        return find_layer(self.module, self.target_layer, self.name)

    def features_tensor(self, out) -> torch.Tensor:
        """The tensor to differentiate in the target layer's output (the first element of a
        tuple)."""
        return out[0] if isinstance(out, (tuple, list)) else out

    def to_bcthw(self, out, grad: torch.Tensor | None = None, *, clip_len: int) -> torch.Tensor:
        """The target layer's output (or ``grad``, its gradient, laid out like it) as
        ``[B, C, T', h, w]``."""
        t = self.features_tensor(out) if grad is None else grad
        if self.layout == "bcthw":
            if t.ndim != 5:
                raise AttnvizError(
                    f"{self.name}: target layer {self.target_layer!r} gives "
                    f"{tuple(t.shape)}, not [B, C, T', h, w]"
                )
            return t
        if self.layout == "bthwc":
            return t.permute(0, 4, 1, 2, 3)
        if self.layout == "tokens":
            b, n, c = t.shape
            if isinstance(out, (tuple, list)):
                tt, hh, ww = (int(v) for v in out[1])
            else:  # T' from the patch embedding's stride, a square grid
                tt = clip_len // int(self.module.conv_proj.stride[0])
                hh = ww = int(round(((n - 1) / max(tt, 1)) ** 0.5))
            if n == tt * hh * ww + 1:
                t = t[:, 1:]
            elif n != tt * hh * ww:
                raise AttnvizError(
                    f"{self.name}: {n} tokens do not form a {tt}x{hh}x{ww} grid (+ class token)"
                )
            return t.reshape(b, tt, hh, ww, c).permute(0, 4, 1, 2, 3)
        if self.layout == "frames":
            bt, c, hh, ww = t.shape
            return t.reshape(bt // clip_len, clip_len, c, hh, ww).permute(0, 2, 1, 3, 4)
        raise AttnvizError(f"unknown layout {self.layout!r}: expected one of {', '.join(LAYOUTS)}")

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name!r}, target_layer={self.target_layer!r}, "
            f"clip_len={self.preprocess.clip_len}, classes={len(self.class_names)})"
        )


def layer_candidates(module: nn.Module, limit: int = 12) -> list[str]:
    """Names of ``module``'s sub-modules at depth <= 2, the last ``limit`` of them (the deep
    end of a network is where target layers are)."""
    names = [n for n, _ in module.named_modules() if n and n.count(".") <= 1]
    return names[-limit:]


def find_layer(module: nn.Module, name: str, owner: str = "model") -> nn.Module:
    """``module``'s sub-module called ``name`` (dotted path)."""
    found = dict(module.named_modules()).get(name)
    if found is None or not name:
        raise AttnvizError(
            f"{owner}: no layer named {name!r}; candidates: {', '.join(layer_candidates(module))}"
        )
    return found


# --------------------------------------------------------------------------- weights
def _tv_weights_enum(arch: str):
    import torchvision

    return torchvision.models.get_model_weights(arch)


def _clip_len_from_docs(meta: dict, default: int = 16) -> int:
    m = re.search(r"clip_len=(\d+)", str(meta.get("_docs", "")))
    return int(m.group(1)) if m else default


def _read_state_file(path: Path) -> dict[str, torch.Tensor]:
    from attnviz.models.backbone import _load_state

    if not path.is_file():
        raise AttnvizError(f"{path}: weights file not found")
    return _load_state(path, what="weights", expected="a state dict")


def read_video_weights(path: str | os.PathLike[str]) -> tuple[dict, tuple[str, ...] | None]:
    """``(state dict, class names or None)`` of a weights file: a plain state dict, or the
    ``{"state_dict", "class_names", "arch"}`` mapping :func:`save_video_weights` writes (read
    with ``weights_only=True``)."""
    path = Path(path).expanduser()
    state = _read_state_file(path)
    names = None
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # _read_state_file read it already; a second failure changes nothing
        raw = None
    if isinstance(raw, dict) and isinstance(raw.get("class_names"), (list, tuple)):
        if not all(isinstance(n, str) for n in raw["class_names"]):
            raise AttnvizError(f"{path}: class_names must be a list of strings")
        names = tuple(raw["class_names"])
    return state, names


def save_video_weights(
    path: str | os.PathLike[str], module: nn.Module, class_names, *, arch: str = ""
) -> Path:
    """Write ``module``'s weights with their class names (atomically): ``{"state_dict",
    "class_names", "arch"}``, which ``--weights FILE`` reads (:func:`read_video_weights`) and
    any ``torch.load(...)["state_dict"]`` too."""
    from attnviz.io.atomic import atomic_path

    state = {k: v.detach().cpu() for k, v in module.state_dict().items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save({"state_dict": state, "class_names": list(class_names), "arch": arch}, tmp)
    return path


def load_fitting(module: nn.Module, state: dict[str, torch.Tensor], source: str, arch: str):
    """``module.load_state_dict(state)`` with an error that names the keys that do not fit."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
        for k in own
        if k in state and tuple(state[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing ({', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected ({', '.join(unexpected[:3])})")
        if shapes:
            parts.append(f"{len(shapes)} of another shape ({'; '.join(shapes[:3])})")
        raise AttnvizError(f"{source}: weights do not fit {arch}: keys {', '.join(parts)}")
    module.load_state_dict(state)


def resolve_video_weights(arch: str, weights: str | os.PathLike[str] | None, *, progress=True):
    """``(state_dict or None, torchvision weights entry or None)`` for ``arch``.

    Args:
        arch: a torchvision model name (``r2plus1d_18``, ``resnet50``, ...).
        weights: ``DEFAULT`` or an enum name (``KINETICS400_V1``, ``IMAGENET1K_V2``): through
            torchvision's weights API, downloaded into the torch hub cache when missing and a
            network is there, read from the cache otherwise; ``none`` / ``None``: random
            initialisation; anything else: a state dict file.

    Raises:
        AttnvizError: an enum name the architecture does not have (the known ones are listed);
            no network and no cached file (the message names the file and the folder).
    """
    if weights is None or str(weights).lower() == "none":
        return None, None
    spec = str(weights)
    enum = _tv_weights_enum(arch)
    if not Path(spec).expanduser().is_file() and re.fullmatch(r"[A-Z][A-Z0-9_]*", spec):
        names = ["DEFAULT", *(e.name for e in enum)]
        if spec not in names:
            raise AttnvizError(
                f"{arch} has no weights {spec!r}: expected one of {', '.join(names)}, none, or a "
                "file"
            )
        entry = enum[spec] if spec != "DEFAULT" else enum.DEFAULT
        folder = Path(torch.hub.get_dir()) / "checkpoints"
        fname = os.path.basename(entry.url)
        try:
            state = entry.get_state_dict(progress=progress, weights_only=True)
        except Exception as exc:  # no network (URLError, socket errors) or a broken download
            if (folder / fname).is_file():
                raise AttnvizError(
                    f"{folder / fname}: cannot read {arch} weights ({exc.__class__.__name__})"
                ) from None
            raise AttnvizError(
                f"{arch} {entry.name} weights not found and cannot be downloaded: put "
                f"torchvision's {fname} into {folder} (the torch hub cache; TORCH_HOME moves it)"
            ) from None
        return state, entry
    path = Path(spec).expanduser()
    return _read_state_file(path), None


# --------------------------------------------------------------------------- torchvision
class TorchvisionVideoModel(ExplainableVideoModel):
    """One of torchvision's video classifiers (:data:`TORCHVISION_VIDEO_MODELS`).

    Args:
        arch: the model name.
        weights: see :func:`resolve_video_weights`; the default is ``none``.
        target_layer: instead of the architecture's last feature block.
        mode: ``crop`` (the weights' transform) or ``resize`` (whole frame).
        clip_len: instead of the weights' documented clip length.
        class_names: the classes of a model without named weights (``none``, or a state dict
            file that carries no names): the classifier gets ``len(class_names)`` outputs. A
            file written by :func:`save_video_weights` brings its own.
    """

    def __init__(
        self,
        arch: str,
        *,
        weights: str | os.PathLike[str] | None = None,
        target_layer: str | None = None,
        mode: str = "crop",
        clip_len: int | None = None,
        progress: bool = True,
        class_names: tuple[str, ...] | None = None,
    ) -> None:
        import torchvision

        if arch not in TORCHVISION_VIDEO_MODELS:
            raise AttnvizError(f"unknown video model {arch!r}: expected one of {known_models()}")
        state, entry = resolve_video_weights(arch, weights, progress=progress)
        meta_entry = entry or _tv_weights_enum(arch).DEFAULT
        if state is not None and entry is None:  # a file: it may carry its own class names
            state, file_names = read_video_weights(Path(str(weights)))
            class_names = file_names or class_names
        if entry is not None:
            class_names = None  # named weights: their own (Kinetics-400) classes
        kw = {"num_classes": len(class_names)} if class_names else {}
        net = torchvision.models.get_model(arch, weights=None, **kw)
        if state is not None:
            source = str(weights) if entry is None else f"{arch} {entry.name}"
            load_fitting(net, state, source, arch)
        tf = meta_entry.transforms()
        self.name = arch
        self.weights = "none" if state is None else (entry.name if entry else str(weights))
        self.module = net.eval()
        self.class_names = tuple(class_names or meta_entry.meta["categories"])
        self.preprocess = ClipTransform(
            clip_len=clip_len or _clip_len_from_docs(meta_entry.meta),
            resize=tuple(int(v) for v in tf.resize_size),
            crop=tuple(int(v) for v in tf.crop_size),
            mean=tuple(float(v) for v in tf.mean),
            std=tuple(float(v) for v in tf.std),
            mode=mode,
        )
        default_layer, self.layout = TORCHVISION_VIDEO_MODELS[arch]
        self.target_layer = target_layer or default_layer
        find_layer(self.module, self.target_layer, arch)


# --------------------------------------------------------------------------- user's model
class UserVideoModel(ExplainableVideoModel):
    """A user's own classifier: a TorchScript file or ``package.module:factory`` (a callable
    returning an ``nn.Module`` taking ``[B, 3, T, S, S]`` and returning logits ``[B, K]``).

    The target layer's output must be ``[B, C, T', h, w]`` (``layout="bcthw"``) or
    ``[B, T', h, w, C]`` (``bthwc``). Class names: the module's ``class_names`` attribute if
    it has one, else ``class_names``, else ``"0" .. "K-1"`` (``K`` from one forward pass).
    Preprocessing defaults to torchvision's Kinetics-400 3D ResNets' (16 frames, 128x171,
    crop 112, Kinetics mean / std).
    """

    def __init__(
        self,
        spec: str,
        *,
        target_layer: str | None = None,
        layout: str = "bcthw",
        preprocess: ClipTransform | None = None,
        class_names: tuple[str, ...] | None = None,
        weights: str | os.PathLike[str] | None = None,
    ) -> None:
        self.name = spec
        self.module = _load_user_module(spec).eval()
        if weights is not None and str(weights).lower() != "none":
            if str(weights).upper() == str(weights):
                raise AttnvizError(
                    f"{spec}: torchvision weight names apply to torchvision models only; pass "
                    "a state dict file"
                )
            load_fitting(self.module, _read_state_file(Path(weights)), str(weights), spec)
        self.weights = "none" if weights is None else str(weights)
        if layout not in ("bcthw", "bthwc"):
            raise AttnvizError(f"a user's model layout must be bcthw or bthwc, got {layout!r}")
        self.layout = layout
        self.preprocess = preprocess or ClipTransform(16, (128, 171), (112, 112), KINETICS_MEAN,
                                                      KINETICS_STD)  # fmt: skip
        self.target_layer = target_layer
        if target_layer is not None:
            find_layer(self.module, target_layer, spec)
        names = class_names or getattr(self.module, "class_names", None)
        if names is None:
            p = self.preprocess
            with torch.no_grad():
                k = self.forward(torch.zeros(1, 3, p.clip_len, *p.crop, device=self.device))
            names = tuple(str(i) for i in range(k.shape[-1]))
        self.class_names = tuple(str(n) for n in names)


def _load_user_module(spec: str) -> nn.Module:
    path = Path(spec).expanduser()
    if path.is_file():
        try:
            return torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:
            raise AttnvizError(
                f"{path}: not a TorchScript file ({exc.__class__.__name__}); a state dict goes "
                "with {model} ARCH {weights} FILE",
                params=("model", "weights"),
            ) from None
    if ":" not in spec:
        raise AttnvizError(f"unknown video model {spec!r}: expected one of {known_models()}")
    mod_name, _, attr = spec.partition(":")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as exc:
        raise AttnvizError(f"{spec}: cannot import {mod_name} ({exc})") from None
    factory = getattr(mod, attr, None)
    if not callable(factory):
        raise AttnvizError(f"{spec}: {mod_name} has no callable {attr!r}")
    net = factory()
    if not isinstance(net, nn.Module):
        raise AttnvizError(f"{spec}: the factory returned {type(net).__name__}, not an nn.Module")
    return net


# --------------------------------------------------------------------------- paper's model
class PaperVideoModel(ExplainableVideoModel):
    """The paper's :class:`~attnviz.models.Recognizer` behind the same interface: every
    frame resized whole to ``input_size`` (ImageNet mean / std), ``clip_len`` frames (the
    paper's n = 25), target layer the backbone (features ``[B*T, C, h, w]`` per frame, so
    ``T' = T``)."""

    def __init__(self, recognizer: nn.Module, *, clip_len: int = 25) -> None:
        from attnviz.models.backbone import IMAGENET_MEAN, IMAGENET_STD

        if recognizer.backbone is None:
            raise AttnvizError("this recognizer takes cached features, not video frames")
        s = int(recognizer.input_size)
        self.name = "paper"
        self.weights = "checkpoint"
        self.module = recognizer.eval()
        self.class_names = tuple(recognizer.class_names)
        self.preprocess = ClipTransform(clip_len, (s, s), (s, s), IMAGENET_MEAN, IMAGENET_STD,
                                        mode="resize")  # fmt: skip
        self.target_layer = "backbone"
        self.layout = "frames"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x.permute(0, 2, 1, 3, 4)).logits


# --------------------------------------------------------------------------- factory
def known_models() -> str:
    return (
        f"{', '.join(TORCHVISION_VIDEO_MODELS)}, paper, a TorchScript file or "
        "package.module:factory"
    )


def load_video_model(
    model: str,
    *,
    weights: str | os.PathLike[str] | None = "none",
    target_layer: str | None = None,
    mode: str = "crop",
    clip_len: int | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    class_names: tuple[str, ...] | None = None,
) -> ExplainableVideoModel:
    """The model named ``model`` (a torchvision architecture, ``paper`` for the paper's
    recognizer from ``checkpoint`` (default: the embedded one), a TorchScript file or
    ``package.module:factory``), on ``device``, in eval mode. ``class_names``: the classes of
    a torchvision model without named weights (see :class:`TorchvisionVideoModel`)."""
    if model in TORCHVISION_VIDEO_MODELS:
        vm: ExplainableVideoModel = TorchvisionVideoModel(
            model, weights=weights, target_layer=target_layer, mode=mode, clip_len=clip_len,
            class_names=class_names,
        )  # fmt: skip
    elif model == "paper":
        from attnviz.pipeline.explain import load_model

        rec, _ = load_model(checkpoint, "cpu")
        vm = PaperVideoModel(rec, clip_len=clip_len or 25)
    else:
        vm = UserVideoModel(model, target_layer=target_layer, weights=weights)
        if clip_len is not None or mode != "crop":
            p = vm.preprocess
            vm.preprocess = ClipTransform(clip_len or p.clip_len, p.resize, p.crop, p.mean,
                                          p.std, mode)  # fmt: skip
    vm.module.to(torch.device(device))
    return vm
