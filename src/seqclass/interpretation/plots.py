"""PNGs of interpretations: saliency and ISM heatmap of one sequence; class tracks along contigs."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from seqclass.interpretation.attribution import Attribution, ism_summaries  # noqa: E402
from seqclass.interpretation.tracks import Track  # noqa: E402

TOP_POSITIONS = 10  # residues written over the saliency curve
MAX_WIDTH_IN = 20.0


def _width(length: int) -> float:
    """Wide enough to tell positions apart on short sequences, capped for long ones."""
    return float(min(MAX_WIDTH_IN, max(8.0, length / 25)))


def saliency(attr: Attribution, labels: list[str], kind: str, path: Path) -> None:
    """Two panels sharing the position axis (1-based): the mean ISM delta and the occlusion
    delta along the sequence, the residues of the most important positions written on it;
    below, the ISM heatmap of positions × substituted residue (0 at the reference residue)."""
    length = len(attr.sequence)
    ism_mean = ism_summaries(attr)[0]  # (L,)
    x = np.arange(1, length + 1)
    fig, (top, heat) = plt.subplots(
        2, 1, sharex=True, figsize=(_width(length), 5.5 + 0.08 * len(attr.core)),
        gridspec_kw={"height_ratios": [1.0, 0.6 + 0.05 * len(attr.core)]}, layout="constrained")
    top.axhline(0.0, color="0.6", lw=0.5)
    top.plot(x, ism_mean, lw=0.9, color="tab:blue", label="ISM: mean over the substitutions")
    top.plot(x, attr.occlusion, lw=0.9, color="tab:orange", label="occlusion")
    for p in np.argsort(-np.abs(ism_mean), kind="stable")[:min(TOP_POSITIONS, length)]:
        top.annotate(attr.sequence[p], (x[p], ism_mean[p]), textcoords="offset points",
                     xytext=(0, -11 if ism_mean[p] < 0 else 3), ha="center", fontsize=8,
                     fontweight="bold")
    top.set_ylabel(f"Δ {kind}")
    top.set_title(f"{attr.id}: {labels[attr.target]} ({kind} {attr.score:.3g}), {length} residues; "
                  "below 0: the residues support the class", fontsize=9)
    top.legend(fontsize=7, loc="best")
    bound = float(np.abs(attr.ism).max()) or 1.0
    im = heat.imshow(attr.ism.T, aspect="auto", cmap="RdBu", vmin=-bound, vmax=bound,
                     interpolation="nearest", extent=(0.5, length + 0.5, len(attr.core) - 0.5, -0.5))
    heat.set_yticks(range(len(attr.core)), list(attr.core), fontsize=7)
    heat.set_ylabel("substituted by")
    heat.set_xlabel("position")
    fig.colorbar(im, ax=heat, pad=0.01, label=f"Δ {kind}")
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)


def tracks(items: list[Track], classes: list[str], path: Path) -> None:
    """One panel per contig: each class's probability at every window, drawn at the window's
    middle as a step line, along the contig's coordinates."""
    fig, axes = plt.subplots(len(items), 1, figsize=(10, 0.6 + 1.7 * len(items)), squeeze=False)
    for ax, track in zip(axes[:, 0], items):
        mid = (track.start + track.end) / 2.0
        for j, name in enumerate(classes):
            ax.plot(mid, track.probs[:, j], drawstyle="steps-mid", lw=0.8, label=name)
        ax.set_xlim(0, track.length)
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("probability", fontsize=8)
        ax.set_title(f"{track.id} ({track.length:,} residues, {len(track.start)} windows)",
                     fontsize=9, loc="left")
    axes[0, 0].legend(fontsize=7, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False,
                      ncol=min(len(classes), 4))
    axes[-1, 0].set_xlabel("position (0-based window middle)")
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)
