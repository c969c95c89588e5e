"""Which process of a torchrun launch this is, read from the environment without PyTorch.

torchrun starts one process per GPU and gives each its place in WORLD_SIZE, RANK and
LOCAL_RANK. training.loop trains data-parallel when WORLD_SIZE is above 1 (its docstring has
the design); steps.train lets rank 0 alone write the model directory. Reading the variables
here, not in training.loop, keeps PyTorch out of the train step of the linear families.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class World:
    rank: int = 0  # among all the processes
    local_rank: int = 0  # among this machine's processes: the index of its GPU
    size: int = 1

    @property
    def main(self) -> bool:
        """Rank 0: the one process that evaluates and writes the model directory."""
        return self.rank == 0


ALONE = World()  # a process without torchrun


def world() -> World:
    """This process's place; one process alone without torchrun (or with one process)."""
    size = int(os.environ.get("WORLD_SIZE") or 1)
    if size <= 1:
        return ALONE
    return World(int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK") or 0), size)
