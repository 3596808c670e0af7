"""The README documents every setting and every command, and the Quickstart has two commands."""

import re

from paperroute.cli import build_parser
from paperroute.conf import SETTINGS
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_every_setting_is_in_the_readme():
    missing = [s.name for s in SETTINGS if f"PAPERROUTE_{s.name}" not in README]
    assert missing == []


def test_every_command_is_in_the_readme():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    missing = [name for name in commands if f"paperroute {name}" not in README]
    assert missing == []


def test_every_command_has_help():
    parser = build_parser()
    for name, sub in parser._subparsers._group_actions[0].choices.items():
        assert sub.format_help().strip(), name
        assert sub.description, f"`paperroute {name}` has no description"


def test_quickstart_has_exactly_two_commands():
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", quickstart, re.S)
    commands = [
        line
        for block in blocks
        for line in block.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands == ["make demo", "make test"]
