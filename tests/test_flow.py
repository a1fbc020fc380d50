"""End to end through Prefect: the ingest flow under a temporary Prefect server."""

from __future__ import annotations

import shutil

import pytest

from conftest import query
from shinchoku.template import fill_template


@pytest.fixture(scope="session")
def prefect_server():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_ingest_flow_end_to_end(prefect_server, settings, template):
    from flows.ingest import ingest_flow

    good = fill_template(template("農林水産部", 2023), {"IND-K02": "7 0 0経営体"})
    bad = fill_template(template("教育庁", 2023), {"EDU-K01": "集計中"})
    for path, dept in ((good, "農林水産部"), (bad, "教育庁")):
        (settings.inbox / dept).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, settings.inbox / dept / path.name)

    result = ingest_flow(inbox=str(settings.inbox), warehouse=str(settings.warehouse), settle_seconds=0)
    summary = result.summary
    assert {d.candidate.department: d.status for d in summary.decisions} == {"農林水産部": "accepted", "教育庁": "rejected"}
    assert query(settings.warehouse, "select kpi_id, fiscal_year, actual_value from kpi_progress") == [("IND-K02", 2023, 700.0)]
    assert (settings.inbox / "教育庁" / "rejected" / bad.name).exists()


def test_each_run_publishes_a_markdown_artifact(prefect_server, settings, template):
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.ingest import ingest_flow

    path = fill_template(template("総務部", 2022), {"GOV-K02": 30})
    (settings.inbox / "総務部").mkdir(parents=True)
    shutil.copyfile(path, settings.inbox / "総務部" / "paper.xlsx")
    ingest_flow(inbox=str(settings.inbox), warehouse=str(settings.warehouse), settle_seconds=0)

    async def latest():
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["shinchoku-ingest-summary"])))
            return max(found, key=lambda a: a.created)

    artifact = asyncio.run(latest())
    assert artifact.type == "markdown"
    assert "| 総務部 | paper.xlsx | 受理 |" in artifact.data
    assert "GOV-K02 (2022)" in artifact.data


def test_the_flow_refuses_to_write_while_another_run_holds_the_lock(prefect_server, settings):
    from flows.ingest import ingest_flow
    from shinchoku.publish import run_lock

    settings.warehouse.parent.mkdir(parents=True)
    with run_lock(settings):
        result = ingest_flow(inbox=str(settings.inbox), warehouse=str(settings.warehouse), settle_seconds=0)
    assert result.locked and "実行中" in result.message
    assert not settings.warehouse.exists()


def test_the_nightly_deployment_schedule():
    from flows.ingest import build_deployment
    from shinchoku.config import load_settings

    deployment = build_deployment(load_settings(env={}, config_file="/none"))
    [schedule] = deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Asia/Tokyo")
    assert deployment.entrypoint == "flows.ingest.ingest_flow"
    custom = build_deployment(load_settings(env={"SHINCHOKU_SCHEDULE_CRON": "30 3 * * 1-5"}, config_file="/none"))
    assert custom.schedules[0].schedule.cron == "30 3 * * 1-5"


def test_the_flow_runs_the_one_sequence_of_steps_as_tasks(prefect_server, settings, template, monkeypatch):
    """The flow adds task boundaries, never steps: every task is a step of shinchoku.ingest.STEPS, run in order."""
    import duckdb
    import prefect

    import flows.ingest as flow_module
    from shinchoku.ingest import STEPS

    names = [s.name for s in STEPS]
    tasks = [v for v in vars(flow_module).values() if isinstance(v, prefect.Task)]
    assert tasks == [] and list(flow_module.TASKS) == names  # no task defined outside the steps
    assert {name: t.retries for name, t in flow_module.TASKS.items()} == {s.name: s.retries for s in STEPS}

    ran = []
    real = flow_module.as_task

    def recording(step, *args):
        # no open DuckDB connection travels between tasks, not even inside an argument
        inside = [a for arg in args for a in (arg, *getattr(arg, "__dict__", {}).values())]
        assert not any(isinstance(a, duckdb.DuckDBPyConnection) for a in inside), step.name
        ran.append(step.name)
        return real(step, *args)

    monkeypatch.setattr(flow_module, "as_task", recording)
    path = fill_template(template("総務部", 2022), {"GOV-K02": 30})
    (settings.inbox / "総務部").mkdir(parents=True)
    shutil.copyfile(path, settings.inbox / "総務部" / "paper.xlsx")
    result = flow_module.ingest_flow(inbox=str(settings.inbox), warehouse=str(settings.warehouse), settle_seconds=0)
    assert ran == names and result.summary.count("accepted") == 1
