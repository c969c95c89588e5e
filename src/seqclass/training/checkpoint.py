"""Checkpoints of the training loop, written atomically and without pickle.

    MODEL_DIR/checkpoints/step-00000400/
        model.safetensors      network weights at that step
        best.safetensors       weights of the best evaluation so far (absent when that is this step)
        optimizer.safetensors  AdamW moments and step counts, named `<param index>.<name>`
        rng.safetensors        torch CPU (and CUDA) generator states, uint8
        state.json             step, position in the epoch plan, optimizer hyper-parameters,
                               grad-scaler state, best metric, patience, running loss, params

A checkpoint is written into `.step-N.tmp/` and renamed to `step-N/` when complete, and
`state.json` is written last, so a kill at any moment leaves either a whole checkpoint
or none. Older checkpoints beyond `--keep-checkpoints` are removed after a new one lands.
Only the helpers that save and load tensors import PyTorch.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

DIRNAME = "checkpoints"
KILL_ENV = "SEQCLASS_TEST_KILL_AT_STEP"
STATE = "state.json"
_STEP_DIR = re.compile(r"^step-(\d+)$")


def checkpoint_dirs(model_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    root = Path(model_dir) / DIRNAME
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir()
             if (m := _STEP_DIR.match(p.name)) and (p / STATE).is_file()]
    return [p for _, p in sorted(found)]


def latest(model_dir: Path) -> Path | None:
    dirs = checkpoint_dirs(model_dir)
    return dirs[-1] if dirs else None


def prepare_work_directory(directory: Path, final: Path, resume: bool) -> bool:
    """Ready the work directory of a run that writes `final`: empty, or with `resume` holding the
    checkpoints of a killed run (left as they are) or a copy of the finished `final`, to train
    on (e.g. with a larger --max-steps; `final` stays as it is until the new run succeeds).

    Returns True when the directory is that copy: nothing worth keeping should the run fail
    before it trains. Without a checkpoint anywhere, leftovers (a log, say) are removed.
    """
    if resume:
        if latest(directory) is not None:
            return False  # the killed run's checkpoints: continue from the newest
        if latest(final) is not None:
            shutil.rmtree(directory)
            shutil.copytree(final, directory)
            return True
        log.info("--resume: no checkpoint in %s or %s; starting from scratch", directory, final)
    elif any(directory.iterdir()):
        log.info("discarding %s, left by an interrupted run (--resume continues it)", directory)
    if any(directory.iterdir()):
        shutil.rmtree(directory)
        directory.mkdir()
    return False


def save(model_dir: Path, step: int, tensors: dict[str, dict[str, torch.Tensor]],
         state: dict[str, Any], keep: int) -> Path:
    """Write one checkpoint atomically; `tensors` maps file stem → named tensors."""
    from safetensors.torch import save_file

    root = Path(model_dir) / DIRNAME
    root.mkdir(exist_ok=True)
    final = root / f"step-{step:08d}"
    tmp = root / f".{final.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for stem, named in tensors.items():
        save_file({k: v.detach().contiguous().cpu() for k, v in named.items()},
                  str(tmp / f"{stem}.safetensors"))
    (tmp / STATE).write_text(json.dumps(state, indent=1) + "\n")
    if final.exists():  # the same step again, after a resume
        shutil.rmtree(final)
    os.rename(tmp, final)
    for old in checkpoint_dirs(model_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    for stale in root.glob(".step-*.tmp"):  # left by a kill while writing
        shutil.rmtree(stale, ignore_errors=True)
    return final


def load(path: Path) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
    """The tensors and state of the checkpoint `path`; a damaged file is an InputError naming it."""
    from safetensors.torch import load_file

    from seqclass.errors import InputError

    advice = f"delete {path} to resume from an older checkpoint, or train without --resume"
    try:
        state = json.loads((path / STATE).read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise InputError(f"not a readable checkpoint state ({err}); {advice}", path / STATE) from None
    if not isinstance(state, dict):
        raise InputError(f"not a checkpoint state (a JSON object); {advice}", path / STATE)
    tensors = {}
    for p in sorted(path.glob("*.safetensors")):
        try:
            tensors[p.name.removesuffix(".safetensors")] = load_file(str(p))
        except Exception as err:  # safetensors' own error type: truncated, not safetensors
            first = next(iter(str(err).splitlines()), type(err).__name__)
            raise InputError(f"not a readable safetensors file ({first}); {advice}", p) from None
    return tensors, state


# ---------------------------------------------------------------- optimizer state, no pickle

def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer's state_dict into named tensors and a JSON-ready rest."""
    import torch

    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {}
    for pid, entry in sd["state"].items():
        for key, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"{pid}.{key}"] = value
            else:
                scalars[f"{pid}.{key}"] = value
    groups = [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()}
              for g in sd["param_groups"]]
    return tensors, {"param_groups": groups, "scalars": scalars}


def optimizer_state_dict(tensors: dict[str, torch.Tensor], doc: dict) -> dict:
    """Inverse of optimizer_tensors."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in [*tensors.items(), *doc["scalars"].items()]:
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    groups = [{k: tuple(v) if k == "betas" else v for k, v in g.items()}
              for g in doc["param_groups"]]
    return {"state": state, "param_groups": groups}


def rng_tensors(device: torch.device) -> dict[str, torch.Tensor]:
    """The torch generator states a checkpoint keeps: the CPU's and, on CUDA, every GPU's."""
    import torch

    states = {"torch_cpu": torch.get_rng_state()}
    if device.type == "cuda":
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            states[f"torch_cuda.{i}"] = state
    return states


def restore_rng(states: dict[str, torch.Tensor], device: torch.device) -> None:
    """Put back what `rng_tensors` saved; the CUDA states only on as many GPUs as were saved."""
    import torch

    torch.set_rng_state(states["torch_cpu"])
    cuda_states = [states[k] for k in sorted(states) if k.startswith("torch_cuda.")]
    if device.type == "cuda" and len(cuda_states) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda_states)


def kill_if_asked(step: int) -> None:
    """SIGKILL this process right after step SEQCLASS_TEST_KILL_AT_STEP (and its checkpoint):
    the tests interrupt a run with it the way a scheduler or a power cut would."""
    if int(os.environ.get(KILL_ENV) or 0) == step:
        os.kill(os.getpid(), signal.SIGKILL)
