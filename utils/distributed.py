"""Distributed set-up: one process, torch DDP under `torchrun`, or Horovod under `horovodrun`.

`init_distributed()` detects the launcher from the environment and returns a `DistContext` that the training loop
uses for everything distributed: wrapping the model, the optimizer (Horovod), reducing metrics, broadcasting.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from utils.errors import InputError


@dataclass
class DistContext:
    """Where this process stands: `engine` is 'single', 'ddp' or 'horovod'."""

    engine: str = "single"
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    def device(self, requested: str) -> torch.device:
        """The device for this process: `cuda` becomes `cuda:<local_rank>` (`cuda:0` without a launcher)."""
        device = torch.device(requested)
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise InputError(f"--device {requested}: this torch sees no CUDA device; use --device cpu")
            if device.index is None:
                device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(device)
        return device

    def wrap_model(self, model: nn.Module, device: torch.device) -> nn.Module:
        """DDP-wrap under torchrun; under Horovod, broadcast the initial weights from rank 0."""
        if self.engine == "ddp":
            ids = [device.index] if device.type == "cuda" else None
            return nn.parallel.DistributedDataParallel(model, device_ids=ids)
        if self.engine == "horovod":
            import horovod.torch as hvd

            # Horovod reduces contiguous tensors only, gradients included: undo channels_last and the like.
            if not all(t.is_contiguous() for t in [*model.parameters(), *model.buffers()]):
                model.to(memory_format=torch.contiguous_format)
            hvd.broadcast_parameters(model.state_dict(), root_rank=0)
        return model

    def wrap_optimizer(self, optimizer: torch.optim.Optimizer, model: nn.Module) -> torch.optim.Optimizer:
        """Horovod averages gradients inside its DistributedOptimizer; DDP does it in the model wrapper."""
        if self.engine != "horovod":
            return optimizer
        import horovod.torch as hvd

        hvd.broadcast_optimizer_state(optimizer, root_rank=0)
        return hvd.DistributedOptimizer(optimizer, named_parameters=model.named_parameters())

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum a tensor over all processes (identity in one process)."""
        if not self.is_distributed:
            return tensor
        if self.engine == "horovod":
            import horovod.torch as hvd

            return hvd.allreduce(tensor, op=hvd.Sum)
        # NCCL reduces CUDA tensors only: the small CPU tensors of the loop (flags, metric sums) go through the GPU.
        on_gpu = dist.get_backend() == "nccl"
        reduced = tensor.to(torch.device("cuda", torch.cuda.current_device())) if on_gpu else tensor.clone()
        dist.all_reduce(reduced, op=dist.ReduceOp.SUM)
        return reduced.to(tensor.device) if on_gpu else reduced

    def broadcast_object(self, value: Any) -> Any:
        """Rank 0's value on every process."""
        if not self.is_distributed:
            return value
        if self.engine == "horovod":
            import horovod.torch as hvd

            return hvd.broadcast_object(value, root_rank=0)
        holder = [value]
        dist.broadcast_object_list(holder, src=0)
        return holder[0]

    def broadcast_parameters(self, module: nn.Module) -> None:
        """Rank 0's parameters and buffers on every process, in place (for loops without the DDP wrapper)."""
        if not self.is_distributed:
            return
        if self.engine == "horovod":
            import horovod.torch as hvd

            hvd.broadcast_parameters(module.state_dict(), root_rank=0)
            return
        for tensor in module.state_dict().values():
            dist.broadcast(tensor, src=0)

    def average_gradients(self, parameters) -> None:
        """Replace each gradient by its mean over all processes, in one reduction (for loops without the DDP
        wrapper, e.g. a gradient penalty's double backward, which DDP does not support)."""
        grads = [p.grad for p in parameters if p.grad is not None]
        if not self.is_distributed or not grads:
            return
        mean = self.all_reduce_sum(torch.cat([g.reshape(-1) for g in grads])) / self.world_size
        offset = 0
        for grad in grads:
            grad.copy_(mean[offset:offset + grad.numel()].view_as(grad))
            offset += grad.numel()

    def check_same_parameters(self, module: nn.Module) -> None:
        """Raise if this process's parameters differ from rank 0's (a data-parallel loop that drifted apart)."""
        if not self.is_distributed:
            return
        mine = torch.cat([p.detach().reshape(-1).float().cpu() for p in module.parameters()])
        if not torch.equal(self.broadcast_object(mine), mine):
            raise RuntimeError(f"process {self.rank}: parameters differ from process 0's after training")

    def barrier(self) -> None:
        if self.engine == "ddp":
            dist.barrier()
        elif self.engine == "horovod":
            import horovod.torch as hvd

            hvd.barrier()

    def shutdown(self) -> None:
        if self.engine == "ddp" and dist.is_initialized():
            dist.destroy_process_group()


def launched_by() -> str:
    """'ddp' under torchrun, 'horovod' under horovodrun, 'single' otherwise."""
    if "TORCHELASTIC_RUN_ID" in os.environ or ("RANK" in os.environ and "WORLD_SIZE" in os.environ):
        return "ddp"
    if any(key in os.environ for key in ("HOROVOD_RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK")):
        return "horovod"
    return "single"


def init_distributed(device: str = "cpu") -> DistContext:
    """Set up the process group for the detected launcher. Safe to call more than once."""
    engine = launched_by()
    if engine == "ddp":
        if not dist.is_initialized():
            backend = "nccl" if device.startswith("cuda") and torch.cuda.is_available() else "gloo"
            # Rank 0 validates while the others wait in a collective: allow it half an hour (NCCL's default is 10 min).
            dist.init_process_group(backend=backend, timeout=timedelta(minutes=30))
        return DistContext("ddp", dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    if engine == "horovod":
        try:
            import horovod.torch as hvd
        except ImportError as error:
            raise RuntimeError("launched by horovodrun, but horovod.torch does not import: run `make horovod`, "
                               "which builds Horovod for this torch into .venv") from error
        hvd.init()
        return DistContext("horovod", hvd.rank(), hvd.size(), hvd.local_rank())
    return DistContext()
