"""MkDocs hook: the command-line reference page, generated from physml's own argparse parser, so the
page cannot drift from the command. Replaces the marker ``<!-- cli-reference -->``."""

from __future__ import annotations

import argparse

MARKER = "<!-- cli-reference -->"


def _sections(parser: argparse.ArgumentParser, path: str) -> list[str]:
    """The ``--help`` text of ``parser`` and of every sub-command below it, one section each."""
    out = [f"## `{path}`\n\n```text\n{parser.format_help().rstrip()}\n```\n"]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += _sections(sub, f"{path} {name}")
    return out


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    import os

    from physml.cli import build_parser

    os.environ.setdefault("COLUMNS", "100")
    return markdown.replace(MARKER, "\n".join(_sections(build_parser(), "physml")))
