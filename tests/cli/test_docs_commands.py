"""The command lines the README and the docs show are true: each parses with `physml`'s own parser;
every sub-command has a description and an example, and each example parses too."""

import argparse
import re
import shlex
from pathlib import Path

import pytest

from physml.cli import EXAMPLES, build_parser

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _quoted_commands() -> list[tuple[str, str]]:
    """(page, command) for every `physml ...` line in a fenced code block (continuations joined,
    comments and leading VAR=value assignments dropped; synopsis lines with [options] skipped)."""
    out = []
    for page in PAGES:
        fenced, pending = False, ""
        for line in page.read_text().splitlines():
            if line.startswith("```"):
                fenced, pending = not fenced, ""
                continue
            if not fenced:
                continue
            line = pending + line.split("  #")[0].rstrip()
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            pending = ""
            words = line.strip()
            while re.match(r"^[A-Z_]+=\S+\s", words):
                words = words.split(None, 1)[1]
            words = words.removeprefix(".venv/bin/")
            if words.startswith("physml ") and not re.search(r"[\[|]|\.\.\.", words):
                out.append((page.name, words))
    return out


COMMANDS = _quoted_commands()


def test_the_docs_quote_commands():
    assert len(COMMANDS) > 30


@pytest.mark.parametrize("page,command", COMMANDS)
def test_quoted_command_parses(page, command):
    argv = shlex.split(command)[1:]
    try:
        build_parser().parse_args(argv)
    except SystemExit as e:
        pytest.fail(f"{page}: `{command}` does not parse (exit {e.code})")


def _subcommands(parser, path=""):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                key = f"{path} {name}".strip()
                has_children = any(isinstance(a, argparse._SubParsersAction) for a in sub._actions)
                if not has_children:
                    yield key, sub
                yield from _subcommands(sub, key)


@pytest.mark.parametrize("key,sub", list(_subcommands(build_parser())), ids=lambda x: str(x).replace(" ", "-"))
def test_every_subcommand_has_a_description_and_an_example_that_parses(key, sub):
    """Commands take theirs from ``EXAMPLES``, data sources from their class (``example``)."""
    assert sub.description, f"`physml {key}` has no description"
    assert sub.epilog and sub.epilog.startswith("example: physml " + key), f"`physml {key}` shows no example"
    assert key.split()[0] in ("simulate", "convert", "detect") or sub.epilog == f"example: {EXAMPLES[key]}"
    build_parser().parse_args(shlex.split(sub.epilog.removeprefix("example: "))[1:])
