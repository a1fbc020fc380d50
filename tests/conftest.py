"""Shared fixtures: the catalogue, settings in tmp_path, and a factory for return-sheet workbooks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook

from shinchoku.catalogue import load_catalogue
from shinchoku.config import ROOT
from shinchoku.settings import load_settings
from shinchoku.workbook.layout import HEADER, PROP_DEPARTMENT, PROP_FISCAL_YEAR
from shinchoku.documents.template import write_template


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="session", autouse=True)
def _not_the_developers_warehouse(tmp_path_factory):
    """After `shinchoku demo` in the source tree (the README's first command), its warehouse (with confirmed years)
    exists there; commands a test runs without --warehouse (check holds the project warehouse's confirmed years)
    must not see it, nor write it. Session-wide, so that module fixtures, set up before any test's, see it too."""
    if (ROOT / "warehouse" / "shinchoku.duckdb").exists() and "SHINCHOKU_WAREHOUSE" not in os.environ:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SHINCHOKU_WAREHOUSE", str(tmp_path_factory.getbasetemp() / "no-warehouse" / "shinchoku.duckdb"))
            yield
    else:
        yield


@pytest.fixture
def settings(tmp_path):
    """Settings pointing at an empty inbox and warehouse under tmp_path, no settle time, and no site
    rebuilt after each run (the site's tests turn it on: ``dataclasses.replace(settings, site_build=True)``)."""
    return load_settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "warehouse" / "shinchoku.duckdb",
                         settle_seconds=0, site_build=False, config_file=tmp_path / "none.toml", env={})


@pytest.fixture(scope="session")
def _templates(catalogue, tmp_path_factory):
    """The official templates written so far in this worker, one per (department, year): a copy is all a test needs."""
    folder, written = tmp_path_factory.mktemp("official-templates"), {}

    def official(department: str, year: int) -> Path:
        if (department, year) not in written:
            written[department, year] = write_template(catalogue, department, year,
                                                       folder / f"{department}_{year}.xlsx")
        return written[department, year]

    return official


@pytest.fixture
def template(_templates, tmp_path):
    """The official template for (department, year), as `shinchoku template` writes it, in a file of the test's own."""

    def make(department: str, year: int, path: Path | None = None) -> Path:
        path = path or tmp_path / "templates" / f"{department}_{year}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_templates(department, year), path)
        return path

    return make


@pytest.fixture
def workbook(tmp_path):
    """Write a department's own return sheet from plain rows, the way a person might lay it out.

    rows are (指標ID, 指標名, 単位, 年度, 実績値, 時点, 備考) tuples; ``top``/``left`` shift the
    table, ``extra`` adds columns, ``formats`` maps (row index, column label) to a number format.
    """

    def make(path: Path, rows, *, department=None, year=None, sheet="実績報告", top=0, left=0,
             header=HEADER, extra=(), formats=None, title=None) -> Path:
        wb = Workbook()
        ws = wb.active
        ws.title = sheet
        if title:
            ws.cell(row=1, column=1, value=title)
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=5)
        labels = list(header) + [e for e in extra]
        for col, label in enumerate(labels, start=1 + left):
            ws.cell(row=1 + top, column=col, value=label)
        for r, row in enumerate(rows, start=2 + top):
            for c, value in enumerate(row, start=1 + left):
                ws.cell(row=r, column=c, value=value)
        for (r, label), fmt in (formats or {}).items():
            ws.cell(row=2 + top + r, column=1 + left + list(header).index(label)).number_format = fmt
        if department:
            from openpyxl.packaging.custom import IntProperty, StringProperty

            wb.custom_doc_props.append(StringProperty(name=PROP_DEPARTMENT, value=department))
            if year:
                wb.custom_doc_props.append(IntProperty(name=PROP_FISCAL_YEAR, value=year))
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
        return path

    return make


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker a core. The suite computes nearly all the time (both cores were 98-99% busy with three
    workers), so a third worker on two cores only shares them: measured back to back on the 2-core machines, 2 workers
    took 134 and 138 s (184-188 s of user CPU), 3 workers 146 and 149 s (202-210 s). (When the suite waited more on
    subprocesses and the Prefect server, 3 had been faster: 98 s against 120 s.)"""
    return os.cpu_count() or 1
