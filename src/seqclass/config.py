"""Step options as typed dataclasses; their fields become argparse flags.

A field's metadata gives its `help` and, where the flag is not `--field-name`, its
`flag`; `nargs` and `choices` pass through. Fields without a default are required.
The dataclass default is the only place a step default is written.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any, TypeVar

T = TypeVar("T")


def _base_type(tp: Any) -> Any:
    """`int | None` → int; `list[str]` → str."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _base_type(args[0])
    if origin in (list, tuple):
        return typing.get_args(tp)[0]
    return tp


def add_arguments(parser: argparse.ArgumentParser | Any, cls: type, seen: set[str] | None = None) -> None:
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if seen is not None:
            if f.name in seen:
                continue
            seen.add(f.name)
        meta = f.metadata
        flag = meta.get("flag", "--" + f.name.replace("_", "-"))
        kwargs: dict[str, Any] = {"dest": f.name, "help": meta.get("help", "")}
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required:
            kwargs["required"] = True
        else:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            kwargs["default"] = default
            if default is not None and default is not False and default != [] and default != ():
                kwargs["help"] += f" (default: {default})"
        base = _base_type(hints[f.name])
        if base is bool:
            kwargs["action"] = "store_true"
        else:
            kwargs["type"] = base
            for key in ("nargs", "choices", "metavar"):
                if key in meta:
                    kwargs[key] = meta[key]
        parser.add_argument(flag, **kwargs)


def from_args(cls: type[T], args: argparse.Namespace) -> T:
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})


def option(help: str, default: Any = dataclasses.MISSING, **meta: Any) -> Any:
    """A dataclass field with its flag's help text."""
    if isinstance(default, list):
        items = list(default)
        return dataclasses.field(default_factory=lambda: list(items), metadata={"help": help, **meta})
    return dataclasses.field(default=default, metadata={"help": help, **meta})
