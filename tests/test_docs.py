"""The README and the pages under docs/: generated tables current, links whole, examples that run."""

from __future__ import annotations

import importlib.util
import re

import duckdb
import pytest

from shinchoku.config import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _gen():
    spec = importlib.util.spec_from_file_location("docs_gen", ROOT / "docs" / "gen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _prose(text: str) -> list[str]:
    """The page's lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.replace("`", "").strip().lower()).replace(" ", "-")


def _anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for line in _prose(text):
        if m := re.match(r"^#{1,6} (.+)$", line):
            slug = _slug(m.group(1))
            anchors.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
            seen[slug] = seen.get(slug, 0) + 1
    return anchors


def test_generated_tables_are_current(capsys):
    """Issue codes, views and columns, and commands in the pages are what docs/gen.py makes of the code now."""
    status = _gen().run_cog(check=True)
    assert status == 0, "a generated table is out of date: run `uv run python docs/gen.py`\n" + capsys.readouterr().out


def test_the_check_fails_when_the_code_changes(monkeypatch, capsys):
    """A message changed in the code and not in docs/departments.md fails the check above."""
    from shinchoku.workbook import messages

    code = messages.CODES["empty_file"]
    monkeypatch.setitem(messages.CODES, "empty_file", messages.Code(code.severity, "ファイルが空です(変更)。", code.fix))
    assert _gen().run_cog(check=True) != 0
    assert "ファイルが空です(変更)。" in capsys.readouterr().out  # the diff names the drift


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_and_anchor_resolves(page):
    text = page.read_text(encoding="utf-8")
    broken = []
    for line in _prose(text):
        for target in re.findall(r"\]\(([^)\s]+)\)", re.sub(r"`[^`]*`", "", line)):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(target)
            elif anchor and anchor not in _anchors(file.read_text(encoding="utf-8")):
                broken.append(target)
    assert broken == []


def test_the_readme_is_a_front_page():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) < 250
    assert all((ROOT / "docs" / f"{page}.md").exists() for page in ("departments", "operators", "analysts", "developers"))


def test_the_departments_page_is_japanese():
    """No English sentence in the page departments read: at most three Latin words in a row (Strict Open XML)."""
    english = []
    for line in _prose((ROOT / "docs" / "departments.md").read_text(encoding="utf-8")):
        line = re.sub(r"`[^`]*`|\]\([^)]*\)|<!--.*?-->", " ", line)
        english += re.findall(r"[A-Za-z]+(?:[ ,'-]+[A-Za-z]+){3,}", line)
    assert english == []


def test_the_analysts_example_queries_run(tmp_path):
    """Every query on docs/analysts.md binds against a blank warehouse: its views and columns exist."""
    from shinchoku.run import warehouse as wh
    from shinchoku.catalogue import load_catalogue
    from shinchoku.settings import load_settings

    text = (ROOT / "docs" / "analysts.md").read_text(encoding="utf-8")
    queries = re.findall(r'-readonly warehouse/shinchoku\.duckdb \\\n\s+"([^"]+)"', text)
    assert len(queries) >= 5
    settings = load_settings(env={}, config_file=tmp_path / "none.toml")
    catalogue = load_catalogue(ROOT / "catalogue")
    path = tmp_path / "blank.duckdb"
    wh.copy_blank(path, catalogue, settings, wh.fingerprint(catalogue, settings))
    con = duckdb.connect(str(path), read_only=True)
    for query in queries:
        con.execute(query).fetchall()


def _inline_comments(text: str) -> list[str]:
    """The lines of a page's ```ini blocks (systemd units) that put a comment after a value: systemd takes ``#`` and
    ``;`` as comments only at the start of a line, so such a comment becomes part of the value."""
    found, block = [], None
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            block = line.strip()[3:] if block is None else None
        elif block == "ini" and "=" in line and not line.lstrip().startswith(("#", ";")):
            if re.search(r"\s[#;]", line.split("=", 1)[1]):
                found.append(line)
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_systemd_example_puts_a_comment_after_a_value(page):
    assert _inline_comments(page.read_text(encoding="utf-8")) == []


def test_the_comment_check_finds_a_comment_after_a_value():
    unit = "```ini\n[Service]\n# a comment\nEnvironmentFile=-/etc/shinchoku/mail.env     # SHINCHOKU_MAIL_PASSWORD\n```\n"
    assert _inline_comments(unit) == ["EnvironmentFile=-/etc/shinchoku/mail.env     # SHINCHOKU_MAIL_PASSWORD"]
    assert _inline_comments(unit.replace("```ini", "```toml")) == []
