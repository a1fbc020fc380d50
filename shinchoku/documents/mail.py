"""The mail a department or local government gets, in Japanese: the receipt of each file a run decided (what was
read, as ``shinchoku check`` prints it, and any warnings), its error list with the annotated copy attached, and the
reminders of ``shinchoku remind``. Only composing here (the standard library's ``email``); sending, and never twice,
are :mod:`shinchoku.run.mail`'s.

The subject reads like a ledger line in a mail client's list: 【進捗】, who, which fiscal year, which form and what came
of it (「【進捗】総務部 R5年度 報告様式: 差戻し(エラー 2件)」). Everything a department wrote (its file name, its
cells, its folder's name) passes the terminal's filter, so a control character shows as ``\\x1b`` and never acts in a
mail reader; the headers are UTF-8, the subject RFC 2047 and the attachment's name RFC 2231 encoded by the ``email``
package, the body base64 (7-bit clean for any relay).
"""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid, parseaddr

from ..config import Mail
from ..workbook.messages import ERROR
from ..workbook.parse import fiscal_year_label
from ..workbook.text import terminal_safe
from .verdict import check_lines, error_list_text

FORMS = {False: "報告様式", True: "調査票"}  # what a department submits, what a local government submits
# a mail's status (raw_mail.status) as the DX office reads it
MAIL_STATUS_JA = {"pending": "送信待ち", "sent": "送信済", "failed": "送信失敗", "unknown": "送信結果不明",
             "no_address": "宛先なし", "expired": "期限切れ"}

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
SIGNATURE = ("このメールは shinchoku(DX推進計画の進捗管理)から自動で送信しています。"
             "ご不明な点は、このメールにそのまま返信してください(DX推進課に届きます)。")


def _one_line(text: str) -> str:
    """Text for a header: no line break may reach it (the email package would refuse it; a folder's name must not
    add a header), and no control character."""
    return terminal_safe(re.sub(r"[\r\n\t]+", " ", text)).strip()


def subject(unit: str, years: list[int], form: str, outcome: str) -> str:
    """【進捗】総務部 R5年度 報告様式: 差戻し(エラー 2件)."""
    year = "・".join(fiscal_year_label(y) for y in sorted(set(years))) or "年度不明"
    return _one_line(f"【進捗】{unit} {year} {form}: {outcome}")


def fiscal_years(decision) -> list[int]:
    """The fiscal year a file is for: the one it declares, else the latest of the values it holds ([] if none)."""
    read = decision.read
    if read is not None and read.declared_fiscal_year:
        return [read.declared_fiscal_year]
    records = decision.assessment.records if decision.assessment else []
    return sorted({r["fiscal_year"] for r in records if r.get("fiscal_year")})[-1:]


def is_survey(decision, catalogue) -> bool:
    """A local government's survey sheet (調査票), not a department's return sheet (報告様式)."""
    assessment = decision.assessment
    if assessment is not None and (assessment.local_government or assessment.read.survey):
        return True
    return decision.candidate.department in catalogue.local_governments_by_name


def outcome_text(decision) -> str:
    """What came of a file, for the subject: 受理、受理(警告 1件)、差戻し(エラー 2件)、受理済みと同一(提出番号 7)."""
    errors = sum(1 for i in decision.issues if i.severity == ERROR)
    if decision.status == "rejected":
        return f"差戻し(エラー {errors}件)"
    if decision.status == "duplicate":
        return f"受理済みと同一(提出番号 {decision.duplicate_of})"
    warnings = len(decision.issues) - errors
    return "受理" + (f"(警告 {warnings}件)" if warnings else "")


def addressee(decision, catalogue, years: list[int]) -> str:
    """Whom a file's mail is to: its folder's unit, but after a reorganisation (組織改正) the department the file was
    taken as, whose folder the old one's is (危機管理部 → 危機管理局): its name and its addresses."""
    folder = decision.candidate.department or ""
    if folder not in catalogue.departments:  # a local government's folder (or one the catalogue does not know)
        return folder
    taken = decision.assessment.department if decision.assessment is not None else None
    if taken in catalogue.departments:
        return taken
    return (catalogue.successor_in(folder, years[0]) if years else None) or folder  # a duplicate: by its year


def receipt(decision, catalogue, mail: Mail, run_id: int, years: list[int], *, moved: str | None = None,
            attachment: tuple[str, bytes] | None = None, kept_back: str | None = None) -> EmailMessage:
    """The mail for one file a run decided, of fiscal ``years`` (:func:`fiscal_years`, or a duplicate's original's),
    to its :func:`addressee`. ``moved``: where the rejected original went (inbox/<部局>/rejected/...);
    ``attachment``: the annotated copy (its name in rejected/, its bytes); ``kept_back``: why a copy that exists is
    not attached (its size). A local government is told no folder nor command: it submits as it always has."""
    cand = decision.candidate
    unit = addressee(decision, catalogue, years)
    survey = is_survey(decision, catalogue)
    form = FORMS[survey]
    lines = [f"{unit} ご担当者様", "",
             f"提出いただいた{form}の取込結果をお知らせします(取込の実行番号 {run_id}、提出番号 {decision.submission_id})。",
             f"受付日時: {cand.received_at:%Y-%m-%d %H:%M}", ""]
    if decision.status == "rejected":
        lines += error_list_text(cand.path.name, unit, decision.issues, local_government=survey).split("\r\n")
        if attachment:
            lines += [f"エラーのあるセルに色とコメントを付けたコピー({attachment[0]})を添付しました"
                      "(シート「エラー一覧」にも一覧があります)。"]
        elif kept_back:
            lines += [f"エラー箇所を示したコピーは{kept_back}ため添付していません。" +
                      ("必要な場合は、このメールに返信してください。" if survey else "下のフォルダにあります。")]
        elif decision.copy_skipped:
            lines += [f"エラー箇所を示したコピーは作成していません: {decision.copy_skipped}"]
        if moved and not survey:
            beside = "エラー一覧とエラー箇所のファイル" if attachment or kept_back else "エラー一覧"
            lines += [f"提出されたファイルは {moved} に移動しました({beside}も同じフォルダにあります)。"]
    elif decision.status == "duplicate":
        lines += [f"提出ファイル: {cand.path.name}",
                  f"結果: 同じ内容のファイルを受理済みです(提出番号 {decision.duplicate_of})。取り込み直しはしていません。",
                  "値を直した場合は、直したファイルを提出してください。"]
    else:
        warnings = [i for i in decision.issues if i.severity != ERROR]
        lines += [f"提出ファイル: {cand.path.name}",
                  "結果: 受理しました。" + (f"確認していただきたい点(警告)が {len(warnings)}件あります。" if warnings else ""),
                  "受理した調査票は、原本のまま保管しています。" if survey
                  else "受理したファイルは受付フォルダから取り除きました(原本は保管しています)。",
                  "", "読み取った内容:", *check_lines(decision.assessment, catalogue, cand.path.name)]
        if warnings:
            lines += ["", "警告は受理を妨げませんが、値をご確認ください。誤りがあれば、直したファイルをもう一度提出してください。"]
    message = compose(mail, subject(unit, years, form, outcome_text(decision)),
                      "\n".join([*lines, "", "-- ", SIGNATURE]), f"submission{decision.submission_id}")
    if attachment:
        message.add_attachment(attachment[1], *XLSX, filename=_one_line(attachment[0]))
    return message


def reminder_subject(unit: str, survey: bool, owed, due: dt.date, today: dt.date) -> str:
    """【進捗】総務部 R5年度 報告様式: 提出期限(6月30日)まであと7日 / …を7日過ぎています; a unit owing several years:
    【進捗】総務部 R4年度・R5年度 報告様式: R5年度の提出期限(6月30日)まであと7日. ``due``: the due date that brought
    the reminder today."""
    days = (due - today).days
    when = f"提出期限({due.month}月{due.day}日)"
    if len(owed) > 1:
        when = f"{fiscal_year_label(max(y for y, d, _ in owed if d == due))}の{when}"
    outcome = f"{when}まであと{days}日" if days > 0 else f"{when}は本日です" if days == 0 else f"{when}を{-days}日過ぎています"
    return subject(unit, [y for y, _, _ in owed], FORMS[survey], outcome)


def reminder(unit: str, survey: bool, owed: list[tuple[int, dt.date, tuple[str, ...]]], due: dt.date, today: dt.date,
             mail: Mail) -> EmailMessage:
    """A reminder to a department or local government that has not reported: ``owed`` is every fiscal year it still
    owes, with its due date and the KPIs still missing (as ``shinchoku status --overdue`` lists them); ``due``: the
    due date that brought it today. A local government is not told of folders: it submits as it always has."""
    form = FORMS[survey]
    lines = [f"{unit} ご担当者様", "", f"DX推進計画の実績について、次の{form}がまだ届いていません。", ""]
    for year, year_due, missing in sorted(owed):
        days = (year_due - today).days
        state = f"あと{days}日" if days > 0 else "本日が期限です" if days == 0 else "期限を過ぎています"
        lines += [f"- {fiscal_year_label(year)}: 提出期限 {year_due.isoformat()}({state})",
                  f"  未報告の指標: {'、'.join(missing)}"]
    how = (f"{form}を記入し、これまでと同じ方法で提出してください。" if survey
           else f"{form}を記入し、受付フォルダ(inbox)の {unit} のフォルダに保存してください。")
    lines += ["", how + "すでに提出済みの場合は、行き違いですのでご容赦ください。"]
    return compose(mail, reminder_subject(unit, survey, owed, due, today), "\n".join([*lines, "", "-- ", SIGNATURE]),
                   f"reminder{today:%Y%m%d}")


def test_mail(mail: Mail, to: str, sent_at: dt.datetime) -> EmailMessage:
    """The mail of ``shinchoku mail-test``: one message through the configured relay, to whoever tries it."""
    lines = ["shinchoku(DX推進計画の進捗管理)からのテストメールです。", "",
             f"送信日時: {sent_at:%Y-%m-%d %H:%M}", f"中継サーバー: {mail.host}:{mail.smtp_port}({mail.security})",
             f"差出人: {mail.sender}", f"宛先: {to}", "",
             "このメールが届いていれば、部局・団体への受付結果と督促も同じ経路で送られます。"
             "文字化けがないか、差出人と返信先(Reply-To)も確認してください。"]
    return compose(mail, "【進捗】メール送信のテスト", "\n".join([*lines, "", "-- ", SIGNATURE]), "test")


def compose(mail: Mail, title: str, body: str, key: str) -> EmailMessage:
    """A mail from the DX office (From, Reply-To, Message-ID, Auto-Submitted), its body made safe. The recipients
    (To) and the Date are set when it is sent (:func:`shinchoku.run.mail.send_mail`)."""
    message = EmailMessage(policy=SMTP)
    message["From"] = mail.sender
    message["Reply-To"] = mail.reply_to or mail.sender
    message["Subject"] = title
    message["Message-ID"] = make_msgid(idstring=f"shinchoku.{key}", domain=domain(mail))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    message.set_content(terminal_safe(body), charset="utf-8", cte="base64")
    return message


def domain(mail: Mail) -> str:
    """The sender's domain: the right-hand side of every Message-ID (no DNS lookup, as make_msgid's default would)."""
    return parseaddr(mail.sender or "")[1].rpartition("@")[2] or "shinchoku.invalid"
