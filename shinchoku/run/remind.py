"""``shinchoku remind``: a reminder to each department and local government that ``shinchoku status --overdue`` lists,
on the configured days before and after a fiscal year's due date, at most once a day each.

Who is behind is the morning list's one question (:func:`shinchoku.documents.summary.overdue`), asked for the day
after the furthest due date the reminder days reach, so that a due date still ahead counts as well; a unit is
reminded when one of its due dates falls a configured number of days before or after today, of every year it still
owes, in one mail. A reminder is queued in the warehouse under its unit and day (``reminder:<unit>:<date>``) and sent
as the run's mail is (:mod:`shinchoku.run.mail`): run twice a day, the second finds it queued and sends nothing new,
but sends again one that failed (or found no address) earlier that day; sent on its day or not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from .. import database
from ..catalogue import Catalogue
from ..config import Mail, Settings
from ..documents import mail as compose
from ..documents.summary import overdue
from .crash import crash_point
from .inbox import now_jst
from .mail import MailOutcome, queue, row, send_mail
from .publish import change_published, recover, run_lock


@dataclass(frozen=True)
class Reminder:
    """One unit to remind on a day: each fiscal year it owes (year, due date, missing KPIs), and the due date that
    falls on a reminder day (of the latest year, if several do)."""

    unit: str
    survey: bool  # a local government's survey sheet (調査票), not a department's return sheet
    owed: tuple[tuple[int, dt.date, tuple[str, ...]], ...]
    due: dt.date
    day: dt.date

    @property
    def mail_id(self) -> str:
        return f"reminder:{self.unit}:{self.day.isoformat()}"

    @property
    def fiscal_year(self) -> int:
        """The year whose due date brought the reminder today."""
        return max(year for year, due, _ in self.owed if due == self.due)

    @property
    def subject(self) -> str:
        return compose.reminder_subject(self.unit, self.survey, self.owed, self.due, self.day)


@dataclass
class Reminded:
    """What ``remind`` did: the reminders due today not queued before; those queued earlier today, each with its
    status then (sent: not sent again; failed, pending or no_address: sent again now; unknown: never again); and the
    sending."""

    due: list[Reminder]
    earlier: list[tuple[Reminder, str]] = field(default_factory=list)
    mail: MailOutcome | None = None  # None: a dry run


def due_on(con: duckdb.DuckDBPyConnection, mail: Mail, today: dt.date) -> list[Reminder]:
    """The reminders of a day: the units past (or nearing) a due date that falls one of the reminder days from it,
    each with every year it owes."""
    days = {today + dt.timedelta(days=d) for d in mail.remind_before_days} | \
        {today - dt.timedelta(days=d) for d in mail.remind_after_days}
    departments, governments, _ = overdue(con, today + dt.timedelta(days=max(mail.remind_before_days, default=0) + 1))
    owed: dict[tuple[str, bool], list] = {}
    for department, year, missing, due in departments:
        owed.setdefault((department, False), []).append((year, due, tuple(missing)))
    for r in governments:
        owed.setdefault((r.unit, True), []).append((r.fiscal_year, r.due_date, tuple(r.missing_kpi_ids)))
    reminders = []
    for (unit, survey), items in owed.items():
        today_s = [due for _, due, _ in items if due in days]
        if today_s:
            reminders.append(Reminder(unit, survey, tuple(sorted(items)), max(today_s), today))
    return reminders


def remind(settings: Settings, catalogue: Catalogue, today: dt.date | None = None, wait_seconds: float = 0,
           dry_run: bool = False) -> Reminded:
    """Queue and send today's reminders (``today``: JST's date unless given), under the run lock; a dry run only
    says which it would send."""
    today = today or now_jst().date()
    with run_lock(settings, wait_seconds):
        recover(settings)
        con = database.connect(settings.warehouse)
        try:
            due = due_on(con, settings.mail, today)
            queued = dict(con.execute(
                "select mail_id, status from raw_mail where list_contains(?, mail_id)", [[r.mail_id for r in due]]
            ).fetchall()) if con.execute(
                "select count(*) from duckdb_tables() where table_name = 'raw_mail'").fetchone()[0] else {}
        finally:
            con.close()
        done = Reminded([r for r in due if r.mail_id not in queued],
                        [(r, queued[r.mail_id]) for r in due if r.mail_id in queued])
        if dry_run:
            return done
        if done.due:
            rows = [row(r.mail_id, "reminder", r.unit, "団体" if r.survey else "部局", r.fiscal_year,
                        compose.reminder(r.unit, r.survey, list(r.owed), r.due, today, settings.mail), send_on=today)
                    for r in done.due]
            change_published(settings, lambda con: queue(con, rows), audits=False)
        crash_point("reminders_queued")
        done.mail = send_mail(settings, catalogue, kinds=("reminder",), today=today)
    return done
