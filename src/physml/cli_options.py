"""argparse options built from a data source's parameter dataclass (:mod:`physml.tasks.options`),
and the parameters read back from the parsed command line."""

from __future__ import annotations

import argparse
import math
import re
import typing
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any

from physml.errors import CliError
from physml.tasks.options import Option


def int64(text: str) -> int:
    """An integer within the 64-bit range (ranges are checked where the value is used)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not -(2**63) <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{text}: outside the 64-bit integer range")
    return value


def finite(text: str) -> float:
    """A finite float."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text}: not a finite number")
    return value


def _flag(name: str, opt: Option) -> str:
    return opt.flag or "--" + name.replace("_", "-")


def _dest(name: str, opt: Option) -> str:
    """The argparse attribute of field ``name``: its own name when positional, else its flag's."""
    return name if opt.positional else _flag(name, opt)[2:].replace("-", "_")


@dataclass(frozen=True)
class Leaf:
    """One option: the field's path in the nested dataclass, its declaration, type and default."""

    path: tuple[str, ...]
    opt: Option
    hint: Any
    default: Any

    @property
    def flag(self) -> str:
        return _flag(self.path[-1], self.opt)

    @property
    def dest(self) -> str:
        return _dest(self.path[-1], self.opt)


def leaves(params_type: type, base: Any = None, path: tuple[str, ...] = ()) -> list[Leaf]:
    """Every option of ``params_type`` (nested dataclasses flattened), with the defaults of ``base``."""
    base = params_type() if base is None else base
    hints = typing.get_type_hints(params_type)
    out = []
    for f in fields(params_type):
        hint, value = hints[f.name], getattr(base, f.name)
        if is_dataclass(hint):
            if f.metadata.get("options", True):
                out += leaves(hint, value, path + (f.name,))
        elif "option" in f.metadata:
            opt = f.metadata["option"]
            default = (value, getattr(base, opt.pair)) if opt.pair else value
            out.append(Leaf(path + (f.name,), opt, hint, default))
    return out


def _kind(hint: Any) -> tuple[Any, Any]:
    """(argparse type, nargs) of a field's type hint."""
    scalar = {int: int64, float: finite, str: str}
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        nargs = "+" if len(args) == 2 and args[1] is Ellipsis else len(args)
        return scalar[args[0]], nargs
    return scalar[hint], None


def _shown(leaf: Leaf) -> str:
    if leaf.opt.shown_default:
        return leaf.opt.shown_default
    value = leaf.default
    return (
        " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
        if isinstance(value, tuple)
        else (f"{value:g}" if isinstance(value, float) else repr(value) if value == "" else str(value))
    )


def add_options(parser: argparse.ArgumentParser, params_type: type, mode: str, base: Any = None) -> None:
    """Add the ``mode`` ("simulate"/"convert") options of ``params_type`` to ``parser``."""
    for leaf in leaves(params_type, base):
        opt = leaf.opt
        if mode not in opt.modes:
            continue
        kind, nargs = _kind(leaf.hint)
        if opt.pair:
            nargs = 2
        if opt.parse:
            kind, nargs = str, None
        text = opt.help if opt.positional else f"{opt.help} (default {_shown(leaf)})"
        names = [leaf.dest] if opt.positional else [leaf.flag]
        extra = {} if opt.positional else {"dest": leaf.dest, "default": None}
        parser.add_argument(
            *names, type=kind, nargs=nargs, metavar=opt.metavar, choices=opt.choices, help=text, **extra
        )


def params_from(params_type: type, ns: argparse.Namespace, mode: str, base: Any = None) -> Any:
    """The parameters given on the command line, the rest from ``base`` (default: the dataclass's defaults);
    a ValueError of the dataclass is re-raised as a CliError naming the option."""
    base = params_type() if base is None else base
    try:
        return _build(params_type, ns, mode, base)
    except ValueError as err:
        raise CliError(_name_option(str(err), params_type, base)) from None


def _build(params_type: type, ns: argparse.Namespace, mode: str, base: Any) -> Any:
    hints = typing.get_type_hints(params_type)
    changes = {}
    for f in fields(params_type):
        if is_dataclass(hints[f.name]):
            if f.metadata.get("options", True):
                changes[f.name] = _build(hints[f.name], ns, mode, getattr(base, f.name))
            continue
        opt = f.metadata.get("option")
        if opt is None or mode not in opt.modes:
            continue
        value = getattr(ns, _dest(f.name, opt), None)
        if value is None:
            continue
        if opt.parse:
            changes[f.name] = opt.parse(value)
        elif opt.pair:
            changes[f.name], changes[opt.pair] = value
        else:
            changes[f.name] = tuple(value) if isinstance(value, list) else value
    return replace(base, **changes)


def _name_option(text: str, params_type: type, base: Any) -> str:
    """ "radius = 3, width = 1.6: ..." -> "--radius 3, --width 1.6: ..." for the fields that are options (the
    first field of a pair stands for both)."""
    names = {}
    for leaf in leaves(params_type, base):
        names[leaf.path[-1]] = names[leaf.dest] = leaf.flag
        if leaf.opt.pair:
            names[leaf.opt.pair] = leaf.flag
    return re.sub(r"\b(\w+) = ", lambda m: f"{names[m.group(1)]} " if m.group(1) in names else m.group(0), text)
