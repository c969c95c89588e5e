"""Where a network trains and scores, and in which precision: --device and --precision.

CUDA when there is one (under torchrun, the GPU of the process's LOCAL_RANK), else the CPU;
bf16 autocast on a CUDA device that supports it, else fp16 on CUDA (with a gradient scaler)
and fp32 on the CPU.
"""

from __future__ import annotations

import contextlib

import torch

from seqclass.training.distributed import World


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda, but no CUDA device is available")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def rank_device(name: str, place: World) -> torch.device:
    """--device for this process: under torchrun, CUDA means the GPU of its LOCAL_RANK."""
    device = resolve_device(name)
    if device.type == "cuda" and place.size > 1:
        return torch.device("cuda", place.local_rank)
    return device


def inference_device(name: str) -> torch.device:
    """Where a trained model scores: CUDA when there is one, unless it was trained with --device cpu."""
    return torch.device("cuda" if name != "cpu" and torch.cuda.is_available() else "cpu")


def autocast_dtype(precision: str, device: torch.device, strict: bool = True) -> torch.dtype | None:
    """The autocast dtype for --precision on this device; None for fp32."""
    if precision == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if precision == "fp16" and device.type != "cuda":
        if strict:
            raise ValueError("--precision fp16 needs a CUDA device (bf16 works on CPU)")
        return None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def grad_scaler():
    if hasattr(torch.amp, "GradScaler"):  # torch >= 2.3
        return torch.amp.GradScaler("cuda")
    return torch.cuda.amp.GradScaler()


def autocast(device: torch.device, dtype: torch.dtype | None):
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()
