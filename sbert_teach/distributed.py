"""Several processes, one training run: PyTorch's DistributedDataParallel, launched by ``torchrun``.

Nothing home-made: ``torchrun`` starts one process per device and sets
``RANK``/``WORLD_SIZE``/``MASTER_ADDR``; :func:`init_from_env` joins the
process group (``nccl`` on GPUs, ``gloo`` on CPUs); :func:`sbert_teach.train`
wraps the objective in ``DistributedDataParallel`` and gives each process an
equal slice of every global batch, so the update equals one process training
on the whole global batch. Losses that compare a sentence with the *rest of
the batch* (multiple-negatives ranking) call :func:`gather_with_grad`, so the
negatives span the global batch, not just the local slice.

Launch (chapter 9)::

    torchrun --nproc_per_node=2 -m sbert_teach train --objective softmax --output runs/ddp
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank_and_world() -> tuple[int, int]:
    if is_distributed():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_from_env(backend: str | None = None) -> bool:
    """Join the process group ``torchrun`` describes in the environment; False when run as one process."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if not dist.is_initialized():
        backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend=backend)
    return True


def local_slice(global_batch: list, rank: int, world: int) -> list:
    """This process's equal share of one global batch (contiguous, in order)."""
    if len(global_batch) % world:
        raise ValueError(
            f"The batch size {len(global_batch)} does not split evenly over {world} processes. "
            f"Use a batch size that is a multiple of {world}."
        )
    per = len(global_batch) // world
    return global_batch[rank * per:(rank + 1) * per]


def gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate ``tensor`` from every process along dim 0, keeping gradients to each slice."""
    if not is_distributed():
        return tensor
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(tensor), dim=0)


def mean_over_processes(value: float) -> float:
    """The average of a Python number over all processes (for loss histories)."""
    if not is_distributed():
        return value
    device = "cuda" if dist.get_backend() == "nccl" else "cpu"
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(t.item()) / dist.get_world_size()


def wrap(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` in ``DistributedDataParallel``, which averages gradients over the processes in backward."""
    from torch.nn.parallel import DistributedDataParallel

    # find_unused_parameters: BERT's pooler (and the classifier of a non-softmax objective) get no gradient
    return DistributedDataParallel(module, find_unused_parameters=True)
