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
    summary = result["summary"]
    assert {d.candidate.department: d.status for d in summary.decisions} == {"農林水産部": "accepted", "教育庁": "rejected"}
    assert query(settings.warehouse, "select kpi_id, fiscal_year, actual_value from kpi_progress") == [("IND-K02", 2023, 700.0)]
    assert (settings.inbox / "教育庁" / "rejected" / bad.name).exists()
