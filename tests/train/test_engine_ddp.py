"""DDP: two CPU processes (gloo, the same environment torchrun sets) train a few steps, each on
its shard, and end with identical weights; rank 0 alone writes the checkpoints."""

from __future__ import annotations

import os
import socket

import torch
import torch.multiprocessing as mp
from attnviz_train_fixtures import RandomFeatures, tiny_model

from attnviz.engine import TrainConfig, fit


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(
        {
            "RANK": str(rank),
            "WORLD_SIZE": str(world),
            "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
    )
    torch.set_num_threads(1)
    from attnviz.engine import cleanup_distributed, setup_distributed

    info = setup_distributed("cpu")
    assert info.world_size == world and info.rank == rank
    model = tiny_model(seed=rank)  # different initial weights: DDP starts every rank from rank 0's
    try:
        fit(
            model,
            RandomFeatures(20),
            RandomFeatures(7, seed=1),
            os.path.join(out, "run"),
            TrainConfig(epochs=2, batch_size=3, lr=1e-2, seed=1),
            quiet=True,
            dist_info=info,
        )
        torch.save(model.state_dict(), os.path.join(out, f"rank{rank}.pt"))
    finally:
        cleanup_distributed()


def test_two_cpu_processes_end_with_identical_weights(tmp_path):
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    a = torch.load(tmp_path / "rank0.pt", weights_only=True)
    b = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert a.keys() == b.keys()
    for k in a:  # parameters and batch-norm buffers
        assert torch.equal(a[k], b[k]), k
    start = tiny_model(seed=0).state_dict()
    assert any(not torch.equal(a[k], start[k]) for k in a)  # it did train
    run = tmp_path / "run"
    assert sorted(p.name for p in run.glob("*.pt")) == [
        "best.pt",
        "epoch_001.pt",
        "epoch_002.pt",
        "last.pt",
    ]
    lines = (run / "log.csv").read_text().splitlines()
    assert len(lines) == 3  # header + 2 epochs, written once (rank 0)
