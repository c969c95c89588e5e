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


def field_default(f: dataclasses.Field) -> Any:
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()


def shown(default: Any) -> bool:
    """Whether --help states this default (not for None, False or an empty list)."""
    return default is not None and default is not False and default != [] and default != ()


def add_arguments(parser: argparse.ArgumentParser | Any, cls: type, seen: set[str] | None = None,
                  defaults_help: dict[str, str] | None = None) -> None:
    """One flag per field of `cls` not in `seen` (which it extends).

    With `defaults_help` (field name → the text after "default: "), the flags are options of
    several dataclasses with defaults of their own (the model families' Params): a flag not
    given is left out of the namespace, and from_args then takes the dataclass's default.
    """
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
        elif defaults_help is not None:
            kwargs["default"] = argparse.SUPPRESS
            if defaults_help.get(f.name):
                kwargs["help"] += f" (default: {defaults_help[f.name]})"
        else:
            default = field_default(f)
            kwargs["default"] = default
            if shown(default):
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
    """The dataclass of the parsed flags; a field whose flag is absent keeps its default."""
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)})


def option(help: str, default: Any = dataclasses.MISSING, **meta: Any) -> Any:
    """A dataclass field with its flag's help text."""
    if isinstance(default, list):
        items = list(default)
        return dataclasses.field(default_factory=lambda: list(items), metadata={"help": help, **meta})
    return dataclasses.field(default=default, metadata={"help": help, **meta})
