"""The training log (JSON lines, one object per evaluation) and its loss and metric plots."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LOG = "training_log.jsonl"
LOSS_PNG = "loss.png"
METRICS_PNG = "metrics.png"
METRIC_KEYS = ("valid_accuracy", "valid_balanced_accuracy", "valid_mcc", "valid_f1_macro")


def read_log(path: Path) -> list[dict[str, Any]]:
    """Records of a log; a line cut short by a kill is skipped."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("step"), int):
            records.append(rec)
    return records


def truncate_log(path: Path, last_step: int) -> list[dict[str, Any]]:
    """Keep the records up to `last_step` (a resumed run's checkpoint), rewritten atomically."""
    records = [r for r in read_log(path) if r["step"] <= last_step]
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
    os.replace(tmp, path)
    return records


def append_log(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a") as fh:
        fh.write(json.dumps(record) + "\n")
        fh.flush()


def plot(records: list[dict[str, Any]], directory: Path) -> None:
    """loss.png: train and validation loss by step; metrics.png: validation metrics by step."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, style in (("train_loss", "-"), ("valid_loss", "--")):
        points = [(r["step"], r[key]) for r in records if isinstance(r.get(key), (int, float))]
        if points:
            ax.plot(*zip(*points), style, marker="o", markersize=3, label=key.replace("_", " "))
    _finish(ax, fig, "loss", directory / LOSS_PNG, bool(records))

    fig, ax = plt.subplots(figsize=(6, 4))
    drawn = False
    for key in METRIC_KEYS:
        points = [(r["step"], r[key]) for r in records if isinstance(r.get(key), (int, float))]
        if points:
            ax.plot(*zip(*points), marker="o", markersize=3, label=key.removeprefix("valid_"))
            drawn = True
    if not drawn:
        ax.text(0.5, 0.5, "no validation rows", ha="center", va="center", transform=ax.transAxes)
    _finish(ax, fig, "validation metric", directory / METRICS_PNG, drawn)


def _finish(ax, fig, ylabel: str, path: Path, legend: bool) -> None:
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(ylabel)
    if legend:
        ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
