"""The per-window rows of `seqclass predict --tracks`, grouped into one track per contig.

Input contract (docs/formats.md, tracks.tsv): a TSV with `id`, `start`, `end` (0-based,
half-open) and one `prob_<class>` column per class; other columns are ignored. Every file
given together must have the same classes. Windows keep their file order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from seqclass.errors import InputError
from seqclass.io.sequences import base_name

PREFIX = "prob_"


@dataclass
class Track:
    id: str  # the contig id; `<file>:<id>` when two files hold the same id
    start: np.ndarray  # (W,) window starts, 0-based
    end: np.ndarray  # (W,) window ends, exclusive
    probs: np.ndarray  # (W, C) class probabilities of each window alone

    @property
    def length(self) -> int:
        return int(self.end.max())


def read_tracks(paths: list[Path]) -> tuple[list[str], list[Track]]:
    """(classes, tracks) of every contig in the files, in file and then first-row order."""
    classes: list[str] | None = None
    found: list[tuple[Path, str, pd.DataFrame]] = []
    for path in paths:
        if not Path(path).is_file():
            raise InputError("file not found", path)
        try:
            frame = pd.read_csv(path, sep="\t", dtype={"id": str})
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
            raise InputError(f"not a tracks TSV ({err})", path) from None
        mine = [c[len(PREFIX):] for c in frame.columns if c.startswith(PREFIX)]
        missing = [c for c in ("id", "start", "end") if c not in frame.columns]
        if missing or not mine:
            raise InputError("not a tracks TSV from `seqclass predict --tracks`: no "
                             + ", ".join(missing + ([] if mine else ["prob_<class>"]))
                             + " column", path)
        if frame.empty:
            raise InputError("tracks TSV has no rows", path)
        if classes is None:
            classes = mine
        elif mine != classes:
            raise InputError(f"classes {mine} differ from those of {paths[0]} ({classes})", path)
        for rid, rows in frame.groupby("id", sort=False):
            found.append((Path(path), str(rid), rows))
    assert classes is not None, "read_tracks needs at least one path"
    ids = [rid for _, rid, _ in found]
    tracks = []
    for path, rid, rows in found:
        name = rid if ids.count(rid) == 1 else f"{base_name(path)}:{rid}"
        try:
            tracks.append(Track(name, rows["start"].to_numpy(np.int64),
                                rows["end"].to_numpy(np.int64),
                                rows[[PREFIX + c for c in classes]].to_numpy(np.float64)))
        except (ValueError, TypeError):
            raise InputError("start, end and prob_<class> must be numbers", path, rid) from None
    return classes, tracks


def longest(tracks: list[Track], n: int) -> list[Track]:
    """The `n` longest tracks, longest first (ties in input order)."""
    order = sorted(range(len(tracks)), key=lambda i: (-tracks[i].length, i))
    return [tracks[i] for i in order[:n]]
