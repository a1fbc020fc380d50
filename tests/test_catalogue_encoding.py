"""The catalogue CSVs as Excel saves them: UTF-8, UTF-8 with a BOM ("CSV UTF-8") or CP932 (plain "CSV"),
decided per file; anything else is a catalogue problem naming the file, never a traceback."""

from __future__ import annotations

import csv
import io
import shutil

import pytest

from helpers import run_cli
from shinchoku.catalogue import REVISION_COLUMNS, load_catalogue
from shinchoku.config import ROOT

REVISION = ["R5-03", "GOV-K01", "target_value", "90.0", "2024", "2024-03-15", "国の目標引上げに合わせる",
            "令和5年度 第2回 DX推進本部会議 資料3"]


def project(tmp_path, encoding: str | None = None):
    """A project folder holding a copy of the catalogue, every CSV re-encoded in ``encoding`` if given."""
    folder = tmp_path / "dx-office"
    shutil.copytree(ROOT / "catalogue", folder / "catalogue")
    if encoding:
        for path in (folder / "catalogue").glob("*.csv"):
            path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))
    return folder


def with_revision(folder, row, encoding: str) -> None:
    """revisions.csv rewritten in ``encoding`` with one more row."""
    path = folder / "catalogue" / "revisions.csv"
    out = io.StringIO()
    out.write(path.read_text(encoding="utf-8"))
    csv.writer(out, lineterminator="\r\n").writerow(row)
    path.write_bytes(out.getvalue().encode(encoding))


@pytest.mark.parametrize("encoding, said", [("cp932", "CP932(Shift_JIS)"), ("utf-8-sig", "UTF-8(BOM付き)")])
def test_a_catalogue_saved_by_excel_reads_the_same(tmp_path, encoding, said):
    folder = project(tmp_path, encoding)
    kpis = folder / "catalogue" / "kpis.csv"
    assert kpis.read_bytes() != (ROOT / "catalogue" / "kpis.csv").read_bytes()

    original, saved = load_catalogue(ROOT / "catalogue"), load_catalogue(folder / "catalogue")
    assert [(k.kpi_id, k.name, k.unit) for k in saved.kpis] == [(k.kpi_id, k.name, k.unit) for k in original.kpis]
    assert any("用紙" in k.name for k in saved.kpis)
    for part in ("areas", "initiatives", "kpis", "seed_outcomes", "organisation", "versions"):
        assert getattr(saved, part) == getattr(original, part), part
    files = sorted(p.name for p in (ROOT / "catalogue").glob("*.csv"))
    assert dict(original.encodings) == dict.fromkeys(files, "utf-8")
    # revisions.csv (only its header) and computed_kpis.csv are ASCII, the same bytes in every encoding but the BOM's
    assert dict(saved.encodings) == {**dict.fromkeys(files, encoding),
                                     **(dict.fromkeys(("revisions.csv", "computed_kpis.csv"), "utf-8")
                                        if encoding == "cp932" else {})}
    for part in ("computed_rules", "kpi_components"):
        assert getattr(saved, part) == getattr(original, part), part

    for _ in range(2):  # the second time the marker says the catalogue is sound: still said
        result = run_cli("catalogue", "check", "--project", str(folder))
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"kpis.csv: {said}として読み取りました" in result.stdout.splitlines()
        assert "問題はありません(指標 11、" in result.stdout


def test_plain_utf8_says_nothing_of_its_encoding(tmp_path):
    result = run_cli("catalogue", "check", "--project", str(project(tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "読み取りました" not in result.stdout and len(result.stdout.splitlines()) == 1


@pytest.mark.parametrize("file, content", [
    ("revisions.csv", bytes(range(256)) * 4),  # binary: invalid in UTF-8 and in CP932
    ("kpis.csv", (ROOT / "catalogue" / "kpis.csv").read_text(encoding="utf-8").encode("utf-16")),
    ("revisions.csv", ",".join(REVISION_COLUMNS).encode("utf-16")),  # ASCII in UTF-16: CP932 would take its bytes
])
def test_a_file_in_another_encoding_is_a_catalogue_problem_naming_it(tmp_path, file, content):
    folder = project(tmp_path)
    (folder / "catalogue" / file).write_bytes(content)
    if file == "revisions.csv" and content.startswith(b"\xff\xfe"):
        content.decode("cp932")  # so only its NULs tell it apart
    message = f"catalogue/{file}: 文字コードを判別できません(UTF-8 または Shift_JIS(CP932)で保存してください)"

    check = run_cli("catalogue", "check", "--project", str(folder))
    assert check.returncode == 2  # not an entry to fix: the file is no text the catalogue can be read from
    assert message in check.stdout.splitlines() and "1 件の問題があります" in check.stdout
    # every other command refuses it too, before anything starts
    run = run_cli("run", "--project", str(folder), "--warehouse", str(tmp_path / "w" / "shinchoku.duckdb"))
    assert run.returncode == 2 and f"shinchoku: {message}" in run.stderr
    for result in (check, run):
        assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "w").exists()


def test_a_cp932_revision_is_read_with_its_japanese(tmp_path):
    folder = project(tmp_path)
    with_revision(folder, REVISION, "cp932")
    catalogue = load_catalogue(folder / "catalogue")  # what `shinchoku run` loads before it starts
    [revision] = catalogue.revisions
    assert (revision.reason, revision.source) == (REVISION[6], REVISION[7])
    assert dict(catalogue.encodings)["revisions.csv"] == "cp932"
    assert [v.item.target_value for v in catalogue.versions_by_id["GOV-K01"]] == [80.0, 90.0]


def test_run_refuses_a_bad_cp932_revision_in_japanese_without_a_traceback(tmp_path):
    folder = project(tmp_path)
    with_revision(folder, [*REVISION[:2], "色", *REVISION[3:]], "cp932")
    result = run_cli("run", "--project", str(folder), "--warehouse", str(tmp_path / "w" / "shinchoku.duckdb"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "revisions.csv 行2 列 field" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "w").exists()
