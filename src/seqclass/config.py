"""Step options as typed dataclasses; their fields become argparse flags.

A field's metadata gives its `help` and, where the flag is not `--field-name`, its
`flag`; `nargs` and `choices` pass through; `deprecated` lists old flags that still set the
field for one release, with a warning naming the new one. Fields without a default are required.
The dataclass default is the only place a step default is written.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import types
import typing
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")

log = logging.getLogger("seqclass")


_GIVEN = "_seqclass_flags_given"  # namespace attribute: option dest → the flag that set it


def _note_given(parser: argparse.ArgumentParser, namespace: argparse.Namespace, dest: str,
                option_string: str | None, replacement: str) -> None:
    """Refuse a field set by both its flag and a deprecated name of it."""
    given = getattr(namespace, _GIVEN, {})
    earlier = given.get(dest)
    if earlier is not None and earlier != option_string:
        parser.error(f"{earlier} and {option_string} set the same option; give only {replacement}")
    setattr(namespace, _GIVEN, {**given, dest: option_string})


class _Deprecated(argparse.Action):
    """An old flag: sets the field as the new one does, and says which flag to use instead."""

    def __init__(self, option_strings, dest, replacement: str, flag_action: str | None = None,
                 nargs: int | str | None = None, **kwargs):
        self.replacement = replacement
        self.flag = flag_action == "store_true"
        super().__init__(option_strings, dest, nargs=0 if self.flag else nargs, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        log.warning("%s is deprecated and will be removed in the next release; use %s",
                    option_string, self.replacement)
        _note_given(parser, namespace, self.dest, option_string, self.replacement)
        setattr(namespace, self.dest, True if self.flag else values)


class _Noted(argparse.Action):
    """The flag of a field that also has deprecated names: noted, so that giving both fails."""

    def __call__(self, parser, namespace, values, option_string=None):
        _note_given(parser, namespace, self.dest, option_string, option_string or self.dest)
        super().__call__(parser, namespace, values, option_string)  # the store action's


class _Current(_Noted, argparse._StoreAction):
    """A valued flag, noted."""


class _CurrentTrue(_Noted, argparse._StoreTrueAction):
    """A store_true flag, noted."""


def _base_type(tp: Any) -> Any:
    """`int | None` → int; `list[str]` → str."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _base_type(args[0])
    if origin in (list, tuple):
        return typing.get_args(tp)[0]
    return tp


def field_default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is dataclasses.MISSING:
        raise TypeError(f"field {f.name!r} is required: it has no default")
    return f.default_factory()


def shown(default: Any) -> bool:
    """Whether --help states this default (not for None, False or an empty list)."""
    return default is not None and default is not False and default != [] and default != ()


def add_arguments(parser: argparse.ArgumentParser | Any, cls: type, seen: set[str] | None = None,
                  defaults_help: dict[str, str] | None = None) -> None:
    """One flag per field of `cls` not in `seen` (which it extends), and its deprecated names.

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
        kwargs = _argument(f, hints[f.name], defaults_help)
        flag_name = flag(cls, f.name)
        old_names = f.metadata.get("deprecated", ())
        if old_names:
            kwargs["action"] = _CurrentTrue if kwargs.get("action") == "store_true" else _Current
        parser.add_argument(flag_name, **kwargs)
        for old in old_names:
            parser.add_argument(old, dest=f.name, action=_Deprecated, replacement=flag_name,
                                flag_action="store_true" if kwargs["action"] is _CurrentTrue else None,
                                default=argparse.SUPPRESS, help=argparse.SUPPRESS,
                                **{k: v for k, v in kwargs.items() if k in ("type", "choices", "nargs")})


def _argument(f: dataclasses.Field, hint: Any, defaults_help: dict[str, str] | None) -> dict[str, Any]:
    """add_argument's keywords for the field `f` of type `hint` (see add_arguments)."""
    meta = f.metadata
    kwargs: dict[str, Any] = {"dest": f.name, "help": meta.get("help", "")}
    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
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
    base = _base_type(hint)
    if base is bool:
        kwargs["action"] = "store_true"
    else:
        kwargs["type"] = base
        for key in ("nargs", "choices", "metavar"):
            if key in meta:
                kwargs[key] = meta[key]
    return kwargs


def flag(cls: type, name: str) -> str:
    """The command-line flag of field `name` of the dataclass `cls`."""
    meta = next(f.metadata for f in dataclasses.fields(cls) if f.name == name)
    return meta.get("flag", "--" + name.replace("_", "-"))


class OptionError(ValueError):
    """An option's value out of its range, refused when its dataclass is made (`__post_init__`),
    before any file is read; the message names the flag."""


def at_least(obj: Any, names: typing.Iterable[str], low: int | float = 1) -> None:
    """Refuse a field of `obj` (a dataclass of options) below `low` (also NaN), naming its flag:
    "--channels 0: must be at least 1". None means "not given" (e.g. --threads: automatic) and
    passes. The one check of a lower bound: steps' Configs, the training loops' options and the
    model families' Params all call it from their `__post_init__`."""
    for name in names:
        value = getattr(obj, name)
        if value is not None and not value >= low:
            raise OptionError(f"{flag(type(obj), name)} {value}: must be at least {low}")


def above(obj: Any, names: typing.Iterable[str], low: int | float = 0) -> None:
    """Refuse a field of `obj` at or below `low` (also NaN): "--lr-decay-per-layer 0.0: must be
    above 0"; None passes."""
    for name in names:
        value = getattr(obj, name)
        if value is not None and not value > low:
            raise OptionError(f"{flag(type(obj), name)} {value}: must be above {low}")


def within(obj: Any, name: str, low: float, high: float, *, low_open: bool = False,
           high_open: bool = False) -> None:
    """Refuse a field of `obj` outside [low, high] (an end open where said); None passes."""
    value = getattr(obj, name)
    if value is None:
        return
    over_low = value > low if low_open else value >= low
    under_high = value < high if high_open else value <= high
    if not (over_low and under_high):  # also NaN
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise OptionError(f"{flag(type(obj), name)} {value}: must be in {interval}")


def from_args(cls: type[T], args: argparse.Namespace) -> T:
    """The dataclass of the parsed flags; a field whose flag is absent keeps its default."""
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)})


def option(help: str, default: Any = dataclasses.MISSING, **meta: Any) -> Any:
    """A dataclass field with its flag's help text."""
    if isinstance(default, list):
        items = list(default)
        return dataclasses.field(default_factory=lambda: list(items), metadata={"help": help, **meta})
    return dataclasses.field(default=default, metadata={"help": help, **meta})
