"""MkDocs hook: the reference pages generated from the code, so that they cannot drift from it: the
command line from physml's own argparse parser (marker ``<!-- cli-reference -->``) and every task's
config from its dataclasses, as `physml config TASK` prints it (marker ``<!-- config-reference -->``)."""

from __future__ import annotations

import argparse

MARKER = "<!-- cli-reference -->"
CONFIGS = "<!-- config-reference -->"


def _sections(parser: argparse.ArgumentParser, path: str) -> list[str]:
    """The ``--help`` text of ``parser`` and of every sub-command below it, one section each."""
    out = [f"## `{path}`\n\n```text\n{parser.format_help().rstrip()}\n```\n"]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += _sections(sub, f"{path} {name}")
    return out


def _configs() -> str:
    """One section per task: its default config, each key with type, default and help."""
    from physml.config import annotated_toml
    from physml.platform.configs import resolve
    from physml.tasks import TASKS, describe, shipped_configs

    out = []
    for name in TASKS:
        configs = ", ".join(f"`{c}`" for c in shipped_configs(name))
        text = annotated_toml(resolve(name, "default", [])).rstrip()
        out.append(f"## `{name}`\n\n{describe(name)}. Shipped configs: {configs}.\n\n```toml\n{text}\n```\n")
    return "\n".join(out)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if CONFIGS in markdown:
        return markdown.replace(CONFIGS, _configs())
    if MARKER not in markdown:
        return markdown
    import os

    from physml.cli import build_parser

    os.environ.setdefault("COLUMNS", "100")
    return markdown.replace(MARKER, "\n".join(_sections(build_parser(), "physml")))
