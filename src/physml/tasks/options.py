"""Command-line options declared on a data source's parameter dataclass.

A source's parameters are one frozen dataclass (nested dataclasses allowed, their options flattened
unless the nesting field's metadata says ``{"options": False}``); a field declared with
:func:`option` is also an option of `physml simulate KIND` (and of `physml convert KIND` when its
``modes`` say so). Type, default and help text live on the field, so the command line, the task's
``Simulation`` and the docs share one default. Fields without :func:`option` are parameters a user
sets in a task config only. Validation stays in the dataclass's ``__post_init__``: a ``ValueError``
starting ``"name = value: ..."`` is shown under the option's name.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Option:
    """How one field appears on the command line (see :func:`option`)."""

    help: str
    flag: str = ""  # default: --<field name with dashes>
    metavar: str | tuple[str, ...] | None = None
    choices: tuple[str, ...] | None = None
    pair: str = ""  # a second field filled by the option's second value (--pt LOW HIGH -> pt_min, pt_max)
    modes: tuple[str, ...] = ("simulate",)  # "simulate", "convert"
    positional: bool = False
    shown_default: str = ""  # the default as typed on the command line, when ``parse`` reads text
    parse: Callable[[str], Any] | None = None  # text -> field value (e.g. "1.5:3.5:21" -> temperatures)


def option(default: Any = MISSING, help: str = "", *, default_factory: Any = MISSING, **how: Any) -> Any:
    """A dataclass field that is also a command-line option; ``how``: the fields of :class:`Option`."""
    meta = {"option": Option(help=help, **how)}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


BOTH = ("simulate", "convert")
CONVERT = ("convert",)


def from_plain(params_type: type, d: dict, base: Any = None) -> Any:
    """``params_type`` from plain values (JSON, TOML: lists for tuples, dicts for nested dataclasses);
    a missing key keeps ``base``'s value (default: the dataclass's defaults)."""
    base = params_type() if base is None else base
    hints = typing.get_type_hints(params_type)
    names = {f.name for f in fields(params_type)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ValueError(f"{unknown[0]} = {d[unknown[0]]!r}: not a parameter; known: {', '.join(sorted(names))}")
    changes = {}
    for name, value in d.items():
        if is_dataclass(hints[name]) and isinstance(value, dict):
            changes[name] = from_plain(hints[name], value, getattr(base, name))
        else:
            changes[name] = tuple(value) if isinstance(value, list) else value
    return replace(base, **changes)
