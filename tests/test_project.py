"""Finding the project folder: --project, SHINCHOKU_PROJECT, the current folder and its parents, the source tree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import run_cli
from shinchoku.config import ROOT, ConfigError, find_project
from shinchoku.settings import load_settings


@pytest.fixture
def project(tmp_path) -> Path:
    """A project folder of its own: a copy of the catalogue, nothing else."""
    folder = tmp_path / "dx-office"
    shutil.copytree(ROOT / "catalogue", folder / "catalogue")
    return folder


def test_the_order_of_the_search(project, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "deep").mkdir(parents=True)
    # the current folder or any parent
    assert find_project(env={}, cwd=project / "inbox" / "企画調整部") == project
    # else the source tree the package runs from
    assert find_project(env={}, cwd=elsewhere / "deep") == ROOT
    # SHINCHOKU_PROJECT (and --project, which the CLI puts there) before the current folder
    assert find_project(env={"SHINCHOKU_PROJECT": str(project)}, cwd=ROOT) == project


def test_nothing_found_says_where_it_looked(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError) as caught:
        find_project(env={}, cwd=empty, source=tmp_path / "no-source")
    message = str(caught.value)
    assert str(empty) in message and str(tmp_path / "no-source") in message and "SHINCHOKU_PROJECT" in message
    with pytest.raises(ConfigError, match="catalogue/kpis.csv がありません"):
        find_project(env={"SHINCHOKU_PROJECT": str(empty)})


def test_paths_config_and_prefect_home_follow_the_project(project):
    from flows.server import prefect_environment

    (project / "shinchoku.toml").write_text("[run]\nsettle_seconds = 5\n", encoding="utf-8")
    settings = load_settings(env={"SHINCHOKU_PROJECT": str(project)})
    assert (settings.project, settings.inbox, settings.warehouse, settings.settle_seconds) == (
        project, project / "inbox", project / "warehouse" / "shinchoku.duckdb", 5.0)
    assert prefect_environment(project)["PREFECT_HOME"] == str(project / ".prefect")


def test_commands_run_from_any_folder_with_project(project, tmp_path, template):
    from shinchoku.documents.template import fill_template

    away = tmp_path / "home"
    away.mkdir()
    path = fill_template(template("総務部", 2022), {"GOV-K02": 30}, out=away / "paper.xlsx")
    result = run_cli("check", "--project", str(project), str(path), "--department", "総務部", cwd=away)
    assert result.returncode == 0, result.stderr
    result = run_cli("status", cwd=away, env={"SHINCHOKU_PROJECT": str(away)})
    assert result.returncode == 2 and "catalogue/kpis.csv がありません" in result.stderr
