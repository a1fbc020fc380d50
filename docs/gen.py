"""The reference tables in README.md and docs/*.md, generated from the code so they cannot drift.

The pages hold cog blocks (``<!-- [[[cog ... ]]] -->`` … ``<!-- [[[end]]] -->``) that call the
functions below. Regenerate after changing a command, an issue code or a view's comments:

    uv run python docs/gen.py            # rewrite the generated parts in place
    uv run python docs/gen.py --check    # exit non-zero if any page is out of date (the tests run this)

Sources: issue codes from ``shinchoku.workbook.messages.CODES``; commands from ``shinchoku.cli.build_parser()``;
views and columns from the comments a blank warehouse carries (``duckdb_views()``, ``duckdb_columns()``).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from functools import cache
from pathlib import Path

from shinchoku.documents.facts import CONTRACT_VIEWS

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]

SEVERITY_JA = {"error": "エラー(差戻し)", "warning": "警告"}

# The analysts' stable contract (names and listed columns keep their meaning; new columns are appended): the one
# list in the code, which `shinchoku export` offers too. Every other view serves the report, the site or the DX
# office's checks and may change with them.
CONTRACT = tuple(CONTRACT_VIEWS)


def _cell(text: str | None) -> str:
    """Text made safe for one markdown table cell."""
    return (text or "").replace("\n", " ").replace("|", "\\|").strip()


def _template(text: str) -> str:
    """A message template as a department reads it in general: each placeholder is an ellipsis."""
    return re.sub(r"{[a-z_]+}", "…", text)


def issue_codes() -> str:
    """Every issue code, errors first, in the catalogue's order: コード, 区分, 内容, 直し方."""
    from shinchoku.workbook.messages import CODES

    lines = ["| コード | 区分 | 内容(部局に表示される文) | 直し方 |", "| --- | --- | --- | --- |"]
    for severity in SEVERITY_JA:
        for code, c in CODES.items():
            if c.severity == severity:
                lines.append(f"| `{code}` | {SEVERITY_JA[severity]} | {_cell(_template(c.message))} | "
                             f"{_cell(_template(c.fix))} |")
    return "\n".join(lines) + "\n"


def _subcommands() -> list[tuple[str, str, argparse.ArgumentParser]]:
    from shinchoku.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return [(a.dest, a.help, sub.choices[a.dest]) for a in sub._choices_actions]


def _common_options() -> dict[str, str]:
    """Options every command takes, with the help they share: left out of each synopsis."""
    from shinchoku import cli

    common = argparse.ArgumentParser(add_help=False)
    cli._paths(common)
    return {a.option_strings[0]: a.help for a in common._actions}


def _own_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    common = _common_options()
    return [a for a in parser._actions
            if not isinstance(a, argparse._HelpAction) and "--project" not in a.option_strings
            and not (a.option_strings and common.get(a.option_strings[0]) == a.help)]


def _synopsis(name: str, parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(f"shinchoku {name}", width=10_000)
    formatter.add_usage(None, _own_actions(parser), parser._mutually_exclusive_groups, prefix="")
    return " ".join(formatter.format_help().split())


def commands() -> str:
    """The short table of commands: each one's synopsis and its one-line help."""
    lines = ["| command | what it does (its `--help`) |", "| --- | --- |"]
    for name, text, parser in _subcommands():
        lines.append(f"| `{_cell(_synopsis(name, parser))}` | {_cell(text)} |")
    return "\n".join(lines) + "\n"


def command_reference() -> str:
    """Every command with its synopsis and every option's help, as `--help` prints them."""
    out = []
    for name, text, parser in _subcommands():
        out += [f"#### `shinchoku {name}`", "", _cell(text), "", "```", _synopsis(name, parser), "```", ""]
        actions = _own_actions(parser)
        if actions:
            out += ["| argument | 説明 |", "| --- | --- |"]
            for a in actions:
                label = ", ".join(a.option_strings) if a.option_strings else (a.metavar or a.dest)
                if a.choices and not a.option_strings and a.dest != "view":
                    label += " (" + " / ".join(a.choices) + ")"
                out.append(f"| `{_cell(label)}` | {_cell(a.help)} |")
            out.append("")
    return "\n".join(out)


@cache
def _views() -> tuple[dict[str, str], dict[str, list[tuple[str, str, str]]]]:
    """View comments and (column, type, comment) lists, read from a blank warehouse built as a run builds it."""
    import duckdb

    from shinchoku.run import warehouse as wh
    from shinchoku.catalogue import load_catalogue
    from shinchoku.settings import load_settings

    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(env={}, config_file=Path(folder) / "defaults.toml")  # defaults only
        catalogue = load_catalogue(ROOT / "catalogue")
        path = Path(folder) / "blank.duckdb"
        wh.copy_blank(path, catalogue, settings, wh.fingerprint(catalogue, settings))
        con = duckdb.connect(str(path), read_only=True)
        try:
            views = dict(con.execute("select view_name, comment from duckdb_views() where not internal").fetchall())
            columns: dict[str, list[tuple[str, str, str]]] = {v: [] for v in views}
            for view, column, kind, comment in con.execute(
                    "select table_name, column_name, data_type, comment from duckdb_columns() "
                    "where table_name in (select view_name from duckdb_views() where not internal) "
                    "order by table_name, column_index").fetchall():
                columns[view].append((column, kind, comment))
        finally:
            con.close()
    missing = [v for v in CONTRACT if v not in views]
    if missing:
        raise SystemExit(f"docs/gen.py: CONTRACT names views that do not exist: {', '.join(missing)}")
    return views, columns


def _view_section(name: str) -> str:
    views, columns = _views()
    lines = [f"#### `{name}`", "", _cell(views[name]), "", "| column | type | 説明 |", "| --- | --- | --- |"]
    lines += [f"| `{c}` | {_cell(kind)} | {_cell(comment)} |" for c, kind, comment in columns[name]]
    return "\n".join(lines) + "\n"


def views_index() -> str:
    """One line per view: its name, whether it is the contract, and its comment."""
    views, _ = _views()
    order = [*CONTRACT, *sorted(v for v in views if v not in CONTRACT)]
    lines = ["| view | contract | what it holds (its comment) |", "| --- | --- | --- |"]
    lines += [f"| [`{v}`](#{v}) | {'yes' if v in CONTRACT else 'no'} | {_cell(views[v])} |" for v in order]
    return "\n".join(lines) + "\n"


def contract_views() -> str:
    """Every contract view with every column."""
    return "\n".join(_view_section(v) for v in CONTRACT)


def other_views() -> str:
    """Every view outside the contract with every column."""
    views, _ = _views()
    return "\n".join(_view_section(v) for v in sorted(views) if v not in CONTRACT)


def run_cog(check: bool) -> int:
    """Regenerate the pages in place, or with ``check`` report (non-zero) when one is out of date."""
    from cogapp import Cog

    return Cog().main(["cog", "-I", str(DOCS), *(["--check", "--diff", "--check-fail-msg", "run: uv run python docs/gen.py"] if check else ["-r"]),
                       "--verbosity=1",
                       *(str(p) for p in PAGES if "[[[cog" in p.read_text(encoding="utf-8"))])


if __name__ == "__main__":
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    sys.exit(run_cog(check="--check" in sys.argv[1:]))
