"""The training engine: the loss of eq. 6, Adam, a checkpoint per epoch, resume, a validation
split that is never the test split, per-epoch logs; one process or ``torchrun`` DDP.

Wiring (reading lists, building the model, recipes) lives in :mod:`attnviz.pipeline.train`, the
command in :mod:`attnviz.cli.train`; the loop is :func:`fit`, in named steps as torchvision's
reference scripts: resume, :func:`train_one_epoch`, validate (:func:`evaluate_classifier`),
save the epoch's checkpoints, report.

Under ``torchrun --nproc_per_node N`` (environment ``WORLD_SIZE`` > 1) every rank trains on its
shard of each epoch (a ``DistributedSampler``), gradients are averaged by DDP (``gloo`` on CPU,
``nccl`` on CUDA), batch-norm buffers are broadcast from rank 0 at the end of each epoch so that
every rank holds the same model, validation is split across ranks and gathered, and rank 0 alone
writes checkpoints and logs.

Determinism: epoch ``e`` shuffles with ``(seed, e)`` and seeds dropout with ``(seed, e, rank)``,
so a run resumed from the checkpoint of epoch ``e`` continues exactly as the uninterrupted run
would have (on CPU).

Outputs in ``out_dir``: ``epoch_XXX.pt`` (model, its configuration, the optimizer, the epoch,
the training configuration and the epoch's metrics), ``last.pt``, ``best.pt`` (best validation
top-1, ties to the lower validation loss), ``log.csv`` (one row per epoch: every loss term and
accuracy, train and validation) and, if the ``tensorboard`` package is installed,
``tensorboard/`` event files.
"""

from __future__ import annotations

import csv
import io
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler

from attnviz.errors import AttnvizError, ParameterError

__all__ = [
    "DistInfo",
    "TrainConfig",
    "check_validation_split",
    "cleanup_distributed",
    "epoch_lr",
    "evaluate_classifier",
    "fit",
    "setup_distributed",
    "train_one_epoch",
]

LOSS_TERMS = ("loss", "ce", "tv", "contrast", "unimodal", "area")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; the defaults are the paper's (Sec. 4.1).

    Attributes:
        epochs: passes over the training set.
        batch_size: videos per step and process.
        lr, weight_decay: Adam (paper: 1e-4, 1e-4).
        lr_schedule: ``"constant"`` (default; the paper's) or ``"cosine"``: epoch ``e``
            (0-based) of ``E`` runs at ``lr * (1 + cos(pi * e / E)) / 2``, so the last epochs
            take small steps and the weights settle (the learning rate of an epoch depends on
            the epoch alone: a resumed run continues the same schedule).
        lambda_tv, lambda_contrast, lambda_unimodal: eq. 6 weights (paper: 1e-5, 1e-4, 1).
        lambda_area: weight of the mask-area term (:func:`attnviz.models.losses.area_loss`;
            default 0, not in the paper).
        seed: shuffling and dropout seed.
        workers: DataLoader worker processes.
        device: ``cpu`` or ``cuda`` (under torchrun each rank uses ``cuda:LOCAL_RANK``).
        precision: ``fp32`` or ``bf16`` (autocast).
        grad_clip: clip the gradient norm to this value (0: off).
        freeze_backbone: keep the backbone's weights and batch-norm statistics fixed (always the
            case when training on cached features).
        max_steps: stop each epoch after this many steps (0: the whole epoch; for smoke tests).
        save_every: also write ``epoch_XXX.pt`` every this many epochs (0: only ``last.pt`` and
            ``best.pt``; the ``train`` command's default, an epoch file can weigh 80 MB).
        keep: keep the last ``keep`` ``epoch_XXX.pt`` files (0: all).
        log_every: update the progress bar's loss every this many steps.
    """

    epochs: int = 20
    batch_size: int = 8
    lr: float = 1e-4
    weight_decay: float = 1e-4
    lr_schedule: str = "constant"
    lambda_tv: float = 1e-5
    lambda_contrast: float = 1e-4
    lambda_unimodal: float = 1.0
    lambda_area: float = 0.0
    seed: int = 0
    workers: int = 0
    device: str = "cpu"
    precision: str = "fp32"
    grad_clip: float = 0.0
    freeze_backbone: bool = False
    max_steps: int = 0
    save_every: int = 1
    keep: int = 0
    log_every: int = 10

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise AttnvizError(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise AttnvizError(f"batch size must be >= 1, got {self.batch_size}")
        if not self.lr > 0:
            raise AttnvizError(f"learning rate must be > 0, got {self.lr}")
        if self.lr_schedule not in ("constant", "cosine"):
            raise AttnvizError(
                f"lr_schedule must be 'constant' or 'cosine', got {self.lr_schedule!r}"
            )
        for name in (
            "weight_decay",
            "lambda_tv",
            "lambda_contrast",
            "lambda_unimodal",
            "lambda_area",
        ):
            if getattr(self, name) < 0:
                raise AttnvizError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.save_every < 0:
            raise AttnvizError(f"save_every must be >= 0, got {self.save_every}")
        if self.precision not in ("fp32", "bf16"):
            raise AttnvizError(f"precision must be fp32 or bf16, got {self.precision!r}")


@dataclass(frozen=True)
class DistInfo:
    """This process's place in a ``torchrun`` job (``world_size`` 1 when run alone)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: str = "cpu") -> DistInfo:
    """Join the ``torchrun`` job described by the environment (``WORLD_SIZE``, ``RANK``,
    ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``): ``gloo`` on CPU, ``nccl`` on CUDA. Returns
    a single-process :class:`DistInfo` when ``WORLD_SIZE`` is unset or 1."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    if not dist.is_available():
        raise AttnvizError("WORLD_SIZE > 1 but this torch has no torch.distributed")
    if not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(local)
        dist.init_process_group(backend=backend, init_method="env://")
    return DistInfo(rank, world, local)


def cleanup_distributed() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def check_validation_split(
    train_keys: Sequence[str],
    val_keys: Sequence[str],
    *,
    test_keys: Sequence[str] = (),
    val_source: str = "",
    val_subset: str = "",
) -> None:
    """Refuse a validation split that is (or overlaps) the test split, or overlaps the training
    split.

    A published implementation of the paper selected its model on the test set; attnviz selects
    the checkpoint on validation data and refuses validation data that is the test split:
    ``val_subset == "test"``, a file named like an official test split (``testlist01.txt``,
    ``*_test_split1.txt``, ``test.csv``; see :func:`attnviz.io.splits.looks_like_test_split`), or
    videos shared with ``test_keys``.

    Raises:
        AttnvizError: naming the problem and the fix.
    """
    from attnviz.io.splits import looks_like_test_split

    if val_subset == "test" or (val_source and looks_like_test_split(val_source)):
        raise AttnvizError(
            f"validation data {val_source or '(given)'} is a test split: select the model on a "
            "validation split carved from the training data ({val_fraction}) or on a separate "
            "validation list, never on the test set",
            params=("val_fraction",),
        )
    vset = set(val_keys)
    if test_keys:
        shared = vset & set(test_keys)
        if shared:
            raise AttnvizError(
                f"validation and test splits share {len(shared)} videos (e.g. "
                f"{sorted(shared)[0]!r}): the test split must stay unseen until the final "
                "evaluation"
            )
    both = vset & set(train_keys)
    if both:
        raise AttnvizError(
            f"training and validation splits share {len(both)} videos (e.g. {sorted(both)[0]!r})"
        )


# --------------------------------------------------------------------------- helpers
def _collate(batch):
    xs, ys, idx = zip(*batch, strict=True)
    return torch.stack(xs), torch.as_tensor(ys, dtype=torch.long), torch.as_tensor(idx)


def _ks(num_classes: int) -> tuple[int, ...]:
    return (1, 5) if num_classes >= 5 else (1, num_classes)


def _device(config: TrainConfig, dist_info: DistInfo) -> torch.device:
    if config.device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ParameterError(
                "device", f"{config.device}: CUDA is not available on this machine"
            )
        return torch.device("cuda", dist_info.local_rank if dist_info.enabled else 0)
    if config.device != "cpu":
        raise ParameterError("device", f"must be cpu or cuda, got {config.device!r}")
    return torch.device("cpu")


def _all_sum(values: torch.Tensor, dist_info: DistInfo) -> torch.Tensor:
    if dist_info.enabled:
        import torch.distributed as dist

        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def _sync_buffers(model: nn.Module, dist_info: DistInfo) -> None:
    """Give every rank rank 0's batch-norm statistics (each rank updated its own in forward)."""
    if dist_info.enabled:
        import torch.distributed as dist

        for b in model.buffers():
            dist.broadcast(b.data, src=0)


def _set_train_mode(model: nn.Module, freeze_backbone: bool) -> None:
    model.train()
    if freeze_backbone and getattr(model, "backbone", None) is not None:
        model.backbone.eval()


def evaluate_classifier(
    model: nn.Module,
    dataset: Dataset,
    *,
    batch_size: int = 8,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    lambdas: Mapping[str, float] | None = None,
    dist_info: DistInfo = DistInfo(),
    workers: int = 0,
    quiet: bool = True,
) -> dict[str, Any]:
    """Scores and mean loss terms of ``model`` over ``dataset`` (items ``(x, label, index)``).

    ``lambdas``: the regulariser weights (``lambda_tv``, ``lambda_contrast``,
    ``lambda_unimodal``) of :func:`attnviz.models.attention_loss`, its defaults when ``None``.

    Under DDP each rank scores the items ``i`` with ``i % world_size == rank`` and the results
    are gathered on every rank.

    Returns:
        ``{"scores": ndarray[N, K] (softmax), "labels": ndarray[N], "loss": ..., "ce": ...,
        "tv": ..., "contrast": ..., "unimodal": ...}`` (terms are means over videos).
    """
    from tqdm.auto import tqdm

    from attnviz.models import attention_loss, autocast

    module = getattr(model, "module", model)
    dev = torch.device(device)
    n = len(dataset)
    mine = list(range(dist_info.rank, n, dist_info.world_size))
    loader = DataLoader(
        torch.utils.data.Subset(dataset, mine),
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
        collate_fn=_collate,
    )
    was_training = module.training
    module.eval()
    idx_all, scores_all, labels_all = [], [], []
    sums = torch.zeros(len(LOSS_TERMS), dtype=torch.float64)
    with torch.inference_mode():
        for x, y, idx in tqdm(loader, desc="eval", unit="batch", disable=quiet, leave=False):
            x, y = x.to(dev), y.to(dev)
            with autocast(dev.type, precision):
                out = module(x)
            terms = attention_loss(out, y, **(lambdas or {}))
            sums += torch.tensor([float(t) for t in terms], dtype=torch.float64) * len(y)
            scores_all.append(torch.softmax(out.logits.float(), dim=1).cpu())
            labels_all.append(y.cpu())
            idx_all.append(idx)
    module.train(was_training)
    k = module.num_classes
    idx = torch.cat(idx_all) if idx_all else torch.zeros(0, dtype=torch.long)
    scores = torch.cat(scores_all) if scores_all else torch.zeros(0, k)
    labels = torch.cat(labels_all) if labels_all else torch.zeros(0, dtype=torch.long)
    if dist_info.enabled:
        import torch.distributed as dist

        parts: list = [None] * dist_info.world_size
        dist.all_gather_object(parts, (idx, scores, labels, sums))
        idx = torch.cat([p[0] for p in parts])
        scores = torch.cat([p[1] for p in parts])
        labels = torch.cat([p[2] for p in parts])
        sums = sum(p[3] for p in parts)
    order = torch.argsort(idx)
    result: dict[str, Any] = {
        "scores": scores[order].numpy(),
        "labels": labels[order].numpy(),
        "indices": idx[order].numpy(),
    }
    for name, v in zip(LOSS_TERMS, (sums / max(n, 1)).tolist(), strict=True):
        result[name] = v
    return result


# --------------------------------------------------------------------------- the loop
def _write_log(path: Path, rows: list[dict[str, Any]]) -> None:
    from attnviz.io.atomic import atomic_write_text

    if not rows:
        return
    buf = io.StringIO()
    fields = list(rows[0])
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    atomic_write_text(path, buf.getvalue())


def _read_log(path: Path, upto_epoch: int) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            try:
                if int(r["epoch"]) > upto_epoch:
                    continue
            except (KeyError, ValueError):
                continue
            rows.append({k: _num(v) for k, v in r.items()})
    return rows


def _num(v: str) -> Any:
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


def _tensorboard(out_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except Exception:  # tensorboard not installed: CSV only
        return None
    return SummaryWriter(str(out_dir / "tensorboard"))


def _distributed(
    module: nn.Module,
    dataset: Dataset,
    dist_info: DistInfo,
    dev: torch.device,
    batch_size: int,
    seed: int,
    workers: int = 0,
) -> tuple[nn.Module, DistributedSampler, DataLoader]:
    """``module`` wrapped in DDP under torchrun (itself otherwise), and a loader over this
    rank's shard of ``dataset``, shuffled from ``seed`` (call ``sampler.set_epoch`` each epoch).
    """
    wrapped: nn.Module = module
    if dist_info.enabled:
        from torch.nn.parallel import DistributedDataParallel

        wrapped = DistributedDataParallel(
            module, device_ids=[dev.index] if dev.type == "cuda" else None
        )
    sampler = DistributedSampler(
        dataset, num_replicas=dist_info.world_size, rank=dist_info.rank, shuffle=True, seed=seed
    )
    loader = DataLoader(
        dataset, batch_size=batch_size, sampler=sampler, num_workers=workers, collate_fn=_collate
    )
    return wrapped, sampler, loader


def fit(
    model: nn.Module,
    train_set: Dataset,
    val_set: Dataset | None,
    out_dir: str | os.PathLike[str],
    config: TrainConfig = TrainConfig(),
    *,
    resume: str | os.PathLike[str] | None = None,
    meta: dict[str, Any] | None = None,
    quiet: bool = False,
    dist_info: DistInfo | None = None,
) -> dict[str, Any]:
    """Train ``model`` (a :class:`~attnviz.models.Recognizer`) on ``train_set``.

    Args:
        model: built by :func:`attnviz.models.build_recognizer` (its ``config`` is stored in each
            checkpoint).
        train_set, val_set: datasets of ``(x, label, index)`` (``attnviz.data.datasets``); x is a
            clip or cached features. ``val_set`` may be ``None`` (then ``best.pt`` follows the
            training loss); it must never be the test split (see
            :func:`check_validation_split`, called by the wiring).
        out_dir: checkpoints and logs (see the module docstring).
        config: :class:`TrainConfig`.
        resume: a checkpoint written by this function: training continues after its epoch with
            its optimizer state.
        meta: JSON-like facts stored in every checkpoint (data sources, recipe, ...).
        dist_info: from :func:`setup_distributed` (default: read the environment).

    Returns:
        ``{"best": path, "last": path, "best_epoch": int, "epochs": int, "log": path,
        "history": [rows]}``.
    """
    if dist_info is None:
        dist_info = setup_distributed(config.device)
    dev = _device(config, dist_info)
    out = _output_folder(Path(out_dir), dist_info)
    module = model
    params = _trainable(module, config, dev)
    optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    log_path = out / "log.csv"
    state = _TrainState()
    if resume is not None:
        state = _resume(resume, module, optimizer, dev, log_path)
    wrapped, sampler, loader = _distributed(
        module, train_set, dist_info, dev, config.batch_size, config.seed, config.workers
    )
    ks = _ks(module.num_classes)
    writer = _tensorboard(out) if dist_info.main else None
    for epoch in range(state.start_epoch, config.epochs):
        t0 = time.perf_counter()
        _start_epoch(epoch, sampler, train_set, config, dist_info)
        for group in optimizer.param_groups:
            group["lr"] = epoch_lr(config, epoch)
        row = train_one_epoch(
            module, wrapped, loader, optimizer, params, config, epoch, ks, dev, dist_info, quiet
        )
        if val_set is not None:
            row.update(_validate(module, val_set, config, ks, dev, dist_info))
        row["seconds"] = time.perf_counter() - t0
        improved = state.record(epoch, row, validated=val_set is not None)
        if dist_info.main:
            extra = _checkpoint_extra(config, row, state, meta)
            _save_epoch(
                out, module, optimizer, epoch, extra, improved, config.keep, config.save_every
            )
            _write_log(log_path, state.history)
            _report_epoch(row, epoch, config.epochs, writer, quiet)
        if dist_info.enabled:
            import torch.distributed as dist

            dist.barrier()
    if writer is not None:
        writer.close()
    return {
        "best": str(out / "best.pt"),
        "last": str(out / "last.pt"),
        "best_epoch": state.best_epoch,
        "epochs": config.epochs,
        "log": str(log_path),
        "history": state.history,
    }


@dataclass
class _TrainState:
    """Where training stands: the first epoch to run (0-based), the best selection key
    ``(top-1, -loss)`` and its 1-based epoch, and the log rows so far."""

    start_epoch: int = 0
    best_key: tuple[float, float] | None = None
    best_epoch: int = -1
    history: list[dict[str, Any]] = field(default_factory=list)

    def record(self, epoch: int, row: dict[str, Any], *, validated: bool) -> bool:
        """Log ``row`` of ``epoch`` (0-based); whether it is the best so far (by validation
        top-1 then loss, or by the training ones without validation)."""
        split = "val" if validated else "train"
        key = (row[f"{split}_top1"], -row[f"{split}_loss"])
        improved = self.best_key is None or key > self.best_key
        if improved:
            self.best_key, self.best_epoch = key, epoch + 1
        self.history.append(row)
        return improved


def _output_folder(out: Path, dist_info: DistInfo) -> Path:
    """``out``, created by the main process."""
    if dist_info.main:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AttnvizError(f"{out}: cannot create the output folder ({exc.strerror})") from None
    return out


def _trainable(module: nn.Module, config: TrainConfig, dev: torch.device) -> list:
    """``module`` on ``dev`` (its backbone frozen with ``config.freeze_backbone``); the
    parameters the optimizer trains."""
    if config.freeze_backbone and getattr(module, "backbone", None) is not None:
        for p in module.backbone.parameters():
            p.requires_grad_(False)
    module.to(dev)
    params = [p for p in module.parameters() if p.requires_grad]
    if not params:
        raise AttnvizError("the model has no trainable parameter")
    return params


def _start_epoch(epoch: int, sampler, train_set, config: TrainConfig, dist_info: DistInfo) -> None:
    """Shuffle, sample and seed ``epoch`` the same way on a fresh run and on a resumed one."""
    sampler.set_epoch(epoch)
    if hasattr(train_set, "set_epoch"):
        train_set.set_epoch(epoch)
    torch.manual_seed((config.seed * 1_000_003 + epoch * 1009 + dist_info.rank) % (2**63 - 1))


def _checkpoint_extra(config: TrainConfig, row, state: _TrainState, meta) -> dict[str, Any]:
    """What every checkpoint stores beside the weights and the optimizer."""
    return {
        "train_config": asdict(config),
        "metrics": dict(row),
        "best_key": list(state.best_key),
        "best_epoch": state.best_epoch,
        "meta": meta or {},
    }


def _resume(resume, module: nn.Module, optimizer, dev: torch.device, log_path: Path) -> _TrainState:
    """Load a training checkpoint into ``module`` and ``optimizer``; the state to go on from."""
    from attnviz.models import load_checkpoint

    loaded, info = load_checkpoint(resume)
    if info["config"] != dict(module.config, class_names=info["config"].get("class_names")):
        raise AttnvizError(f"{resume}: checkpoint of a different model configuration")
    module.load_state_dict(loaded.state_dict())
    if info["optimizer"] is None or info["epoch"] is None:
        raise AttnvizError(f"{resume}: no optimizer state or epoch: not a training checkpoint")
    optimizer.load_state_dict(info["optimizer"])
    for st in optimizer.state.values():
        for k, v in st.items():
            if isinstance(v, torch.Tensor) and k != "step":
                st[k] = v.to(dev)
    state = _TrainState(start_epoch=int(info["epoch"]) + 1)
    extra = info["extra"] or {}
    if "best_key" in extra:
        state.best_key = (float(extra["best_key"][0]), float(extra["best_key"][1]))
        state.best_epoch = int(extra.get("best_epoch", -1))
    state.history = _read_log(log_path, state.start_epoch)  # rows of epochs 1..start_epoch
    return state


def _lambdas(config: TrainConfig) -> dict[str, float]:
    return {
        "lambda_tv": config.lambda_tv,
        "lambda_contrast": config.lambda_contrast,
        "lambda_unimodal": config.lambda_unimodal,
        "lambda_area": config.lambda_area,
    }


def epoch_lr(config: TrainConfig, epoch: int) -> float:
    """The learning rate of ``epoch`` (0-based) under ``config.lr_schedule``."""
    if config.lr_schedule == "cosine":
        return config.lr * 0.5 * (1.0 + math.cos(math.pi * epoch / config.epochs))
    return config.lr


def train_one_epoch(
    module: nn.Module,
    wrapped: nn.Module,
    loader,
    optimizer,
    params: list[nn.Parameter],
    config: TrainConfig,
    epoch: int,
    ks: tuple[int, ...],
    dev: torch.device,
    dist_info: DistInfo,
    quiet: bool = False,
) -> dict[str, Any]:
    """One pass over ``loader`` (``wrapped``: the model, DDP-wrapped or not; ``params``: the
    trainable parameters, for gradient clipping).

    Returns:
        the epoch's log row so far: ``epoch`` (1-based), ``lr``, ``train_<term>`` (mean loss
        terms of :data:`LOSS_TERMS`) and ``train_top<k>``, summed over every process.
    """
    from tqdm.auto import tqdm

    from attnviz.models import attention_loss, autocast

    _set_train_mode(module, config.freeze_backbone)
    lambdas = _lambdas(config)
    sums = torch.zeros(len(LOSS_TERMS) + 1 + len(ks), dtype=torch.float64)
    bar = tqdm(
        loader,
        desc=f"epoch {epoch + 1}/{config.epochs}",
        unit="batch",
        disable=quiet or not dist_info.main,
        leave=False,
    )
    for step, (x, y, _) in enumerate(bar):
        if config.max_steps and step >= config.max_steps:
            break
        x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
        with autocast(dev.type, config.precision):
            out_ = wrapped(x)
        terms = attention_loss(out_, y, **lambdas)
        if not torch.isfinite(terms.total):
            raise AttnvizError(
                f"epoch {epoch + 1}, step {step + 1}: the loss is {float(terms.total)} "
                "(lower the learning rate or set grad_clip)"
            )
        optimizer.zero_grad(set_to_none=True)
        terms.total.backward()
        if config.grad_clip > 0:
            nn.utils.clip_grad_norm_(params, config.grad_clip)
        optimizer.step()
        with torch.no_grad():
            ranks = _true_rank(out_.logits.detach().float(), y)
            b = len(y)
            # detach: float() of a tensor that requires grad warns (UserWarning) every step
            vals = [float(t.detach()) * b for t in terms] + [b]
            vals += [float((ranks < kk).sum()) for kk in ks]
            sums += torch.tensor(vals, dtype=torch.float64)
        if dist_info.main and not quiet and step % max(1, config.log_every) == 0:
            bar.set_postfix(loss=f"{float(terms.total.detach()):.4f}")
    _sync_buffers(module, dist_info)
    sums = _all_sum(sums, dist_info)
    seen = max(float(sums[len(LOSS_TERMS)]), 1.0)
    row: dict[str, Any] = {"epoch": epoch + 1, "lr": optimizer.param_groups[0]["lr"]}
    for i, name in enumerate(LOSS_TERMS):
        row[f"train_{name}"] = float(sums[i]) / seen
    for j, kk in enumerate(ks):
        row[f"train_top{kk}"] = float(sums[len(LOSS_TERMS) + 1 + j]) / seen
    return row


def _validate(module, val_set, config: TrainConfig, ks, dev, dist_info) -> dict[str, float]:
    """``val_<term>`` and ``val_top<k>`` of ``module`` on ``val_set``."""
    from attnviz.evaluate.classify import classify_accuracy

    ev = evaluate_classifier(
        module,
        val_set,
        batch_size=config.batch_size,
        device=dev,
        precision=config.precision,
        lambdas=_lambdas(config),
        dist_info=dist_info,
        workers=config.workers,
    )
    acc = classify_accuracy(ev["scores"], ev["labels"], ks)
    row = {f"val_{name}": ev[name] for name in LOSS_TERMS}
    for kk, a in zip(ks, acc.accuracy, strict=True):
        row[f"val_top{kk}"] = float(a)
    return row


def _save_epoch(
    out: Path, module, optimizer, epoch: int, extra, improved: bool, keep: int, save_every: int
):
    """``last.pt``, (when it improved) ``best.pt`` and, every ``save_every`` epochs (0: never),
    ``epoch_NNN.pt``; only the last ``keep`` epoch checkpoints stay (``keep`` 0: all)."""
    from attnviz.models import save_checkpoint

    if save_every > 0 and (epoch + 1) % save_every == 0:
        save_checkpoint(
            out / f"epoch_{epoch + 1:03d}.pt", module, optimizer=optimizer, epoch=epoch,
            extra=extra,
        )  # fmt: skip
    save_checkpoint(out / "last.pt", module, optimizer=optimizer, epoch=epoch, extra=extra)
    if improved:
        save_checkpoint(out / "best.pt", module, optimizer=optimizer, epoch=epoch, extra=extra)
    if keep > 0:
        old = out / f"epoch_{epoch + 1 - keep:03d}.pt"
        if old.is_file():
            old.unlink()


def _report_epoch(row: dict[str, Any], epoch: int, epochs: int, writer, quiet: bool) -> None:
    """The epoch's row to TensorBoard (when there is a writer) and, unless ``quiet``, one line."""
    from tqdm.auto import tqdm

    if writer is not None:
        for name, v in row.items():
            if name != "epoch" and isinstance(v, int | float) and math.isfinite(v):
                writer.add_scalar(name.replace("_", "/", 1), v, epoch + 1)
        writer.flush()
    if not quiet:
        shown = "  ".join(
            f"{n}={row[n]:.4g}"
            for n in ("train_loss", "train_top1", "val_loss", "val_top1", "val_top5")
            if n in row
        )
        tqdm.write(f"epoch {epoch + 1}/{epochs}  {shown}  ({row['seconds']:.0f}s)")


@dataclass(frozen=True)
class BackboneConfig:
    """Fine-tuning the backbone on the target dataset with video labels only, before the
    attention model is trained on its features (the paper fine-tunes its ImageNet ResNet on each
    dataset; with no ImageNet weights the backbone starts from random weights).

    The backbone sees ``frames`` frames of each video (one at random in each of ``frames`` equal
    parts); a 1x1 convolution gives class scores at every position of every frame and the
    video's score for a class is their maximum (multiple-instance learning: the label says that
    the action is somewhere in the video, not where or when). The 1x1 classifier is discarded.

    Attributes:
        epochs, batch_size (videos), lr, weight_decay, seed: as in :class:`TrainConfig`.
        frames: frames per video and step.
        pool: how a video's class score comes from the 1x1 classifier's map: ``"max"``
            (default) over its frames and positions; ``"avg_max"``: the mean over positions
            (global average pooling, whose gradient reaches every position), then the maximum
            over frames; ``"avg"``: the mean over both (TSN's consensus). From random weights
            ``"max"`` can wait a long time for a position to take off (one seed in two did not
            within 10 epochs on the synthetic data).
        min_top1, retries: a fine-tuning run whose last epoch's training top-1 stays below
            ``min_top1`` did not take off (from random weights the MIL objective sometimes
            never does: one seed in three on the synthetic data); it is started again, up to
            ``retries`` times, from new random weights (seed ``init_seed + 1000 * attempt``) and
            clip order (``seed + 1000 * attempt``). Deterministic: a rebuild makes the same
            attempts. Default: no retry.
        zero_init_residual: start every residual block as the identity (the last batch
            normalisation's scale of each block set to 0, torchvision's ``zero_init_residual``;
            Goyal et al. 2017) before fine-tuning: for a random-init backbone. Default off.
        input_size: the frames' side while fine-tuning (``None``: the model's ``input_size``).
            The trunk is fully convolutional, so it can be fine-tuned on smaller frames than
            the attention model later sees (a finer feature grid for the masks at a quarter of
            the fine-tuning cost).
    """

    epochs: int = 4
    batch_size: int = 4
    frames: int = 8
    pool: str = "max"
    min_top1: float = 0.0
    retries: int = 0
    input_size: int | None = None
    zero_init_residual: bool = False
    lr: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.frames < 1:
            raise AttnvizError("backbone epochs, batch_size and frames must be >= 1")
        if self.input_size is not None and self.input_size < 32:
            raise AttnvizError(f"backbone input_size must be >= 32, got {self.input_size}")
        if not 0.0 <= self.min_top1 <= 1.0 or self.retries < 0:
            raise AttnvizError(
                f"backbone min_top1 must be in [0, 1] and retries >= 0, got {self.min_top1}, "
                f"{self.retries}"
            )
        if self.pool not in ("max", "avg_max", "avg"):
            raise AttnvizError(f"backbone pool must be max, avg_max or avg, got {self.pool!r}")


def zero_init_residual(trunk: nn.Module) -> int:
    """Set the scale of the last batch normalisation of every torchvision residual block in
    ``trunk`` to 0 (``bn2`` of a ``BasicBlock``, ``bn3`` of a ``Bottleneck``), as torchvision's
    ``zero_init_residual=True`` does. Returns the number of blocks changed."""
    from torchvision.models.resnet import BasicBlock, Bottleneck

    count = 0
    with torch.no_grad():
        for m in trunk.modules():
            last = (
                m.bn3 if isinstance(m, Bottleneck) else m.bn2 if isinstance(m, BasicBlock) else None
            )
            if last is not None and last.weight is not None:
                last.weight.zero_()
                count += 1
    return count


class _MilHead(nn.Module):
    def __init__(self, trunk: nn.Module, channels: int, classes: int, pool: str = "max") -> None:
        super().__init__()
        self.trunk = trunk
        self.cls = nn.Conv2d(channels, classes, 1)
        self.pool = pool

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        b, k = clips.shape[:2]
        maps = self.cls(self.trunk(clips.flatten(0, 1)))  # [B*k, K, h, w]
        maps = maps.unflatten(0, (b, k))  # [B, k, K, h, w]
        if self.pool == "max":
            return maps.amax(dim=(1, 3, 4))
        frames = maps.mean(dim=(3, 4))  # [B, k, K]
        return frames.amax(dim=1) if self.pool == "avg_max" else frames.mean(dim=1)


def finetune_backbone(
    model: nn.Module,
    dataset: Dataset,
    out_dir: str | os.PathLike[str],
    config: BackboneConfig = BackboneConfig(),
    *,
    device: str = "cpu",
    quiet: bool = False,
    dist_info: DistInfo | None = None,
) -> dict[str, Any]:
    """Fine-tune ``model.backbone`` in place (see :class:`BackboneConfig`) on ``dataset`` (clips
    ``[k, 3, S, S]``, label, index; e.g. a ``VideoClipDataset`` with ``sampling="random"``).

    Writes ``backbone_log.csv`` (loss and top-1 per epoch) into ``out_dir`` (rank 0).

    Returns:
        ``{"history": [rows]}``.
    """
    from tqdm.auto import tqdm

    if dist_info is None:
        dist_info = setup_distributed(device)
    if getattr(model, "backbone", None) is None:
        raise AttnvizError("the model has no backbone to fine-tune")
    dev = _device(TrainConfig(device=device), dist_info)
    out = Path(out_dir)
    net = _MilHead(model.backbone, model.feature_channels, model.num_classes, pool=config.pool).to(
        dev
    )
    for p in net.parameters():
        p.requires_grad_(True)
    if config.zero_init_residual:
        zero_init_residual(model.backbone)
    torch.manual_seed(config.seed)
    nn.init.normal_(net.cls.weight, std=0.01)
    nn.init.zeros_(net.cls.bias)
    wrapped, sampler, loader = _distributed(
        net, dataset, dist_info, dev, config.batch_size, config.seed
    )
    opt = torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history = []
    for epoch in range(config.epochs):
        t0 = time.perf_counter()
        sampler.set_epoch(epoch)
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(epoch)
        torch.manual_seed(config.seed * 1_000_003 + epoch * 1009 + dist_info.rank)
        net.train()
        sums = torch.zeros(3, dtype=torch.float64)
        bar = tqdm(
            loader,
            desc=f"backbone {epoch + 1}/{config.epochs}",
            unit="batch",
            disable=quiet or not dist_info.main,
            leave=False,
        )
        for x, y, _ in bar:
            x, y = x.to(dev), y.to(dev)
            logits = wrapped(x)
            loss = nn.functional.cross_entropy(logits, y)
            if not torch.isfinite(loss):
                raise AttnvizError(f"backbone fine-tuning, epoch {epoch + 1}: the loss is {loss}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            b = len(y)
            sums += torch.tensor(
                [float(loss.detach()) * b, float((logits.argmax(1) == y).sum()), b],
                dtype=torch.float64,
            )
        _sync_buffers(net, dist_info)
        sums = _all_sum(sums, dist_info)
        row = {
            "epoch": epoch + 1,
            "loss": float(sums[0] / max(sums[2], 1)),
            "top1": float(sums[1] / max(sums[2], 1)),
            "seconds": time.perf_counter() - t0,
        }
        history.append(row)
        if dist_info.main:
            out.mkdir(parents=True, exist_ok=True)
            _write_log(out / "backbone_log.csv", history)
            if not quiet:
                tqdm.write(
                    f"backbone {epoch + 1}/{config.epochs}  loss={row['loss']:.4g}  "
                    f"top1={row['top1']:.3g}  ({row['seconds']:.0f}s)"
                )
    model.backbone.eval()
    return {"history": history}


def _true_rank(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Rank of the true class (ties broken by class index, as in
    :func:`attnviz.evaluate.classify.match`)."""
    true = logits.gather(1, y[:, None])
    higher = (logits > true).sum(dim=1)
    cols = torch.arange(logits.shape[1], device=logits.device)[None, :]
    tied = ((logits == true) & (cols < y[:, None])).sum(dim=1)
    return higher + tied


def seed_everything(seed: int) -> None:
    """Seed torch's generator (model initialisation draws from it alone)."""
    torch.manual_seed(seed)


# --------------------------------------------------------------------------- video classifiers
def fit_video_classifier(
    module: nn.Module,
    train_set: Dataset,
    val_set: Dataset | None,
    out_dir: str | os.PathLike[str],
    config: TrainConfig = TrainConfig(),
    *,
    save,
    quiet: bool = False,
) -> dict[str, Any]:
    """Train any video classifier ``module`` (``x [B, 3, T, S, S] -> logits [B, K]``, e.g.
    torchvision's ``r3d_18``) with cross-entropy and Adam, in one process: the loop of
    :func:`fit` without the attention terms, DDP or resume.

    Args:
        module: the network (trained in place).
        train_set, val_set: datasets of ``(x [3, T, S, S], label, index)``.
        out_dir: ``log.csv`` (one row per epoch: ``epoch, train_loss, train_top1, val_loss,
            val_top1, seconds, cpu_seconds``), and what ``save`` writes.
        config: ``epochs``, ``batch_size``, ``lr``, ``weight_decay``, ``seed``, ``workers``,
            ``device``, ``precision``, ``grad_clip``, ``max_steps`` of :class:`TrainConfig`.
        save: ``save(path, module)``, called for ``last.pth`` every epoch and ``best.pth``
            when validation top-1 (ties: lower loss; training ones without validation)
            improves.

    Returns:
        ``{"best": path, "last": path, "best_epoch": int, "epochs": int, "log": path,
        "history": [rows]}``.
    """
    from tqdm.auto import tqdm

    from attnviz.models import autocast

    dev = _device(config, DistInfo())
    out = _output_folder(Path(out_dir), DistInfo())
    module.to(dev)
    optimizer = torch.optim.Adam(
        module.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    history: list[dict[str, Any]] = []
    best_key, best_epoch = None, -1
    for epoch in range(config.epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        if hasattr(train_set, "set_epoch"):
            train_set.set_epoch(epoch)
        gen = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
        loader = DataLoader(
            train_set, batch_size=config.batch_size, shuffle=True, generator=gen,
            num_workers=config.workers, collate_fn=_collate,
        )  # fmt: skip
        module.train()
        loss_sum = hits = seen = 0.0
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch",
                   disable=quiet, leave=False)  # fmt: skip
        for step, (x, y, _) in enumerate(bar):
            if config.max_steps and step >= config.max_steps:
                break
            x, y = x.to(dev), y.to(dev)
            with autocast(dev.type, config.precision):
                logits = module(x)
            loss = nn.functional.cross_entropy(logits.float(), y)
            if not torch.isfinite(loss):
                raise AttnvizError(
                    f"epoch {epoch + 1}, step {step + 1}: the loss is {float(loss)} (lower the "
                    "learning rate or set grad_clip)"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip > 0:
                nn.utils.clip_grad_norm_(module.parameters(), config.grad_clip)
            optimizer.step()
            loss_sum += float(loss.detach()) * len(y)
            hits += float((logits.detach().argmax(1) == y).sum())
            seen += len(y)
        row: dict[str, Any] = {
            "epoch": epoch + 1,
            "train_loss": loss_sum / max(seen, 1),
            "train_top1": hits / max(seen, 1),
        }
        if val_set is not None:
            row.update(_validate_video(module, val_set, config, dev))
        row["seconds"] = time.perf_counter() - t0
        row["cpu_seconds"] = time.process_time() - c0
        split = "val" if val_set is not None else "train"
        key = (row[f"{split}_top1"], -row[f"{split}_loss"])
        history.append(row)
        save(out / "last.pth", module)
        if best_key is None or key > best_key:
            best_key, best_epoch = key, epoch + 1
            save(out / "best.pth", module)
        _write_log(out / "log.csv", history)
        if not quiet:
            shown = "  ".join(f"{n}={row[n]:.4g}" for n in row if n.startswith(("train", "val")))
            tqdm.write(f"epoch {epoch + 1}/{config.epochs}  {shown}  ({row['seconds']:.0f}s)")
    return {
        "best": str(out / "best.pth"),
        "last": str(out / "last.pth"),
        "best_epoch": best_epoch,
        "epochs": config.epochs,
        "log": str(out / "log.csv"),
        "history": history,
    }


def _validate_video(module: nn.Module, val_set: Dataset, config: TrainConfig, dev) -> dict:
    """``val_loss`` and ``val_top1`` of a video classifier."""
    from attnviz.models import autocast

    loader = DataLoader(val_set, batch_size=config.batch_size, shuffle=False,
                        num_workers=config.workers, collate_fn=_collate)  # fmt: skip
    module.eval()
    loss_sum = hits = seen = 0.0
    with torch.inference_mode():
        for x, y, _ in loader:
            x, y = x.to(dev), y.to(dev)
            with autocast(dev.type, config.precision):
                logits = module(x).float()
            loss_sum += float(nn.functional.cross_entropy(logits, y, reduction="sum"))
            hits += float((logits.argmax(1) == y).sum())
            seen += len(y)
    return {"val_loss": loss_sum / max(seen, 1), "val_top1": hits / max(seen, 1)}
