"""The DuckDB warehouse: raw tables, reference data, views and audits.

Raw tables (``raw_*``) hold what was received; reference tables (``ref_*``)
and configuration (``cfg_*``) are rewritten from the catalogue and settings on
every run; business views (plain nouns) are the analysts' contract and are
defined one per file in ``warehouse/views``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from .. import database
from ..catalogue import Catalogue
from ..config import Settings, views_dir
from .inbox import now_jst

DDL = """
create table if not exists raw_runs (
    run_id integer primary key, started_at timestamp, finished_at timestamp,
    files_seen integer, accepted integer, rejected integer, duplicate integer, kpis_updated integer);
create table if not exists raw_submissions (
    submission_id bigint primary key, run_id integer, department varchar, file_name varchar,
    sha256 varchar not null, size_bytes bigint, received_at timestamp, ingested_at timestamp,
    status varchar not null, error_count integer, warning_count integer, archive_path varchar,
    declared_department varchar, declared_fiscal_year integer, sheet varchar, duplicate_of bigint);
create table if not exists raw_observations (
    submission_id bigint not null, kpi_id varchar not null, fiscal_year integer not null, as_of date not null,
    actual_value double not null, raw_value varchar, note varchar, source_sheet varchar, source_cell varchar,
    provisional varchar);
create table if not exists raw_outcomes (
    submission_id bigint not null, initiative_id varchar not null, fiscal_year integer not null, as_of date not null,
    activities varchar, outcome_text varchar, figure_value double, figure_unit varchar, raw_value varchar,
    source_sheet varchar, source_cell varchar, row_order integer);
create table if not exists raw_explanations (
    submission_id bigint not null, kpi_id varchar not null, fiscal_year integer not null, as_of date not null,
    factor_analysis varchar, future_direction varchar, source_sheet varchar, source_cell varchar, row_order integer);
create table if not exists raw_component_counts (
    submission_id bigint not null, local_government varchar not null, kpi_id varchar not null,
    component_id varchar not null, fiscal_year integer not null, as_of date not null, count double not null,
    raw_value varchar, note varchar, source_sheet varchar, source_cell varchar, provisional varchar);
create table if not exists raw_validation_issues (
    submission_id bigint not null, sheet varchar, cell varchar, kpi_id varchar,
    severity varchar not null, code varchar not null, message varchar, fix varchar);
create table if not exists raw_confirmations (
    confirmation_id integer primary key, department varchar not null, fiscal_year integer not null,
    confirmed_at timestamp not null, confirmed_by varchar, note varchar, missing_kpi_ids varchar[],
    provisional_kpi_ids varchar[]);
create table if not exists raw_confirmed_versions (
    confirmation_id integer not null, kind varchar not null, submission_id bigint, item_id varchar,
    fiscal_year integer, as_of date);
create table if not exists raw_reopenings (
    confirmation_id integer not null, reopened_at timestamp not null, reopened_by varchar, reason varchar);
create table if not exists raw_audit_log (
    event_id integer primary key, occurred_at timestamp not null, action varchar not null, actor varchar,
    department varchar, fiscal_year integer, run_id integer, confirmation_id integer, detail varchar,
    catalogue_fingerprint varchar);
create table if not exists raw_mail (
    mail_id varchar primary key, kind varchar not null, submission_id bigint, run_id integer, unit varchar,
    unit_kind varchar, fiscal_year integer, subject varchar, message_id varchar, recipients varchar[],
    status varchar not null, attempts integer not null, error varchar, queued_at timestamp,
    last_attempt_at timestamp, sent_at timestamp, send_on date, message blob);
create index if not exists raw_submissions_sha256 on raw_submissions (sha256);
"""

def _orphans(table: str, noun: str) -> dict[str, str]:
    """The audits every table of received rows shares: each row from an accepted submission, of a known KPI."""
    return {
        f"{noun} without accepted submission": f"""
            select t.submission_id from {table} t
            left join raw_submissions s on s.submission_id = t.submission_id and s.status = 'accepted'
            where s.submission_id is null""",
        f"{noun} of unknown KPI": f"""
            select t.kpi_id from {table} t left join ref_kpis k using (kpi_id) where k.kpi_id is null""",
    }


# Audits: queries that must return no rows, run after every load: invariants the data could break. (That
# kpi_latest has a row for every KPI is its SQL's shape, ref_kpis left-joined, so tests/test_views.py holds it;
# as an audit it was 55 of the audits' 63 ms a run, planning the views beneath it.)
AUDITS = {
    "kpi without unit": "select kpi_id from ref_kpis where unit is null or unit = ''",
    **_orphans("raw_observations", "observation"),
    **_orphans("raw_explanations", "explanation"),
    **_orphans("raw_component_counts", "component count"),
    "more than one current version": """
        select kpi_id, fiscal_year, as_of from observation_history where valid_to is null
        group by all having count(*) > 1""",
    "rejected submission without an error": """
        select s.submission_id from raw_submissions s where s.status = 'rejected' and s.error_count = 0""",
    "accepted submission with an error": """
        select s.submission_id from raw_submissions s where s.status = 'accepted' and s.error_count > 0""",
    "reopening of no confirmation": """
        select r.confirmation_id from raw_reopenings r left join raw_confirmations c using (confirmation_id)
        where c.confirmation_id is null""",
}


class AuditError(Exception):
    """An audit query returned rows: the warehouse contradicts one of its invariants."""


# Columns added after a warehouse may have been created: (table, column, type).
ADDED_COLUMNS = [("raw_observations", "provisional", "varchar"),
                 # the local government (6-digit code) whose survey sheet this is; NULL for a department's return
                 ("raw_submissions", "local_government", "varchar"),
                 # the local governments without an accepted survey sheet when a year was confirmed --allow-missing
                 ("raw_confirmations", "missing_local_governments", "varchar[]"),
                 # the computed KPIs whose local governments' counts a confirmation confirms (its department owned them
                 # that year and their rule was in force): the counts it holds, whether or not any were reported
                 ("raw_confirmations", "computed_kpi_ids", "varchar[]"),
                 # a confirmed count (kind 'component'): item_id is the KPI, component_id its component
                 ("raw_confirmed_versions", "component_id", "varchar")]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables if they do not exist yet, and add columns an older warehouse lacks."""
    con.execute(DDL)
    for table, column, kind in ADDED_COLUMNS:
        con.execute(f'alter table "{table}" add column if not exists "{column}" {kind}')


def load_reference(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, settings: Settings) -> None:
    """Rewrite the reference and configuration tables from the catalogue and settings."""
    con.execute("""
        create or replace table ref_areas (area_id varchar primary key, area_group varchar, name varchar,
            sort_order integer, new_value varchar);
        create or replace table ref_initiatives (initiative_id varchar primary key, area_id varchar, section varchar,
            name varchar, activities varchar, owner varchar, note varchar);
        create or replace table ref_kpis (kpi_id varchar primary key, area_id varchar, initiative_id varchar,
            name varchar, unit varchar, direction varchar, baseline_value double, baseline_decimals integer,
            baseline_fy integer, target_value double, target_decimals integer, target_fy integer,
            owner varchar, note varchar, introduced_fy integer, retired_fy integer);
        create or replace table ref_kpi_definitions (kpi_id varchar, valid_from_fy integer, valid_to_fy integer,
            name varchar, owner varchar, direction varchar, baseline_value double, baseline_decimals integer,
            baseline_fy integer, target_value double, target_decimals integer, target_fy integer,
            revision_id varchar, reason varchar, source varchar, version integer);
        create or replace table ref_revisions (revision_id varchar, item_id varchar, field varchar, new_value varchar,
            effective_fy integer, decided_on date, reason varchar, source varchar, row_order integer);
        create or replace table ref_departments (department varchar, valid_from_fy integer, valid_to_fy integer,
            successor varchar);
        create or replace table ref_local_governments (code varchar primary key, name varchar, reading varchar,
            kind varchar, region varchar, valid_from_fy integer, valid_to_fy integer, row_order integer);
        create or replace table ref_local_government_groups (group_name varchar, code varchar, valid_from_fy integer,
            valid_to_fy integer, row_order integer);
        create or replace table ref_computed_kpis (kpi_id varchar, rule varchar, factor double, reporters varchar,
            valid_from_fy integer, valid_to_fy integer, row_order integer);
        create or replace table ref_kpi_components (kpi_id varchar, component_id varchar, component_name varchar,
            role varchar, unit varchar, valid_from_fy integer, valid_to_fy integer, row_order integer);
        create or replace table ref_seed_outcomes (initiative_id varchar, fiscal_year integer, label varchar,
            outcome_text varchar, figure_value double, figure_unit varchar, as_of date, note varchar,
            row_order integer);
        create or replace table cfg_grade_bands (grade varchar, min_pace double, label varchar);
        create or replace table cfg_settings (grade_floor varchar, floor_label varchar, due_month integer,
            due_day integer, owners_illustrative boolean, outlook_on_track double, outlook_accelerate double);
    """)
    _insert_rows(con, "ref_areas", [(a.area_id, a.area_group, a.name, a.sort_order, a.new_value)
                                    for a in catalogue.areas])
    _insert_rows(con, "ref_initiatives", [(i.initiative_id, i.area_id, i.section, i.name, i.activities, i.owner,
                                           i.note) for i in catalogue.initiatives])
    _insert_rows(con, "ref_kpis", [(k.kpi_id, k.area_id, k.initiative_id, k.name, k.unit, k.direction,
                                    k.baseline_value, k.baseline_decimals, k.baseline_fy, k.target_value,
                                    k.target_decimals, k.target_fy, k.owner, k.note, k.introduced_fy, k.retired_fy)
                                   for k in catalogue.kpis])
    _insert_rows(con, "ref_kpi_definitions", [
        (k.kpi_id, v.valid_from_fy, v.valid_to_fy, v.item.name, v.item.owner, v.item.direction, v.item.baseline_value,
         v.item.baseline_decimals, v.item.baseline_fy, v.item.target_value, v.item.target_decimals, v.item.target_fy,
         "、".join(r.revision_id for r in v.opened_by) or None, "、".join(r.reason for r in v.opened_by) or None,
         "、".join(dict.fromkeys(r.source for r in v.opened_by)) or None, n)
        for k in catalogue.kpis for n, v in enumerate(catalogue.versions_by_id[k.kpi_id], start=1)])
    _insert_rows(con, "ref_revisions", [(r.revision_id, r.item_id, r.field, r.new_value, r.effective_fy, r.decided_on,
                                         r.reason, r.source, n) for n, r in enumerate(catalogue.revisions, start=1)])
    _insert_rows(con, "ref_departments", [(d.name, d.valid_from_fy, d.valid_to_fy, d.successor)
                                          for d in catalogue.organisation])
    _insert_rows(con, "ref_local_governments", [(g.code, g.name, g.reading, g.kind, g.region, g.valid_from_fy,
                                                  g.valid_to_fy, n)
                                                 for n, g in enumerate(catalogue.local_governments, start=1)])
    _insert_rows(con, "ref_local_government_groups", [(m.group, m.code, m.valid_from_fy, m.valid_to_fy, n)
                                                       for n, m in enumerate(catalogue.group_memberships, start=1)])
    _insert_rows(con, "ref_computed_kpis", [(r.kpi_id, r.rule, r.factor, r.reporters, r.valid_from_fy, r.valid_to_fy, n)
                                            for n, r in enumerate(catalogue.computed_rules, start=1)])
    _insert_rows(con, "ref_kpi_components", [(c.kpi_id, c.component_id, c.component_name, c.role, c.unit,
                                              c.valid_from_fy, c.valid_to_fy, n)
                                             for n, c in enumerate(catalogue.kpi_components, start=1)])
    _insert_rows(con, "ref_seed_outcomes", [(o.initiative_id, o.fiscal_year, o.label, o.outcome_text, o.figure_value,
                                             o.figure_unit, o.as_of, o.note, n)
                                            for n, o in enumerate(catalogue.seed_outcomes)])
    _insert_rows(con, "cfg_grade_bands", [(b.name, b.min_pace, b.label) for b in settings.grade_bands])
    con.execute("insert into cfg_settings values (?, ?, ?, ?, ?, ?, ?)",
                [settings.grade_floor, settings.floor_label, settings.due_month, settings.due_day,
                 catalogue.owners_illustrative, settings.outlook_on_track, settings.outlook_accelerate])


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    # One statement with many VALUES rows: DuckDB's executemany costs a round trip per row.
    if rows:
        marks = "(" + ", ".join("?" * len(rows[0])) + ")"
        con.execute(f'insert into "{table}" values ' + ", ".join([marks] * len(rows)),
                    [value for row in rows for value in row])


def apply_views(con: duckdb.DuckDBPyConnection, folder: Path | None = None) -> None:
    """Create or replace every view, one file per view, in file-name order."""
    folder = views_dir() if folder is None else folder
    con.execute("\n".join(path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.sql"))))


def run_audits(con: duckdb.DuckDBPyConnection) -> None:
    """Raise AuditError naming every audit that returned rows (all audits in one query)."""
    union = " union all ".join(f"select {n} as audit, (select count(*) from ({sql})) as found"
                               for n, sql in enumerate(AUDITS.values()))
    names = list(AUDITS)
    failed = [names[n] for n, found in con.execute(union).fetchall() if found]
    if failed:
        raise AuditError("warehouse audit failed: " + "; ".join(failed))


def fingerprint(catalogue: Catalogue, settings: Settings, folder: Path | None = None) -> str:
    """A digest of everything the reference tables and views are built from."""
    import hashlib

    digest = hashlib.sha256(repr((catalogue, settings.grade_bands, settings.grade_floor, settings.floor_label,
                                  settings.due_month, settings.due_day, settings.outlook_on_track,
                                  settings.outlook_accelerate)).encode())
    for path in sorted((views_dir() if folder is None else folder).glob("*.sql")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def refresh(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, settings: Settings,
            current: str | None = None) -> bool:
    """Rewrite reference data and views, unless the warehouse already has exactly these (``current``, their
    fingerprint, when the caller has it); return whether they changed."""
    current = current or fingerprint(catalogue, settings)
    con.execute("create table if not exists cfg_fingerprint (fingerprint varchar)")
    if con.execute("select count(*) from cfg_fingerprint where fingerprint = ?", [current]).fetchone()[0]:
        return False
    load_reference(con, catalogue, settings)
    apply_views(con)
    con.execute("delete from cfg_fingerprint")
    con.execute("insert into cfg_fingerprint values (?)", [current])
    return True


def audit(con: duckdb.DuckDBPyConnection, action: str, **fields) -> int:
    """Append one event to the audit log (never updated, never deleted); return its id."""
    event_id = con.execute("select coalesce(max(event_id), 0) + 1 from raw_audit_log").fetchone()[0]
    row = {"event_id": event_id, "occurred_at": now_jst(), "action": action, **fields}
    names = ", ".join(row)
    con.execute(f"insert into raw_audit_log ({names}) values ({', '.join('?' * len(row))})", list(row.values()))
    return event_id


def copy_blank(path: Path, catalogue: Catalogue, settings: Settings, current: str) -> None:
    """Make ``path`` a new warehouse with no data: the schema, reference data and views for this catalogue
    and these settings. Building the views takes most of a second; a blank is built once per version of
    all that (keyed by the fingerprint, the DDL and DuckDB's version) under the system's temp folder and
    copied after, so a machine that starts many warehouses, like the test suite, builds the views once."""
    import hashlib
    import os
    import shutil
    import tempfile

    key = hashlib.sha256("\0".join((current, DDL, repr(ADDED_COLUMNS),
                                     database.STORAGE_COMPATIBILITY, duckdb.__version__)).encode()).hexdigest()
    blank = Path(tempfile.gettempdir()) / "shinchoku-blank-warehouses" / f"{key}.duckdb"
    if not blank.exists():
        blank.parent.mkdir(parents=True, exist_ok=True)
        building = blank.with_name(f".{key}.{os.getpid()}.tmp")
        con = database.connect(building, read_only=False)
        try:
            ensure_schema(con)
            refresh(con, catalogue, settings, current)
            con.execute("checkpoint")
        finally:
            con.close()
        building.with_name(building.name + ".wal").unlink(missing_ok=True)
        os.replace(building, blank)  # whole or not at all, whichever process finishes first
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    shutil.copyfile(blank, path)


def build(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, settings: Settings) -> None:
    """Bring a connection's database to the current schema, reference data and views."""
    ensure_schema(con)
    refresh(con, catalogue, settings)
