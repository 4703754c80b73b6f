"""Typed configs: frozen dataclasses, TOML files and ``--set a.b=value`` overrides.

Every field has a default; nested sections are dataclasses. Unknown keys and wrong types are errors
that name the key and list the valid choices, raised before anything starts.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from physml.errors import ConfigError

INT64 = (-(2**63), 2**63 - 1)  #: the range of an integer config value


def _hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _coerce(value: Any, hint: Any, key: str, infinite: bool = False) -> Any:
    """Check/convert ``value`` to the annotated type ``hint`` (int, float, bool, str, tuples, Optional)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], key)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} = {value!r}: expected a list")
        item = args[0] if args else Any
        return tuple(_coerce(v, item, key) for v in value)
    if hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key} = {value!r}: expected true or false")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            if not INT64[0] <= value <= INT64[1]:
                raise ConfigError(f"{key} = {value}: outside the 64-bit integer range")
            return value
        raise ConfigError(f"{key} = {value!r}: expected an integer")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isnan(value) or (math.isinf(value) and not infinite):
                raise ConfigError(f"{key} = {value}: expected a finite number")
            return float(value)
        raise ConfigError(f"{key} = {value!r}: expected a number")
    if hint is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key} = {value!r}: expected a string")
    raise ConfigError(f"{key}: unsupported type {hint}")


def from_dict(cls, data: dict, prefix: str = ""):
    """Build dataclass ``cls`` from nested ``data``; unknown keys and bad types raise ConfigError."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = _hints(cls)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"unknown config key '{prefix}{unknown[0]}'; valid keys here: {', '.join(sorted(fields))}")
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{prefix}{name} is a section; valid keys: {', '.join(f.name for f in dataclasses.fields(hint))}"
                )
            kwargs[name] = from_dict(hint, value, f"{prefix}{name}.")
        else:  # a key whose default is infinite (a bound that is off) may be set to infinity
            default = fields[name].default
            infinite = isinstance(default, float) and math.isinf(default)
            kwargs[name] = _coerce(value, hint, prefix + name, infinite)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:  # messages that name their key need no prefix
        named = prefix and str(err).startswith(prefix)
        raise ConfigError(str(err) if named else f"{prefix or 'config'}: {err}") from None


def to_dict(cfg) -> dict:
    """Nested dict of a config dataclass (tuples become lists, TOML-ready)."""

    def conv(v):
        if isinstance(v, tuple):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v

    return conv(dataclasses.asdict(cfg))


def _parse_scalar(text: str) -> Any:
    """A --set value: TOML syntax (numbers, true/false, [lists], "strings"), else the raw string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def merge(base: dict, overrides: list[str]) -> dict:
    """Apply ``a.b=value`` overrides to a nested dict (copy)."""
    out = _deep_copy(base)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. train.epochs=5")
        key, _, text = item.partition("=")
        node = out
        parts = key.strip().split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {key}: {p} is not a section")
        node[parts[-1]] = _parse_scalar(text.strip())
    return out


def _deep_copy(d: dict) -> dict:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in d.items()}


def load_toml(path: Path) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory; give a .toml file") from None
    except PermissionError:
        raise ConfigError(f"config file {path}: permission denied") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text (a binary file?); give a .toml file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {path}: {err}") from None


def dump_toml(data: dict) -> str:
    """Minimal TOML writer for config dicts (sections, scalars, lists of scalars)."""
    lines, sections = [], []
    for k, v in data.items():
        if isinstance(v, dict):
            sections.append((k, v))
        else:
            lines.append(f"{k} = {_toml_value(v)}")
    text = "\n".join(lines)
    for name, sub in sections:
        body = dump_toml(sub)
        text += ("\n\n" if text else "") + f"[{name}]\n" + body.replace("\n[", f"\n[{name}.")
    return text.strip() + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if v is None:
        return '""'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclasses.dataclass(frozen=True)
class KeyDoc:
    """One config key as the reference shows it."""

    key: str  # dotted, e.g. "train.lr"
    type: str  # e.g. "float", "tuple[int, ...]"
    default: Any
    help: str  # the field's comment in its dataclass


def _comments(cls) -> dict[str, str]:
    """Each field's trailing comment in the source of dataclass ``cls`` (continuation comment lines
    under a field are joined to it); {} when the source is not available."""
    try:
        lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):
        return {}
    out, last = {}, None
    for line in lines:
        m = re.match(r"^\s+(\w+)\s*:[^#]*?(?:#\s?(.*))?$", line)
        if m and not line.strip().startswith(("def ", "@", "#")):
            last = m.group(1)
            out[last] = (m.group(2) or "").strip()
        elif last and line.strip().startswith("#"):
            out[last] = (out[last] + " " + line.strip().lstrip("#").strip()).strip()
        else:
            last = None
    return out


def reference(cls, prefix: str = "") -> list[KeyDoc]:
    """Every key of config dataclass ``cls`` (sections recursed), with its type, default and help."""
    hints, docs, out = _hints(cls), _comments(cls), []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            out += reference(hint, f"{prefix}{f.name}.")
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        name = getattr(hint, "__name__", None) if typing.get_origin(hint) is None else None
        text = docs.get(f.name) or getattr(f.metadata.get("option"), "help", "")  # a comment, or option()'s help
        out.append(KeyDoc(prefix + f.name, name or str(hint).replace("typing.", ""), default, text))
    return out


def annotated_toml(cfg) -> str:
    """``cfg`` as TOML, each key followed by a comment with its type, its default when the value
    differs, and its help: what `physml config` prints."""
    docs = {d.key: d for d in reference(type(cfg))}
    lines: list[str] = []

    def section(d: dict, prefix: str) -> None:
        plain = {k: v for k, v in d.items() if not isinstance(v, dict)}
        if prefix:
            lines.append(f"\n[{prefix.rstrip('.')}]")
        for k, v in plain.items():
            doc = docs.get(prefix + k)
            note = f"{doc.type}" if doc else ""
            if doc and _toml_value(to_dict_value(doc.default)) != _toml_value(v):
                note += f", default {_toml_value(to_dict_value(doc.default))}"
            if doc and doc.help:
                note += f": {doc.help}"
            lines.append(f"{k} = {_toml_value(v)}" + (f"  # {note}" if note else ""))
        for k, v in d.items():
            if isinstance(v, dict):
                section(v, f"{prefix}{k}.")

    section(to_dict(cfg), "")
    return "\n".join(lines).strip() + "\n"


def to_dict_value(v: Any) -> Any:
    """A default as ``to_dict`` would write it (tuples as lists)."""
    return [to_dict_value(x) for x in v] if isinstance(v, tuple) else v
