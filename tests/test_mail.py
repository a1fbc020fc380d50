"""Issue 27: the submitters hear back by e-mail, through a real SMTP server on loopback (aiosmtpd, STARTTLS with its own
certificate, login required), one for the module: a receipt or the error list per file, never twice, a refused
connection told and retried, reminders of the overdue once a day, Japanese that decodes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import io
import itertools
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
from dataclasses import dataclass, field
from email import policy
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from bench.server import free_port
from helpers import cli_in_process, drop, query, query_many
from shinchoku.documents.summary import summary_markdown, summary_text
from shinchoku.documents.template import fill_template
from shinchoku.run import warehouse as wh
from shinchoku.run.mail import send_mail
from shinchoku.run.remind import remind
from shinchoku.run.steps import MAIL, SETTLE, SITE, STEPS, run_ingest
from shinchoku.settings import load_settings

USER, PASSWORD = "shinchoku", "s3cret!pass"
SENDER = "福島県 DX推進課 <dx-suishin@pref.example.lg.jp>"


@dataclass
class Server:
    """The module's SMTP server: its port, the certificate to trust, and every message it accepted."""

    port: int
    certificate: Path
    received: list = field(default_factory=list)

    def since(self, mark: int) -> list[email.message.EmailMessage]:
        """The messages accepted after the first ``mark``, parsed as a mail reader would (email.policy.default)."""
        return [email.message_from_bytes(content, policy=policy.default) for _, content in self.received[mark:]]


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (what a prefecture's own CA would sign for its relay)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay.pref.example.lg.jp")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "relay.pem", folder / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def smtp(tmp_path_factory):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    server = Server(free_port(), *_certificate(tmp_path_factory.mktemp("relay"))[:1])

    class Collect:
        async def handle_DATA(self, _server, _session, envelope):
            server.received.append((list(envelope.rcpt_tos), envelope.content))
            return "250 OK: queued"

    def login(_server, _session, _envelope, _mechanism, data):
        return AuthResult(success=isinstance(data, LoginPassword) and (data.login, data.password) ==
                          (USER.encode(), PASSWORD.encode()))

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server.certificate, server.certificate.with_suffix(".key"))
    controller = Controller(Collect(), hostname="127.0.0.1", port=server.port, tls_context=context,
                            require_starttls=True, auth_required=True, authenticator=login)
    controller.start()
    yield server
    controller.stop()


def mail_config(folder: Path, smtp: Server, port: int | None = None, site: bool = False, **extra) -> Path:
    """shinchoku.toml with a [mail] section for the module's server (``port``: another, where nothing listens;
    ``extra``: more keys of [mail], or others in their place; ``user=None`` leaves the login out), and no site built
    after a run unless ``site``."""
    keys = {"host": "127.0.0.1", "port": port or smtp.port, "security": "starttls", "user": USER, "sender": SENDER,
            "reply_to": "dx-toiawase@pref.example.lg.jp", "ca_file": str(smtp.certificate), **extra}
    lines = ["[mail]", *(f"{k} = {v!r}".replace("'", '"') for k, v in keys.items() if v is not None),
             "[site]", f"build = {'true' if site else 'false'}"]
    path = folder / "shinchoku.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def on(tmp_path, smtp):
    """Settings under tmp_path with mail through the module's server (the password from the environment)."""
    return load_settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "warehouse" / "shinchoku.duckdb",
                         settle_seconds=0, site_build=False, config_file=mail_config(tmp_path, smtp),
                         env={"SHINCHOKU_MAIL_PASSWORD": PASSWORD})


def submit_two(settings, template, tmp_path) -> tuple[Path, Path]:
    """総務部's return (accepted) and 教育庁's with a word for a number (rejected), under a name holding ESC."""
    good = fill_template(template("総務部", 2022), {"GOV-K02": 30}, out=tmp_path / "good.xlsx")
    bad = fill_template(template("教育庁", 2022), {"EDU-K01": "たくさん"}, out=tmp_path / "bad.xlsx")
    return drop(settings, good, "総務部", "R4_総務部.xlsx"), drop(settings, bad, "教育庁", "R4_教育庁\x1b]0;x\x07.xlsx")


def by_subject(messages) -> dict[str, email.message.EmailMessage]:
    return {m["Subject"]: m for m in messages}


def test_a_run_mails_each_file_its_receipt_or_its_error_list_and_a_rerun_nothing(on, smtp, catalogue, template,
                                                                                  tmp_path):
    good, bad = submit_two(on, template, tmp_path)
    check = cli_in_process("check", str(good))  # what the department would see from `shinchoku check`
    mark = len(smtp.received)
    summary = run_ingest(on, catalogue)
    assert (summary.count("accepted"), summary.count("rejected"), summary.exit_code) == (1, 1, 1)
    assert summary.mail_error is None and not summary.mail.failed, (summary.mail, summary.mail_error)
    received = smtp.received[mark:]
    mails = by_subject(smtp.since(mark))
    accepted, rejected = "【進捗】総務部 R4年度 報告様式: 受理", "【進捗】教育庁 R4年度 報告様式: 差戻し(エラー 1件)"
    assert sorted(mails) == sorted([accepted, rejected])  # two mails, the subject decoded to the original Japanese
    # each to its department's addresses (both of 総務部's), as the envelope and the To header say
    assert sorted(tuple(r) for r, _ in received) == sorted([catalogue.contacts_of("総務部"), catalogue.contacts_of("教育庁")])
    assert mails[accepted]["To"].addresses[1].addr_spec == "somu-joho@pref.example.lg.jp"
    for mail in mails.values():
        assert str(mail["From"]) == SENDER and str(mail["Reply-To"]) == "dx-toiawase@pref.example.lg.jp"
        assert mail["Message-ID"].endswith("@pref.example.lg.jp>") and mail["Date"].datetime.utcoffset() == dt.timedelta(hours=9)
        assert mail["Auto-Submitted"] == "auto-generated"
    for _, raw in received:  # 7-bit on the wire: subject RFC 2047, the attachment's name RFC 2231, body base64
        text = raw.decode("ascii")
        assert "Subject: =?utf-8?b?" in text and "Content-Transfer-Encoding: base64" in text
        assert "filename*" in text or "Content-Disposition" not in text

    # accepted: the very lines `shinchoku check` prints for the file (its path as the file's name), values and all
    body = mails[accepted].get_body(("plain",)).get_content()
    lines = [line.replace(str(good), good.name) for line in check.stdout.splitlines()]
    assert lines[0].startswith("OK R4_総務部.xlsx") and any(line.startswith("GOV-K02\tR4年度\t30\t30\t百万枚") for line in lines)
    assert all(line in body.splitlines() for line in lines), body
    assert not list(mails[accepted].iter_attachments())

    # rejected: every problem with its cell and fix, as the error list beside it says them, and the annotated copy
    body = mails[rejected].get_body(("plain",)).get_content()
    issues = query(on.warehouse, "select sheet || '!' || cell, message, fix from validation_issues v "
                                 "join submissions s using (submission_id) where s.department = '教育庁'")
    assert issues and all(f"[エラー] {cell}" in body and f"内容: {message}" in body and f"直し方: {fix}" in body
                          for cell, message, fix in issues)
    assert "inbox/教育庁/rejected/R4_教育庁\\x1b]0;x\\x07.xlsx" in body  # where the file went, its name made safe
    assert "\x1b" not in body and "\x07" not in body
    [copy] = list(mails[rejected].iter_attachments())
    assert copy.get_filename() == "R4_教育庁\\x1b]0;x\\x07.エラー箇所.xlsx"  # decoded: the Japanese as it was
    workbook = load_workbook(io.BytesIO(copy.get_content()))
    [(cell, _, _)] = issues
    sheet, ref = cell.split("!")
    assert workbook.sheetnames[0] == "エラー一覧" and workbook[sheet][ref].comment is not None
    assert copy.get_content() == (on.inbox / "教育庁" / "rejected" / copy.get_filename().replace(
        "\\x1b", "\x1b").replace("\\x07", "\x07")).read_bytes()  # the same copy as the one placed beside the file

    # recorded in the warehouse and in the audit log; told in the summary and the flow's artifact
    got = query_many(on.warehouse, {
        "mail": "select kind, unit, status, attempts, len(recipients), message is null, subject from raw_mail order by unit",
        "audit": "select department, detail from audit_log where action = 'mail' order by department"})
    assert got["mail"] == [("receipt", "教育庁", "sent", 1, 1, True, rejected), ("receipt", "総務部", "sent", 1, 2, True, accepted)]
    assert got["audit"] == [("教育庁", f"送信済: {rejected}(宛先 1件、1回目)"), ("総務部", f"送信済: {accepted}(宛先 2件、1回目)")]
    assert "メール: 送信 2 件" in summary_text(summary) and "## メール\n\n- メール: 送信 2 件" in summary_markdown(summary)

    # a rerun sends nothing new; nor does a third run with a file already accepted again: that is a new file, its
    # own receipt (受理済みと同一), and only that
    again = run_ingest(on, catalogue)
    assert len(smtp.received) == mark + 2 and again.mail.sent == []
    drop(on, tmp_path / "good.xlsx", "総務部", "もう一度.xlsx")
    third = run_ingest(on, catalogue)
    assert [m["Subject"] for m in smtp.since(mark + 2)] == ["【進捗】総務部 R4年度 報告様式: 受理済みと同一(提出番号 1)"]
    assert third.mail.sent == ["【進捗】総務部 R4年度 報告様式: 受理済みと同一(提出番号 1)"]


RUN = (
    "import sys\n"
    "from shinchoku.catalogue import load_catalogue\n"
    "from shinchoku.settings import load_settings\n"
    "from shinchoku.run.steps import run_ingest\n"
    "s = load_settings(inbox=sys.argv[1], warehouse=sys.argv[2], settle_seconds=0, site_build=False)\n"
    "sys.exit(run_ingest(s, load_catalogue()).exit_code)\n"
)


def test_a_run_killed_after_publishing_before_sending_sends_each_mail_exactly_once_when_rerun(on, smtp, catalogue,
                                                                                              template, tmp_path):
    """Killed (kill -9 at the named crash point, in a process of its own) once the warehouse is published and before
    any mail went: the next run sends each queued mail once."""
    submit_two(on, template, tmp_path)
    mark = len(smtp.received)
    env = {**os.environ, "SHINCHOKU_CONFIG": str(tmp_path / "shinchoku.toml"), "SHINCHOKU_MAIL_PASSWORD": PASSWORD,
           "SHINCHOKU_CRASH_AT": "after_publish"}
    killed = subprocess.run([sys.executable, "-c", RUN, str(on.inbox), str(on.warehouse)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL and "crash point after_publish" in killed.stderr
    assert len(smtp.received) == mark  # it died before sending
    queued = query(on.warehouse, "select message_id from raw_mail where status = 'pending'")
    assert len(queued) == 2  # the outbox was published with the run

    summary = run_ingest(on, catalogue)  # the next night: recovery finishes the inbox, the mail step sends
    assert sorted(m["Message-ID"] for m in smtp.since(mark)) == sorted(m for (m,) in queued)  # each once
    assert len(summary.mail.sent) == 2 and query(on.warehouse, "select status from raw_mail") == [("sent",), ("sent",)]


@pytest.mark.parametrize("point", ["mail_sent", "mail_before_record"])
def test_mail_handed_over_but_not_yet_recorded_is_never_sent_again(point, on, smtp, catalogue, template, tmp_path,
                                                                   monkeypatch):
    """A failure injected where a kill leaves the same journal (SHINCHOKU_FAIL_AT; nothing after it touches the
    mail): after the server took the first mail and before the journal said so (``mail_sent``: it may have gone, so
    it is never sent again, and status says so), or after every mail was journaled and before the warehouse recorded
    it (``mail_before_record``). The run stands; the next run sends nothing twice."""
    submit_two(on, template, tmp_path)
    mark = len(smtp.received)
    monkeypatch.setenv("SHINCHOKU_FAIL_AT", point)
    summary = run_ingest(on, catalogue)
    assert summary.mail_error.startswith("InjectedFailure") and summary.count("accepted") == 1
    assert len(smtp.received) == mark + (1 if point == "mail_sent" else 2) and on.mail_journal_path.exists()
    queued = query(on.warehouse, "select message_id from raw_mail where status = 'pending'")
    assert len(queued) == 2
    monkeypatch.delenv("SHINCHOKU_FAIL_AT")

    again = run_ingest(on, catalogue)
    assert sorted(m["Message-ID"] for m in smtp.since(mark)) == sorted(m for (m,) in queued)  # each once, none twice
    statuses = query(on.warehouse, "select status, attempts from raw_mail order by status")
    assert not on.mail_journal_path.exists()
    if point == "mail_before_record":
        assert again.mail.sent == [] and statuses == [("sent", 1), ("sent", 1)]
        return
    assert len(again.mail.sent) == 1 and len(again.mail.unknown) == 1 and statuses == [("sent", 1), ("unknown", 1)]
    status = cli_in_process("status", "--inbox", str(on.inbox), "--warehouse", str(on.warehouse))
    assert "送信結果不明 1 件" in status.stdout and "届いたかを宛先に確認してください。再送はしません" in status.stdout


def test_a_refused_connection_leaves_the_run_published_is_told_and_is_delivered_by_the_next_run(
        on, smtp, catalogue, template, tmp_path, monkeypatch):
    closed = dataclasses.replace(on, mail=dataclasses.replace(on.mail, port=free_port()))  # nothing listens there
    submit_two(closed, template, tmp_path)
    mark = len(smtp.received)
    summary = run_ingest(closed, catalogue)
    assert summary.exit_code == 1 and summary.count("accepted") == 1  # the ingest's status, as without mail
    assert query(on.warehouse, "select count(*) from submissions") == [(2,)]  # published
    assert [p.name for d in ("総務部", "教育庁") for p in (on.inbox / d).glob("*.xlsx")] == []  # the inbox settled
    # told in Japanese, what it likely means and what to check, the error's own words kept for the record
    refused = (f"127.0.0.1:{closed.mail.port} に接続を拒否されました。host と port、中継サーバーが動いているか、"
               "ファイアウォールを確認してください(原文: ConnectionRefusedError: [Errno 111] Connection refused)")
    assert [f.why for f in summary.mail.failed] == [refused, refused]
    text, artifact = summary_text(summary), summary_markdown(summary)
    assert text.count("メール: 送信") == 1  # once, with the summary
    assert f"メール: 送信 0 件、送信失敗 2 件(次回の取込で再送します)\n  送信失敗 2 件: {refused}\n    【進捗】" in text
    assert "送信失敗 2 件" in artifact
    monkeypatch.setenv("SHINCHOKU_CONFIG", str(tmp_path / "shinchoku.toml"))
    monkeypatch.setenv("SHINCHOKU_MAIL_PASSWORD", PASSWORD)
    status = cli_in_process("status", "--inbox", str(on.inbox), "--warehouse", str(on.warehouse))
    assert status.returncode == 0
    assert f"メール送信: 有効(127.0.0.1:{smtp.port}、STARTTLS、認証 {USER}、差出人 {SENDER})" in status.stdout
    assert "送信待ち 0 件" not in status.stdout and "送信失敗 2 件" in status.stdout
    assert f"  送信失敗 2 件: {refused}\n    【進捗】" in status.stdout
    assert "    【進捗】総務部 R4年度 報告様式: 受理(1回、最終 " in status.stdout
    assert status.stdout.count("。次回の取込で再送します") == 2
    assert len(smtp.received) == mark

    delivered = run_ingest(on, catalogue)  # the next night, the relay up again
    assert sorted(delivered.mail.sent) == sorted(f.subject for f in summary.mail.failed)
    assert len(smtp.received) == mark + 2
    assert query(on.warehouse, "select status, attempts from raw_mail") == [("sent", 2), ("sent", 2)]
    assert query(on.warehouse, "select count(*) from audit_log where action = 'mail' and detail like '送信失敗%'") == [(2,)]


def test_an_address_that_is_none_stops_nothing_and_its_mail_goes_once_the_catalogue_has_one(
        on, smtp, template, tmp_path, monkeypatch):
    """A full-width ＠ in 教育庁's address: catalogue check names it (tests/test_catalogue.py), and every command goes
    on (run, status, remind --dry-run: each loads the catalogue as all do); 教育庁's mail is recorded 宛先なし with why, and status says so. Put right in the
    catalogue, the next run sends it (a mail without an address is tried again, as a failed one is)."""
    from test_catalogue import _broken_project

    project = _broken_project(tmp_path, "departments.csv", "kyoiku@pref.example.lg.jp", "kyoiku＠pref.example.lg.jp")
    monkeypatch.setenv("SHINCHOKU_CONFIG", str(tmp_path / "shinchoku.toml"))
    monkeypatch.setenv("SHINCHOKU_MAIL_PASSWORD", PASSWORD)
    submit_two(on, template, tmp_path)
    paths = ("--project", str(project), "--inbox", str(on.inbox), "--warehouse", str(on.warehouse))
    mark = len(smtp.received)
    run = cli_in_process("run", "--no-prefect", "--settle-seconds", "0", *paths)
    assert run.returncode == 1, run.stderr  # the ingest's status: one file rejected, as without mail
    why = ("宛先の形式が正しくありません(入力: 'kyoiku＠pref.example.lg.jp')。catalogue の email を直してください")
    assert "メール: 送信 1 件、宛先なし 1 件" in run.stdout
    assert f"  宛先なし: 【進捗】教育庁 R4年度 報告様式: 差戻し(エラー 1件)({why})" in run.stdout
    assert [m["Subject"] for m in smtp.since(mark)] == ["【進捗】総務部 R4年度 報告様式: 受理"]
    status = cli_in_process("status", *paths)
    assert status.returncode == 0, status.stderr
    assert ("  宛先の形式が正しくありません: 教育庁 'kyoiku＠pref.example.lg.jp'(catalogue の email。その宛先には送りません。"
            "shinchoku catalogue check で確認できます)") in status.stdout
    assert (f"  宛先なし: 教育庁 1 件({why}。departments.csv か local_governments.csv の email を直して、"
            "次回の取込で再送します)") in status.stdout
    dry = cli_in_process("remind", "--dry-run", *paths)  # every command loads the catalogue as these two do
    assert dry.returncode == 0, dry.stderr

    # put right: the next run sends it (the recipients are read when a mail is sent), and status lists it no more
    departments = project / "catalogue" / "departments.csv"
    departments.write_text(departments.read_text(encoding="utf-8").replace("＠", "@"), encoding="utf-8")
    again = cli_in_process("run", "--no-prefect", "--settle-seconds", "0", *paths)
    assert "メール: 送信 1 件" in again.stdout and "宛先なし" not in again.stdout
    assert [m["Subject"] for m in smtp.since(mark + 1)] == ["【進捗】教育庁 R4年度 報告様式: 差戻し(エラー 1件)"]
    assert query(on.warehouse, "select unit, status from raw_mail order by unit") == [("教育庁", "sent"), ("総務部", "sent")]
    status = cli_in_process("status", *paths)
    assert "宛先なし" not in status.stdout and "宛先の形式" not in status.stdout
    # the audit log tells both: without an address (why), then sent
    assert query(on.warehouse, "select detail from audit_log where action = 'mail' and department = '教育庁' "
                               "order by event_id") == [
        (f"宛先なし: 【進捗】教育庁 R4年度 報告様式: 差戻し(エラー 1件)。{why}",),
        ("送信済: 【進捗】教育庁 R4年度 報告様式: 差戻し(エラー 1件)(宛先 1件、1回目)",)]


def test_a_reorganised_departments_file_and_a_local_governments_sheets_are_written_to_as_what_they_are(
        on, smtp, template, tmp_path):
    """After 組織改正, a file in inbox/危機管理部/ taken as 危機管理局's is mailed to 危機管理局, under its name; a local
    government's mail names no folder and no command (it submits as it always has), nor does any mail say
    「shinchoku check と同じ表示」; a broken file's mail says no annotated copy was made, and no more."""
    from helpers import reorganised_catalogue
    from shinchoku.catalogue import load_catalogue
    from shinchoku.documents.template import fill_survey, write_survey, write_template

    catalogue = load_catalogue(reorganised_catalogue(tmp_path))
    renamed = fill_template(write_template(catalogue, "危機管理局", 2024, tmp_path / "k.xlsx"), {"SAF-K01": 7000})
    drop(on, renamed, "危機管理部", "R6_危機管理.xlsx")
    blank = {g: write_survey(catalogue, g, 2023, tmp_path / "blank" / f"{g}.xlsx") for g in ("郡山市", "会津若松市")}
    drop(on, fill_survey(blank["郡山市"], {("GOV-K01", "online"): 1234, ("GOV-K01", "total"): 2000,
                                           ("EDU-K01", "ict_teachers"): 10, ("EDU-K01", "teachers"): 20}), "郡山市")
    drop(on, fill_survey(blank["会津若松市"], {("GOV-K01", "online"): 2500, ("GOV-K01", "total"): 2000}), "会津若松市")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook at all")
    drop(on, broken, "総務部", "壊れた.xlsx")
    mark = len(smtp.received)
    summary = run_ingest(on, catalogue)
    assert not summary.mail.failed and not summary.mail.no_address, summary.mail
    mails = {m["Subject"]: (m, m.get_body(("plain",)).get_content()) for m in smtp.since(mark)}
    kiki, kiki_body = mails["【進捗】危機管理局 R6年度 報告様式: 受理(警告 1件)"]
    assert [a.addr_spec for a in kiki["To"].addresses] == ["kikikanri-kyoku@pref.example.lg.jp"]
    assert kiki_body.startswith("危機管理局 ご担当者様")
    assert query(on.warehouse, "select unit from raw_mail where subject like '%危機管理%'") == [("危機管理局",)]

    _, accepted = mails["【進捗】郡山市 R5年度 調査票: 受理"]
    rejected, rejected_body = mails["【進捗】会津若松市 R5年度 調査票: 差戻し(エラー 1件)"]
    assert "受理した調査票は、原本のまま保管しています。" in accepted
    assert "以下をすべて直した調査票を、これまでと同じ方法でもう一度提出してください。" in rejected_body
    assert list(rejected.iter_attachments())  # the annotated copy, as a department's
    for body in (accepted, rejected_body):
        assert "inbox" not in body and "rejected" not in body and "shinchoku " not in body, body
    _, broken_body = mails["【進捗】総務部 年度不明 報告様式: 差戻し(エラー 1件)"]
    assert "エラー箇所を示したコピーは作成していません: " in broken_body
    assert "に移動しました(エラー一覧も同じフォルダにあります)。" in broken_body and "エラー箇所のファイル" not in broken_body
    assert all("shinchoku check" not in body for _, body in mails.values())
    assert "に移動しました(エラー一覧とエラー箇所のファイルも同じフォルダにあります)。" not in broken_body


@pytest.fixture(scope="module")
def plain_smtp():
    """A relay without TLS or login (as a relay inside the LGWAN is): its port and the messages it accepted."""
    from aiosmtpd.controller import Controller

    received = []

    class Collect:
        async def handle_DATA(self, _server, _session, envelope):
            received.append(envelope.content)
            return "250 OK: queued"

    controller = Controller(Collect(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, received
    controller.stop()


def test_mail_test_sends_one_mail_through_the_relay_and_explains_what_stops_it(smtp, plain_smtp, tmp_path,
                                                                              monkeypatch):
    """`shinchoku mail-test --to`: one mail to the one given, through the relay as configured, nothing recorded; each
    common mistake told in Japanese with what to set, the error's own words kept (原文)."""
    port, received = plain_smtp
    monkeypatch.setenv("SHINCHOKU_MAIL_PASSWORD", PASSWORD)

    def mail_test(**settings):
        monkeypatch.setenv("SHINCHOKU_CONFIG", str(mail_config(tmp_path, smtp, **settings)))
        return cli_in_process("mail-test", "--to", "tanto@pref.example.lg.jp")

    mark = len(smtp.received)
    done = mail_test()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "テストメール「【進捗】メール送信のテスト」を tanto@pref.example.lg.jp に送信しました" in done.stdout
    [mail] = smtp.since(mark)
    assert smtp.received[mark][0] == ["tanto@pref.example.lg.jp"] and mail["Subject"] == "【進捗】メール送信のテスト"
    assert "中継サーバー: 127.0.0.1:" in mail.get_body(("plain",)).get_content()

    def refused(**settings) -> str:
        done = mail_test(**settings)
        assert done.returncode == 1 and done.stdout.count("送信できませんでした: ") == 1, done.stdout + done.stderr
        return done.stdout.split("送信できませんでした: ")[1]

    said = refused(port=port)  # STARTTLS to a relay that has none
    assert said.startswith("中継サーバーが STARTTLS に対応していません。庁内の中継サーバー(25 番)なら security = \"none\"")
    assert "(原文: SMTPNotSupportedError: STARTTLS extension not supported by server.)" in said
    said = refused(port=port, security="none")  # a login the relay does not offer
    assert said.startswith("中継サーバーがログイン(SMTP AUTH)を受け付けません。") and "user を外してください" in said
    assert "(原文: SMTPNotSupportedError: SMTP AUTH extension not supported by server.)" in said
    said = refused(port=port, security="ssl")  # TLS from the start, to a port that speaks plain SMTP
    assert said.startswith(f"ポートと暗号化の設定が合っていません(127.0.0.1:{port} は security = \"ssl\" の接続に応じません。")
    assert "WRONG_VERSION_NUMBER" in said
    with socket.socket() as silent:  # a port that takes the connection and never greets: a timeout, told as one
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        quiet = silent.getsockname()[1]
        said = refused(port=quiet, timeout_seconds=0.3)
    assert said.startswith(f"127.0.0.1:{quiet} から応答がありません。host と port、ファイアウォール")
    assert "(原文: SMTPServerDisconnected: Connection unexpectedly closed: timed out)" in said  # the greeting awaited
    assert len(smtp.received) == mark + 1 and received == []

    # the relay without login, as configured for it: the mail goes; a login over it is said to go unencrypted
    done = mail_test(port=port, security="none", user=None)
    assert done.returncode == 0 and len(received) == 1 and "暗号化なし、認証なし" in done.stdout
    done = mail_test(port=port, security="none")
    assert "注意: 暗号化なしの接続でログインするため、パスワードが暗号化されずに流れます" in done.stdout


def test_a_user_without_a_password_is_told_before_any_mail_fails(on, smtp, catalogue, template, tmp_path,
                                                                  monkeypatch):
    """[mail] user set and no password: status says so (not 「認証 shinchoku」 as if fine), and the run's mail fails
    with that reason, without a connection tried; a Secret block without the Prefect server is told in Japanese."""
    from flows.parameters import secret_problem
    from shinchoku.run.mail import MailNotSent, MailOutcome, NotSent

    monkeypatch.setenv("SHINCHOKU_CONFIG", str(tmp_path / "shinchoku.toml"))
    monkeypatch.delenv("SHINCHOKU_MAIL_PASSWORD", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    bare = dataclasses.replace(on, mail=dataclasses.replace(on.mail, password=None))
    submit_two(bare, template, tmp_path)
    summary = run_ingest(bare, catalogue)
    missing = (f"[mail] user {USER} のパスワードが設定されていません(環境変数 SHINCHOKU_MAIL_PASSWORD か、password_secret に "
               "Prefect の Secret ブロックの名前)")
    assert [f.why for f in summary.mail.failed] == [missing, missing]
    status = cli_in_process("status", "--inbox", str(on.inbox), "--warehouse", str(on.warehouse))
    assert f"認証 {USER}。パスワードが設定されていません(環境変数 SHINCHOKU_MAIL_PASSWORD か、password_secret に" in status.stdout
    assert "このままではすべてのメールが送信失敗になります" in status.stdout
    mail_config(tmp_path, smtp, password_secret="shinchoku-smtp")
    status = cli_in_process("status", "--inbox", str(on.inbox), "--warehouse", str(on.warehouse))
    assert ("パスワードは Prefect の Secret ブロック shinchoku-smtp から読みます。PREFECT_API_URL が設定されていません"
            in status.stdout)
    said = secret_problem("shinchoku-smtp", ValueError("Unable to find block document named shinchoku-smtp"), None)
    assert said.startswith("Prefect の Secret ブロック shinchoku-smtp からパスワードを読めません。Secret ブロックは Prefect "
                           "サーバーに保存されます。PREFECT_API_URL が設定されていないため")
    assert said.endswith("(原文: ValueError: Unable to find block document named shinchoku-smtp)")
    # the flow's log names a failed mail task in one short Japanese line, not the outcome's fields
    error = MailNotSent(MailOutcome(True, failed=[NotSent("件名", f"{missing[:10]}(原文: X: y)")]))
    assert repr(error) == f"MailNotSent('メール 1 件を送信できませんでした: {missing[:10]}')"


def test_the_step_retries_in_the_flow_and_comes_after_the_inbox_before_the_site():
    """flows/ingest.py runs STEPS as tasks with each step's retries (tests/test_flow.py holds it): the mail step
    declares its own. No view reads the mail (so no site edition, which reads views only, can show an address)."""
    from shinchoku.config import views_dir

    assert MAIL.retries >= 1 and STEPS.index(SETTLE) < STEPS.index(MAIL) < STEPS.index(SITE)
    views = sorted(views_dir().glob("*.sql"))
    assert views and not [p.name for p in views if "raw_mail" in p.read_text(encoding="utf-8")]


def test_the_demo_never_mails_however_mail_is_configured(smtp, template, tmp_path, monkeypatch):
    """`shinchoku demo` with [mail] set (here, the module's server): its run sends nothing, queues nothing, and its
    output says so. The flow is run as plain calls, from the parameters run_flow gives it (flow_parameters) turned
    back into settings as the flow turns them (flow_settings), so Prefect's start-up is not paid; the demo's 270
    samples are one."""
    import flows.server
    from flows.parameters import flow_parameters, flow_settings
    from shinchoku.catalogue import load_catalogue
    from shinchoku.run import demo
    from shinchoku.run.steps import run_steps

    monkeypatch.setenv("SHINCHOKU_CONFIG", str(mail_config(tmp_path, smtp)))
    monkeypatch.setenv("SHINCHOKU_MAIL_PASSWORD", PASSWORD)
    good = fill_template(template("総務部", 2022), {"GOV-K02": 30}, out=tmp_path / "good.xlsx")
    monkeypatch.setattr(demo, "prepare", lambda settings, catalogue, fresh: [drop(settings, good, "総務部")])
    monkeypatch.setattr(demo, "conclude", lambda settings, summary, say: 0)
    passed = []

    def run_flow(settings, wait=0):
        parameters = flow_parameters(settings, wait)
        passed.append(parameters)
        wait = parameters.pop("wait_seconds")
        return run_steps(flow_settings(**parameters), load_catalogue(), wait)

    monkeypatch.setattr(flows.server, "run_flow", run_flow)
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse" / "shinchoku.duckdb"
    mark = len(smtp.received)
    out = cli_in_process("demo", "--inbox", str(inbox), "--warehouse", str(warehouse))
    assert out.returncode == 0, out.stderr
    assert "デモではメールを送りません(設定 [mail] があっても、受付結果を部局・団体に送りません)" in out.stdout
    assert [p["mail"] for p in passed] == [False] and len(smtp.received) == mark
    assert query(warehouse, "select status from submissions") == [("accepted",)]
    assert query(warehouse, "select count(*) from raw_mail") == [(0,)]
    # what turns it off: the flow's parameter (a run's, mail=True, keeps the configuration's)
    assert flow_settings(str(inbox), str(warehouse), mail=True).mail.enabled


# Reminders: FY2022's returns and survey sheets were due on 2023-06-30, FY2021's a year before.
DUE = dt.date(2023, 6, 30)
_ids = itertools.count(1000)


def report(con, unit: str, kpis: list[str], government: str | None = None, year: int = 2022) -> None:
    """An accepted return of a year (or a local government's counts) straight into the raw tables."""
    sid = next(_ids)
    con.execute("insert into raw_submissions (submission_id, department, local_government, file_name, sha256, "
                "received_at, ingested_at, status, error_count, warning_count) "
                "values (?, ?, ?, 'x.xlsx', 'x', ?, ?, 'accepted', 0, 0)",
                [sid, unit, government, dt.datetime(2023, 5, 1), dt.datetime(2023, 5, 1)])
    for kpi in kpis:
        if government:
            con.execute("insert into raw_component_counts (submission_id, local_government, kpi_id, component_id, "
                        "fiscal_year, as_of, count) select ?, ?, kpi_id, component_id, ?, ?, 5 "
                        "from ref_kpi_components where kpi_id = ?", [sid, government, year, dt.date(year + 1, 3, 31), kpi])
        else:
            con.execute("insert into raw_observations (submission_id, kpi_id, fiscal_year, as_of, actual_value) "
                        "values (?, ?, ?, ?, 1)", [sid, kpi, year, dt.date(year + 1, 3, 31)])


BEHIND = ("総務部", "保健福祉部", "鮫川村", "檜枝岐村")


@pytest.fixture(scope="module")
def year_behind(catalogue, tmp_path_factory):
    """A warehouse in which, of FY2022's reporters, only 総務部, 保健福祉部, 鮫川村 and 檜枝岐村 have not reported,
    and 総務部 has not reported FY2021 either (everyone else has); and what each of them owes for FY2022."""
    path = tmp_path_factory.mktemp("behind") / "shinchoku.duckdb"
    settings = load_settings(warehouse=path, env={}, config_file="/none")
    wh.copy_blank(path, catalogue, settings, wh.fingerprint(catalogue, settings))
    con = duckdb.connect(str(path))
    try:
        owing = {}
        for year in (2021, 2022):
            owing[year] = con.execute("select department, local_government, missing_kpi_ids from submission_status "
                                      "where fiscal_year = ? and len(missing_kpi_ids) > 0", [year]).fetchall()
            for unit, code, missing in owing[year]:
                if unit not in BEHIND if year == 2022 else unit != "総務部":
                    report(con, unit, missing, code, year)
    finally:
        con.close()
    assert any(unit == "総務部" for unit, _, _ in owing[2021])
    return path, {unit: missing for unit, _, missing in owing[2022] if unit in BEHIND}


@pytest.fixture
def behind(on, year_behind):
    """The module's warehouse behind on FY2022, as ``on``'s."""
    path, owed = year_behind
    on.warehouse.parent.mkdir(parents=True)
    shutil.copyfile(path, on.warehouse)
    return owed


def test_remind_mails_only_the_overdue_on_the_configured_days_once_a_day(on, smtp, catalogue, behind, tmp_path,
                                                                         monkeypatch):
    settings = load_settings(inbox=on.inbox, warehouse=on.warehouse, env={"SHINCHOKU_MAIL_PASSWORD": PASSWORD},
                             config_file=mail_config(tmp_path, smtp, remind_before_days=[3], remind_after_days=[7]))
    assert len(behind) == 4 and all(behind.values())

    def addressed(mark):
        return {m["Subject"]: (tuple(a.addr_spec for a in m["To"].addresses), m.get_body(("plain",)).get_content())
                for m in smtp.since(mark)}

    mark = len(smtp.received)
    before = remind(settings, catalogue, today=DUE - dt.timedelta(days=3))
    mails = addressed(mark)
    # 総務部 owes FY2021 as well: one mail names both years, the one due in 3 days in the subject
    assert sorted(mails) == sorted(["【進捗】総務部 R3年度・R4年度 報告様式: R4年度の提出期限(6月30日)まであと3日",
                                    *(f"【進捗】{unit} R4年度 {form}: 提出期限(6月30日)まであと3日" for unit, form in
                                      (("保健福祉部", "報告様式"), ("鮫川村", "調査票"), ("檜枝岐村", "調査票")))])
    for unit, missing in behind.items():
        [(to, body)] = [v for k, v in mails.items() if f"】{unit} " in k]
        assert to == catalogue.contacts_of(unit) and f"未報告の指標: {'、'.join(missing)}" in body
    [somu] = [body.replace("\r\n", "\n") for subject, (_, body) in mails.items() if "総務部" in subject]
    assert "- R3年度: 提出期限 2022-06-30(期限を過ぎています)\n  未報告の指標: GOV-K02\n" \
           "- R4年度: 提出期限 2023-06-30(あと3日)\n  未報告の指標: GOV-K02" in somu
    assert "受付フォルダ(inbox)の 総務部 のフォルダに保存してください" in somu
    [village] = [body for subject, (_, body) in mails.items() if "鮫川村" in subject]
    assert "調査票を記入し、これまでと同じ方法で提出してください。" in village and "inbox" not in village  # no share
    assert len(before.mail.sent) == 4

    con = duckdb.connect(str(on.warehouse))
    report(con, "保健福祉部", behind["保健福祉部"])  # 保健福祉部 reports in time; the others do not
    con.close()
    mark = len(smtp.received)
    remind(settings, catalogue, today=DUE + dt.timedelta(days=7))
    assert sorted(addressed(mark)) == sorted(["【進捗】総務部 R3年度・R4年度 報告様式: R4年度の提出期限(6月30日)を7日過ぎています",
                                              *(f"【進捗】{unit} R4年度 調査票: 提出期限(6月30日)を7日過ぎています"
                                                for unit in ("鮫川村", "檜枝岐村"))])
    mark = len(smtp.received)
    again = remind(settings, catalogue, today=DUE + dt.timedelta(days=7))  # the same day: none again
    assert again.due == [] and len(again.earlier) == 3 and len(smtp.received) == mark
    assert remind(settings, catalogue, today=DUE + dt.timedelta(days=8)).due == []  # not a reminder day
    assert len(smtp.received) == mark

    # the command: a dry run names who it would remind, sends nothing; without mail, remind is a usage error
    monkeypatch.setattr("shinchoku.run.remind.now_jst", lambda: dt.datetime(2023, 7, 1, 9))  # 1 day after: not a day
    monkeypatch.setenv("SHINCHOKU_CONFIG", str(tmp_path / "shinchoku.toml"))
    dry = cli_in_process("remind", "--dry-run", "--inbox", str(on.inbox), "--warehouse", str(on.warehouse))
    assert dry.returncode == 0 and "今日督促する部局・団体はありません(督促の日: 提出期限の 3日前と7日後)" in dry.stdout
    monkeypatch.setattr("shinchoku.run.remind.now_jst", lambda: dt.datetime(2023, 7, 7, 9))
    dry = cli_in_process("remind", "--dry-run", "--inbox", str(on.inbox), "--warehouse", str(on.warehouse))
    assert dry.returncode == 0 and dry.stdout.count("本日送信済み(送りません): ") == 3 and len(smtp.received) == mark
    monkeypatch.delenv("SHINCHOKU_CONFIG")
    off = cli_in_process("remind", "--inbox", str(on.inbox), "--warehouse", str(on.warehouse))
    assert off.returncode == 2 and "メール送信が無効です" in off.stderr


def test_a_reminder_that_failed_goes_again_that_day_only_and_every_line_says_what_happens(
        on, smtp, catalogue, behind, tmp_path, monkeypatch):
    """A reminder is valid on its day: failed, it is promised a resend by remind run again that day, which sends it
    (its line says so, not 「本日送信済み」); the next day it is not sent (see the test below)."""
    from shinchoku.documents.summary import mail_line

    day = DUE + dt.timedelta(days=7)
    closed = load_settings(inbox=on.inbox, warehouse=on.warehouse, env={"SHINCHOKU_MAIL_PASSWORD": PASSWORD},
                           config_file=mail_config(tmp_path, smtp, port=free_port(), remind_after_days=[7]))
    failed = remind(closed, catalogue, today=day)
    assert mail_line(failed.mail) == "メール: 送信 0 件、督促の送信失敗 4 件(本日中に shinchoku remind を再実行すると再送します)"
    mail_config(tmp_path, smtp, remind_after_days=[7])  # the relay as it should be
    monkeypatch.setenv("SHINCHOKU_CONFIG", str(tmp_path / "shinchoku.toml"))
    monkeypatch.setenv("SHINCHOKU_MAIL_PASSWORD", PASSWORD)
    paths = ("--inbox", str(on.inbox), "--warehouse", str(on.warehouse))
    for today, said in ((day, "。本日中に shinchoku remind を再実行すると再送します"),
                        (day + dt.timedelta(days=1), "。督促の日を過ぎたため再送しません(次回の取込で期限切れとして記録します)")):
        monkeypatch.setattr("shinchoku.run.inbox.now_jst", lambda today=today: dt.datetime.combine(today, dt.time(9)))
        assert cli_in_process("status", *paths).stdout.count(said) == 4
    monkeypatch.setattr("shinchoku.run.remind.now_jst", lambda: dt.datetime.combine(day, dt.time(15)))
    dry = cli_in_process("remind", "--dry-run", *paths)
    assert dry.stdout.count("再送予定(本日送信失敗): 【進捗】") == 4 and "本日送信済み" not in dry.stdout
    mark = len(smtp.received)
    again = cli_in_process("remind", *paths)
    assert again.returncode == 0 and len(smtp.received) == mark + 4
    assert again.stdout.count("再送(本日送信失敗): 【進捗】") == 4 and "本日送信済み" not in again.stdout
    assert "メール: 送信 4 件" in again.stdout
    third = cli_in_process("remind", *paths)
    assert third.stdout.count("本日送信済み(送りません): ") == 4 and len(smtp.received) == mark + 4


def test_a_reminder_that_failed_is_not_sent_on_another_day(on, smtp, catalogue, behind, tmp_path):
    closed = load_settings(inbox=on.inbox, warehouse=on.warehouse, env={"SHINCHOKU_MAIL_PASSWORD": PASSWORD},
                           config_file=mail_config(tmp_path, smtp, port=free_port(), remind_after_days=[7]))
    failed = remind(closed, catalogue, today=DUE + dt.timedelta(days=7))
    assert len(failed.mail.failed) == 4
    mark = len(smtp.received)
    later = send_mail(on, catalogue, today=DUE + dt.timedelta(days=8))  # the next run's mail step, the relay up again
    assert len(later.expired) == 4 and later.sent == [] and len(smtp.received) == mark
    assert query(on.warehouse, "select distinct status from raw_mail") == [("expired",)]


def test_remind_failing_after_queueing_sends_its_reminders_once_when_run_again(on, smtp, catalogue, behind,
                                                                             monkeypatch):
    from shinchoku.run.crash import InjectedFailure

    monkeypatch.setenv("SHINCHOKU_FAIL_AT", "reminders_queued")
    mark = len(smtp.received)
    with pytest.raises(InjectedFailure):
        remind(on, catalogue, today=DUE + dt.timedelta(days=7))
    assert len(smtp.received) == mark and query(on.warehouse, "select count(*) from raw_mail") == [(4,)]
    monkeypatch.delenv("SHINCHOKU_FAIL_AT")
    again = remind(on, catalogue, today=DUE + dt.timedelta(days=7))  # the same day: queued, so sent, once each
    assert again.due == [] and len(again.earlier) == len(again.mail.sent) == 4 and len(smtp.received) == mark + 4


def test_every_crash_point_of_the_mail_is_tested_here():
    """The mail's named points (tests/test_crash_safety.py tests the run's): each is a test of this module."""
    from test_crash_safety import crash_points

    assert crash_points(mail=True) == ["mail_before_record", "mail_sent", "reminders_queued"]
