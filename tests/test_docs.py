"""The documentation: generated pages up to date, every setting and command in them, links that
resolve, a Quickstart of two commands, an architecture that matches the imports, and a site that
builds."""

import ast
import importlib.util
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from paperroute.cli import build_parser
from paperroute.conf import PREFIX, SETTINGS
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
# Every Markdown file a reader follows links in: the README and its neighbours, and the site.
PAGES = sorted(
    [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md"]
    + list((ROOT / "docs").rglob("*.md"))
)


def load_generator():
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = load_generator()


def commands(parser=None, prefix="paperroute"):
    """Every command and subcommand, as `paperroute index sync`, with its parser."""
    parser = parser or build_parser()
    found = []
    for name, _, sub in generate._subcommands(parser):
        found.append((f"{prefix} {name}", sub))
        found += commands(sub, f"{prefix} {name}")
    return found


def test_generated_pages_are_up_to_date():
    stale = [str(path) for path, text in generate.pages().items() if (ROOT / path).read_text() != text]
    assert stale == [], "stale; run `python docs/generate.py` and commit the pages"


def write_pages(root: Path) -> None:
    for path, text in generate.pages().items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def test_check_names_a_stale_page(tmp_path):
    write_pages(tmp_path)
    assert generate.stale(tmp_path) == []
    (tmp_path / generate.CLI_PAGE).write_text("old text\n")
    assert generate.stale(tmp_path) == [generate.CLI_PAGE]


def test_check_names_a_stale_readme_table(tmp_path):
    write_pages(tmp_path)
    readme = tmp_path / generate.README
    current = readme.read_text()
    # A setting's row missing from the table, as when conf.py gains one and nobody regenerates.
    row = next(line for line in current.splitlines() if f"`{PREFIX}{SETTINGS[-1].name}`" in line)
    readme.write_text(current.replace(row + "\n", ""))
    assert generate.stale(tmp_path) == [generate.README]
    # Regenerating puts it back, and leaves the hand-written rest of the README as it was.
    edited = current.replace("## Quickstart", "## Quickstart\n\nA hand-written line.")
    readme.write_text(edited.replace(row + "\n", ""))
    assert generate.pages(tmp_path)[generate.README] == edited


def test_check_fails_without_the_readme_markers(tmp_path):
    write_pages(tmp_path)
    readme = tmp_path / generate.README
    readme.write_text(readme.read_text().replace(generate.README_END, ""))
    with pytest.raises(ValueError, match="settings:end"):
        generate.stale(tmp_path)


def readme_table(text: str = README) -> str:
    """The generated settings table of the README, markers included."""
    start, end = text.index(generate.README_START), text.index(generate.README_END)
    return text[start : end + len(generate.README_END)]


def test_readme_lists_exactly_the_settings():
    """The README documents every setting itself, in its Configuration section, in the order of
    the settings reference: each with its default and the first sentence of its help."""
    configuration = README.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    table = readme_table()
    assert table in configuration
    listed = re.findall(r"^\| \[`(PAPERROUTE_\w+)`\]", table, re.M)
    assert listed == [PREFIX + s.name for s in SETTINGS]
    for s in SETTINGS:
        assert generate.first_sentence(s.help).replace("|", "\\|") in table, s.name
    assert "docs/reference/settings.md" in configuration.replace(table, "")


def test_first_sentence():
    assert generate.first_sentence("Database to use. Empty means SQLite.") == "Database to use."
    assert generate.first_sentence("One `a.b. C` here. Two.") == "One `a.b. C` here."
    assert generate.first_sentence("Such as 127.0.0.1 for a scraper, e.g. Prometheus. Two.") == (
        "Such as 127.0.0.1 for a scraper, e.g. Prometheus."
    )
    assert generate.first_sentence("No full stop") == "No full stop"


def test_every_setting_is_in_the_settings_page():
    page = generate.pages()[generate.SETTINGS_PAGE]
    missing = [s.name for s in SETTINGS if f"## `{PREFIX}{s.name}`" not in page or s.help not in page]
    assert missing == []


def test_every_command_is_in_the_cli_page():
    page = generate.pages()[generate.CLI_PAGE]
    missing = [name for name, _ in commands() if f"# `{name}`" not in page]
    assert missing == []
    options = [
        f"{name} {option}"
        for name, sub in commands()
        for action in sub._actions
        for option in action.option_strings
        if option not in ("-h", "--help") and f"`{option}" not in page
    ]
    assert options == []


def test_cli_page_says_each_default_once():
    page = generate.pages()[generate.CLI_PAGE]
    twice = [
        line for line in page.splitlines() if line.startswith("- ") and line.lower().count("default") > 1
    ]
    assert twice == []
    assert "- `--offset OFFSET`: Skip this many results (paging). Default: `0`." in page


def test_help_is_capitalised_unless_it_starts_with_a_name():
    assert generate._sentence("port to listen on") == "Port to listen on."
    assert generate._sentence("comma-separated arXiv ids") == "Comma-separated arXiv ids."
    assert generate._sentence("search_query, such as x") == "search_query, such as x."
    assert generate._sentence("arXiv ids") == "arXiv ids."
    assert generate._sentence("cs.CL only") == "cs.CL only."
    assert "Search_query" not in generate.pages()[generate.CLI_PAGE]


def test_cli_page_links_the_pages_it_names():
    """Paths such as docs/reference/settings.md in cli.py's descriptions become relative links."""
    page = generate.pages()[generate.CLI_PAGE]
    assert "](settings.md)" in page.split("\n## ", 1)[0]
    prose = re.sub(r"\]\([^)]*\)", "]", re.sub(r"`[^`\n]*`|<!--.*?-->", "", page))
    assert "docs/" not in prose


def test_every_command_has_a_description():
    missing = [name for name, sub in commands() if not (sub.description or "").strip()]
    assert missing == []


def test_help_texts_are_not_written_by_hand():
    """A setting's help text lives in conf.py; copies in hand-written pages would go stale. (The
    README is hand-written but for its generated settings table.)"""
    generated = {ROOT / path for path in generate.pages()} - {ROOT / generate.README}
    hand_written = {
        page: page.read_text().replace(readme_table(), "") if page == ROOT / "README.md" else page.read_text()
        for page in PAGES
        if page not in generated
    }
    copies = [
        f"{page.relative_to(ROOT)}: {PREFIX}{s.name}"
        for page, text in hand_written.items()
        for s in SETTINGS
        if len(s.help) > 40 and s.help in text
    ]
    assert copies == []


def test_quickstart_has_exactly_two_commands():
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", quickstart, re.S)
    lines = [
        line
        for block in blocks
        for line in block.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines == ["make demo", "make test"]


def slug(heading: str) -> str:
    """The anchor of a heading, as MkDocs (Python-Markdown's toc) and GitHub both make it here."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return {slug(m) for m in re.findall(r"^#{1,6} (.+?)\s*$", text, re.M)}


def links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        for target in links(page):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):
                continue  # https:, mailto:
            file_part, _, anchor = target.partition("#")
            resolved = (page.parent / file_part).resolve() if file_part else page
            if not resolved.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_links_are_checked():
    """The link check finds links, and would notice a missing file or heading."""
    readme_links = links(ROOT / "README.md")
    assert "docs/getting-started.md" in readme_links
    assert "votes-and-comments" in anchors(ROOT / "docs" / "site.md")
    assert "no-such-heading" not in anchors(ROOT / "docs" / "site.md")


AREAS = ["catalog", "search", "community", "library", "digest", "web"]


def imported_areas(area: str) -> set[str]:
    found = set()
    for path in (ROOT / "paperroute" / area).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "paperroute" and len(parts) > 1 and parts[1] in AREAS:
                    found.add(parts[1])
    return found - {area}


def test_areas_import_only_to_their_left():
    """docs/architecture.md says so: catalog ← search ← community ← library ← digest ← web."""
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    assert " ← ".join(AREAS) in architecture
    rightward = {
        area: sorted(imported_areas(area) - set(AREAS[: AREAS.index(area)]))
        for area in AREAS
        if imported_areas(area) - set(AREAS[: AREAS.index(area)])
    }
    assert rightward == {}
    assert imported_areas("web") == set(AREAS) - {"web"}


@pytest.mark.slow
def test_the_site_builds_without_a_warning(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "settings" / "index.html").exists()
    assert (tmp_path / "site" / "reference" / "cli" / "index.html").exists()
