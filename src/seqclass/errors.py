"""The one exception type the CLI turns into a one-line message and a non-zero exit."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad user input: names the file and, where there is one, the record."""

    def __init__(self, message: str, path: str | Path | None = None, record: str | None = None):
        self.path = str(path) if path is not None else None
        self.record = record
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path
            if self.record is not None:
                where += f", record {self.record!r}"
            where += ": "
        return where + self.message


class ClusterError(RuntimeError):
    """A clustering or search tool failed or cannot honour the request."""
