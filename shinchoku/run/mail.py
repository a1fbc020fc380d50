"""Mail to whoever submitted, never twice: queued with the run, sent after publishing, recorded in the warehouse.

A run queues one mail per file it decided (its receipt, or its error list with the annotated copy) in ``raw_mail``,
status ``pending``, the message itself beside it, in the staged warehouse it publishes: a mail is owed if and only
if its run was published. The mail step (after the inbox is settled) sends what is pending or failed before, and
writes each mail's fate to a journal beside the warehouse (``<warehouse>.mail.jsonl``, each line flushed to disk)
just before handing it to the SMTP server and just after; then it records the fates in ``raw_mail`` and the audit log
(one more staged copy and rename) and removes the journal. So, whenever the process is killed:

- before publishing: nothing was queued; the next run decides the files again and queues their mail;
- after publishing, before sending: the next run's mail step finds the mail pending and sends it, once;
- while a mail is being handed over: its journal says ``sending`` and nothing after, so it may have reached the
  server: it is recorded ``unknown`` and never sent again (at most once; ``shinchoku status`` lists it);
- after sending, before recording: the journal holds the fates; the next mail step records them and sends nothing.

A mail the server refuses, or that finds no server, is recorded ``failed`` and retried by the next run (the flow's
task retries it first): it never fails or undoes the run. The recipients are the catalogue's addresses when the mail
is sent, so an address put right in the catalogue reaches a mail that failed before; a unit without one (or whose
cell holds nothing that is an address) gets ``no_address``, with why, and is tried again by each run as a failed
mail is. An SMTP error is recorded in Japanese, what it likely means and what to set, with its own words
(``explain``). A reminder is sent on its day or not at all (``expired``). With no SMTP host nothing is sent, nothing
is queued and nothing fails.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import NamedTuple

import duckdb

from .. import database
from ..catalogue import Catalogue
from ..config import Mail, Settings
from ..documents import mail as compose
from . import warehouse as wh
from .crash import crash_point
from .inbox import JST, now_jst
from .load import insert
from .publish import actor, change_published, fsync_path

# a mail's fate in the journal -> its status in raw_mail ("sending" with nothing after: it may have gone)
STATUS_OF = {"sent": "sent", "failed": "failed", "sending": "unknown", "no_address": "no_address", "expired": "expired"}


class MailNotSent(Exception):
    """Some mail could not be sent: recorded as failed and retried by the next run. The mail step raises it after
    recording, so that the flow's task retries; the run catches it and tells it."""

    def __init__(self, outcome: "MailOutcome"):
        super().__init__(outcome)  # its only argument, so that it pickles (a task's exception may be)
        self.outcome = outcome

    def __str__(self) -> str:
        return f"メール {len(self.outcome.failed)} 件を送信できませんでした: {short_why(self.outcome.failed[0].why)}"

    def __repr__(self) -> str:  # what Prefect's log says of a failed task: one Japanese line, not the outcome's fields
        return f"MailNotSent({str(self)!r})"


class CannotLogIn(Exception):
    """[mail] user is set, but no password came (SHINCHOKU_MAIL_PASSWORD, or the Prefect Secret block), or one that
    SMTP's login cannot carry."""


SMTP_ERRORS = (OSError, smtplib.SMTPException, CannotLogIn)  # what a connection or a send may raise


class NotSent(NamedTuple):
    """A mail that did not go, and why (Japanese, with the server's or the library's own words after 原文)."""

    subject: str
    why: str
    kind: str = "receipt"  # receipt | reminder: a reminder is sent on its day or never


@dataclass
class MailOutcome:
    """What a mail step did, each mail by its subject: for the run's summary, the flow's artifact and remind."""

    enabled: bool
    sent: list[str] = field(default_factory=list)
    failed: list[NotSent] = field(default_factory=list)  # retried by the next run (a reminder: that day only)
    unknown: list[str] = field(default_factory=list)  # found handed over when a process died: never sent again
    no_address: list[NotSent] = field(default_factory=list)  # tried again when the catalogue has an address
    expired: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outgoing:
    """A mail of the outbox (raw_mail, pending, failed or without an address), as it will be sent."""

    mail_id: str
    kind: str
    unit: str
    subject: str
    status: str
    error: str | None
    attempts: int
    send_on: dt.date | None
    message: bytes


def queue(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    """Put mail into the outbox (raw_mail, pending) of a staged warehouse, by column name: one statement for the rows
    of each shape (a run's receipts are one), not one a mail."""
    shapes: dict[tuple[str, ...], list[dict]] = {}
    for r in rows:
        shapes.setdefault(tuple(r), []).append(r)
    for same in shapes.values():
        insert(con, "raw_mail", same)


def row(mail_id: str, kind: str, unit: str, unit_kind: str, fiscal_year: int | None, message,
        **more) -> dict:
    """An outbox row for a composed message."""
    return {"mail_id": mail_id, "kind": kind, "unit": unit, "unit_kind": unit_kind, "fiscal_year": fiscal_year,
            "subject": str(message["Subject"]), "message_id": str(message["Message-ID"]), "status": "pending",
            "attempts": 0, "queued_at": now_jst(), "message": message.as_bytes(), **more}


def queue_receipts(path: Path, settings: Settings, catalogue: Catalogue, summary,
                   copies: dict[int, tuple[str, Path]]) -> int:
    """Queue the mail of every file a run decided from a folder (one at the inbox's root has no one to write to)
    into the staged warehouse at ``path``. ``copies``: each rejected file's annotated copy, as its name in rejected/
    and the staged file. Returns how many were queued."""
    mail = settings.mail
    con = database.connect(path, read_only=False)
    try:
        rows = []
        # a duplicate's year is its original's: read for all of them at once
        originals = [d.duplicate_of for d in summary.decisions if d.duplicate_of is not None]
        original_year = dict(con.execute(
            "select submission_id, declared_fiscal_year from raw_submissions where list_contains(?, submission_id) "
            "and declared_fiscal_year is not null", [originals]).fetchall()) if originals else {}
        for decision in summary.decisions:
            if not decision.candidate.department:
                continue
            sid = decision.submission_id
            attachment = kept_back = None
            if sid in copies:
                name, staged = copies[sid]
                size = staged.stat().st_size
                if size <= mail.max_attachment_bytes:
                    attachment = (name, staged.read_bytes())
                else:
                    kept_back = f"{size / 2**20:,.1f}MB あり、添付の上限 {mail.max_attachment_bytes / 2**20:,.1f}MB を超える"
            moved = summary.moved.get(sid)
            years = compose.fiscal_years(decision) or (
                [original_year[decision.duplicate_of]] if decision.duplicate_of in original_year else [])
            message = compose.receipt(decision, catalogue, mail, summary.run_id, years,
                                      moved=f"inbox/{Path(moved).relative_to(settings.inbox).as_posix()}" if moved else None,
                                      attachment=attachment, kept_back=kept_back)
            rows.append(row(f"submission:{sid}", "receipt", compose.addressee(decision, catalogue, years),
                            "団体" if compose.is_survey(decision, catalogue) else "部局", years[0] if years else None,
                            message, submission_id=sid, run_id=summary.run_id))
        queue(con, rows)
        con.execute("checkpoint")
    finally:
        con.close()
    return len(rows)


def send_step(settings: Settings, catalogue: Catalogue) -> MailOutcome:
    """The run's mail step: send what is owed (:func:`send_mail`); when a mail failed, raise MailNotSent after
    recording it, so that the flow's task retries."""
    outcome = send_mail(settings, catalogue)
    if outcome.failed:
        raise MailNotSent(outcome)
    return outcome


def send_mail(settings: Settings, catalogue: Catalogue, kinds: tuple[str, ...] = ("receipt", "reminder"),
              today: dt.date | None = None) -> MailOutcome:
    """Send the outbox's mail of ``kinds`` (pending, failed before, or without an address before: the recipients are
    read from the catalogue now), journaling each mail's fate, then record the fates in the warehouse. The caller
    holds the run lock. ``today`` (JST): a reminder of another day is expired."""
    mail, journal = settings.mail, settings.mail_journal_path
    if not mail.enabled:  # nothing is sent; what a killed process sent before mail was turned off is recorded
        if journal.exists():
            record(settings)
        return MailOutcome(False)
    before = fates(read_journal(journal))  # what a killed process sent or tried, not yet recorded
    outbox = _outbox(settings.warehouse, kinds)
    today = today or now_jst().date()
    outcome = MailOutcome(True)
    todo: list[tuple[Outgoing, tuple[str, ...], int, str | None]] = []
    for out in outbox:
        fate = before.get(out.mail_id)
        if fate and fate["event"] == "sending":  # handed over when a process died: it may have gone
            outcome.unknown.append(out.subject)
            continue
        if fate and fate["event"] not in ("failed", "no_address"):  # its fate is known, only not recorded yet
            continue
        attempt = max(out.attempts, fate["attempt"] if fate else 0) + 1
        if out.send_on is not None and out.send_on < today:
            _append(journal, {"mail_id": out.mail_id, "event": "expired", "attempt": attempt - 1})
            outcome.expired.append(out.subject)
            continue
        recipients, bad = catalogue.contacts_of(out.unit), catalogue.bad_contacts_of(out.unit)
        skipped = f"形式が正しくない宛先には送っていません(入力: {'、'.join(map(repr, bad))})" if bad else None
        if not recipients:
            why = (f"宛先の形式が正しくありません(入力: {'、'.join(map(repr, bad))})。catalogue の email を直してください"
                   if bad else "catalogue の email に宛先がありません")
            if (out.status, out.error) != ("no_address", why):  # as recorded already: nothing to record again
                _append(journal, {"mail_id": out.mail_id, "event": "no_address", "attempt": attempt - 1, "error": why})
            outcome.no_address.append(NotSent(out.subject, why, out.kind))
            continue
        todo.append((out, recipients, attempt, skipped))
    if todo:
        _deliver(mail, journal, todo, outcome)
    crash_point("mail_before_record")
    if journal.exists():
        record(settings)
    return outcome


def _deliver(mail: Mail, journal: Path, todo: list[tuple[Outgoing, tuple[str, ...], int, str | None]],
             outcome: MailOutcome) -> None:
    """Hand each mail to the SMTP server over one connection, journaling ``sending`` just before and its fate just
    after. A mail the server refuses fails alone; a connection that fails (or never comes) fails every mail not yet
    handed over."""
    envelope = parseaddr(mail.sender)[1]
    done = 0

    def fail(out: Outgoing, recipients, attempt: int, why: str) -> None:
        _append(journal, {"mail_id": out.mail_id, "event": "failed", "attempt": attempt, "recipients": list(recipients),
                          "error": why})
        outcome.failed.append(NotSent(out.subject, why, out.kind))

    try:
        with _connect(mail) as smtp:
            for out, recipients, attempt, skipped in todo:
                _append(journal, {"mail_id": out.mail_id, "event": "sending", "attempt": attempt,
                                  "recipients": list(recipients)})
                try:
                    refused = smtp.sendmail(envelope, list(recipients), addressed(out.message, recipients))
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
                    fail(out, recipients, attempt, explain(e, mail))  # this mail only: the connection stands
                    done += 1
                    continue
                crash_point("mail_sent")
                notes = [f"受け取りを拒否された宛先: {', '.join(refused)}" if refused else None, skipped]
                _append(journal, {"mail_id": out.mail_id, "event": "sent", "attempt": attempt,
                                  "recipients": [r for r in recipients if r not in refused],
                                  "error": "。".join(filter(None, notes)) or None})
                outcome.sent.append(out.subject)
                done += 1
    except SMTP_ERRORS as e:
        for out, recipients, attempt, _ in todo[done:]:
            fail(out, recipients, attempt, explain(e, mail))


# A relay on the office's network answers in milliseconds: a connection (and its TLS handshake and the server's
# greeting) that takes longer than this is a wrong host, port or security, which three tries of the full timeout
# made a minute and a half to tell. The conversation after it keeps timeout_seconds: a relay may scan a 5 MB
# attachment before it answers, and a mail cut off there may have gone.
CONNECT_SECONDS = 10.0


def _connect(mail: Mail) -> smtplib.SMTP:
    """A connection to the SMTP server as configured: SSL from the start, or STARTTLS, or plain (a relay inside the
    LGWAN that trusts the host); logged in when a user is set (no password: CannotLogIn, before connecting)."""
    if mail.user and mail.password is None:
        raise CannotLogIn(mail.password_problem or password_missing(mail))
    context = ssl.create_default_context(cafile=str(mail.ca_file) if mail.ca_file else None)
    timeout = min(CONNECT_SECONDS, mail.timeout_seconds)
    if mail.security == "ssl":
        smtp = smtplib.SMTP_SSL(mail.host, mail.smtp_port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(mail.host, mail.smtp_port, timeout=timeout)
    try:
        if mail.security == "starttls":
            smtp.starttls(context=context)
        smtp.sock.settimeout(mail.timeout_seconds)
        if mail.user:
            try:
                smtp.login(mail.user, mail.password)
            except UnicodeEncodeError:  # smtplib sends user and password as ASCII
                raise CannotLogIn("ユーザー名とパスワードは半角の英数字・記号で設定してください") from None
    except BaseException:
        smtp.close()
        raise
    return smtp


def password_missing(mail: Mail) -> str:
    """Why a login cannot be tried: [mail] user is set, and no password came."""
    return (f"[mail] user {mail.user} のパスワードが設定されていません(環境変数 SHINCHOKU_MAIL_PASSWORD か、"
            "password_secret に Prefect の Secret ブロックの名前)")


def send_test(mail: Mail, to: str) -> str:
    """``shinchoku mail-test``: one test mail to ``to`` through the configured relay, exactly as the run connects
    (no warehouse, no catalogue, nothing recorded); returns its subject. Raises what the connection or the server
    raised (:func:`explain` says it)."""
    message = compose.test_mail(mail, to, now_jst())
    with _connect(mail) as smtp:
        smtp.sendmail(parseaddr(mail.sender)[1], [to], addressed(message.as_bytes(), [to]))
    return str(message["Subject"])


def addressed(message: bytes, recipients) -> bytes:
    """The queued message with its recipients (To) and the time it is sent (Date, JST)."""
    parsed = BytesParser(policy=SMTP).parsebytes(message)
    parsed["To"] = ", ".join(recipients)
    parsed["Date"] = format_datetime(dt.datetime.now(JST))
    return parsed.as_bytes()


def explain(error: BaseException, mail: Mail) -> str:
    """An SMTP error as the DX office reads it: what it most likely means and what to set (Japanese), then the
    error's own words for the record (原文: its class and text). A mistake of ours (CannotLogIn) is Japanese already."""
    text = " ".join(str(error).split())
    original = f"{type(error).__name__}: {text}" if text else type(error).__name__
    if isinstance(error, CannotLogIn):
        return text
    meaning = _meaning(error, text, mail)
    return f"{meaning}(原文: {original})" if meaning else original


def short_why(why: str) -> str:
    """The Japanese part of :func:`explain`'s sentence, without the error's own words."""
    return why.split("(原文: ")[0]


PORTS = "465 番は security = \"ssl\"、587 番は \"starttls\"、庁内中継の 25 番は \"none\" が一般的です"


def _meaning(error: BaseException, text: str, mail: Mail) -> str | None:
    """What the common SMTP errors mean for the settings (None: no explanation beyond the error's words)."""
    where = f"{mail.host}:{mail.smtp_port}"
    if isinstance(error, ssl.SSLCertVerificationError):
        return (f"中継サーバー {where} の証明書を検証できません。県の認証局の証明書を ca_file に指定し、host が証明書の"
                "名前と合っているかを確認してください")
    if isinstance(error, ssl.SSLError) and ("WRONG_VERSION_NUMBER" in text or "wrong version number" in text):
        return f"ポートと暗号化の設定が合っていません({where} は security = \"{mail.security}\" の接続に応じません。{PORTS})"
    if isinstance(error, smtplib.SMTPNotSupportedError) and "STARTTLS" in text:
        return ("中継サーバーが STARTTLS に対応していません。庁内の中継サーバー(25 番)なら security = \"none\"、"
                "SSL/TLS のポート(465 番)なら security = \"ssl\" にしてください")
    if isinstance(error, smtplib.SMTPNotSupportedError) and "AUTH" in text:
        return ("中継サーバーがログイン(SMTP AUTH)を受け付けません。ホストのアドレスで中継を許可するサーバーなら、"
                "設定 [mail] の user を外してください(暗号化の後でだけログインを受け付けるサーバーなら、security を"
                "\"starttls\" にしてください)")
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"ログインを拒否されました。user({mail.user})とパスワードを確認してください"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "宛先を拒否されました。catalogue の email と、中継サーバーがその宛先への中継を許可しているかを確認してください"
    if isinstance(error, smtplib.SMTPSenderRefused):
        return "差出人を拒否されました。sender を中継サーバーが許可するアドレスにしてください"
    if isinstance(error, smtplib.SMTPDataError):
        return "中継サーバーがメールを受け付けませんでした(大きさの上限、内容の検査など)。サーバーの応答を確認してください"
    if isinstance(error, ConnectionRefusedError):
        return f"{where} に接続を拒否されました。host と port、中継サーバーが動いているか、ファイアウォールを確認してください"
    if isinstance(error, socket.gaierror):
        return f"ホスト名 {mail.host} が見つかりません。host の綴りと DNS を確認してください"
    if isinstance(error, TimeoutError) or isinstance(error, smtplib.SMTPServerDisconnected) and "timed out" in text:
        return (f"{where} から応答がありません。host と port、ファイアウォールで送信が許可されているかを確認してください"
                f"(SSL/TLS のポートに security = \"starttls\" や \"none\" で接続したときも応答がなくなります。{PORTS})")
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return f"中継サーバー {where} が接続を切りました。ポートと暗号化の設定を確認してください({PORTS})"
    if isinstance(error, OSError) and error.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return f"{where} にネットワークで届きません。host と経路、ファイアウォールを確認してください"
    return None


def _outbox(warehouse: Path, kinds: tuple[str, ...]) -> list[Outgoing]:
    """The published warehouse's mail still to send (pending, failed before, or without an address before), oldest
    first; read-only."""
    if not warehouse.exists():
        return []
    con = database.connect(warehouse)
    try:
        if not con.execute("select count(*) from duckdb_tables() where table_name = 'raw_mail'").fetchone()[0]:
            return []  # a warehouse from before mail: nothing was ever queued
        rows = con.execute("""
            select mail_id, kind, unit, subject, status, error, attempts, send_on, message from raw_mail
            where status in ('pending', 'failed', 'no_address') and list_contains(?, kind) order by queued_at, mail_id""",
                           [list(kinds)]).fetchall()
    finally:
        con.close()
    return [Outgoing(*r) for r in rows]


def _append(path: Path, event: dict) -> None:
    """One line more in the mail journal, on the disk before this returns."""
    new = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, (json.dumps({**event, "at": now_jst().isoformat()}, ensure_ascii=False) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    if new:
        fsync_path(path.parent)  # the journal's own entry in its folder


def read_journal(path: Path) -> list[dict]:
    """The journal's events, in order (a last line cut short by a kill is left out)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    events = []
    for line in text.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def fates(events: list[dict]) -> dict[str, dict]:
    """Each mail's last event."""
    return {e["mail_id"]: e for e in events}


def record(settings: Settings) -> int:
    """Write the journal's fates into raw_mail and the audit log, publish, then remove the journal. Recording again
    what is recorded changes nothing (a process killed after publishing and before removing the journal). Returns
    how many mails changed. The caller holds the run lock."""
    last = fates(read_journal(settings.mail_journal_path))

    def change(con) -> int:
        current = {r[0]: r[1:] for r in con.execute(
            "select mail_id, status, attempts, error, unit, fiscal_year, run_id, subject from raw_mail "
            "where list_contains(?, mail_id)", [list(last)]).fetchall()}
        changed = 0
        for mail_id, fate in last.items():
            if mail_id not in current:
                continue
            old_status, old_attempts, old_error, unit, fiscal_year, run_id, subject = current[mail_id]
            status, attempts = STATUS_OF[fate["event"]], fate.get("attempt", old_attempts)
            error = fate.get("error") or ("送信中に処理が中断されました(届いたかどうかは不明です。再送はしません)"
                                         if status == "unknown" else None)
            if (status, attempts) == (old_status, old_attempts) and (status != "no_address" or error == old_error):
                continue  # recorded already (a mail still without an address is recorded again only for a new reason)
            at = dt.datetime.fromisoformat(fate["at"])
            recipients = fate.get("recipients")
            con.execute("""
                update raw_mail set status = ?, attempts = ?, error = ?, recipients = coalesce(?, recipients),
                    last_attempt_at = case when ? then ? else last_attempt_at end,
                    sent_at = case when ? = 'sent' then ? end,
                    message = case when ? = 'sent' then null else message end
                where mail_id = ?""", [status, attempts, error, recipients, attempts != old_attempts, at, status, at,
                                       status, mail_id])
            wh.audit(con, "mail", actor=actor(), department=unit, fiscal_year=fiscal_year, run_id=run_id,
                     detail=f"{compose.MAIL_STATUS_JA[status]}: {subject}"
                            + (f"(宛先 {len(recipients)}件、{attempts}回目)" if recipients else "")
                            + (f"。{error}" if error else ""))
            changed += 1
        return changed

    changed = change_published(settings, change, keep=bool, audits=False) if last else 0
    settings.mail_journal_path.unlink(missing_ok=True)
    return changed
