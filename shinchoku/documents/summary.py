"""The run summary: a short text for the terminal and a markdown table for Prefect."""

from __future__ import annotations

from typing import NamedTuple

from ..workbook.messages import ERROR
from ..workbook.parse import era_year, fiscal_year_label
from ..workbook.text import terminal_safe
from .facts import MAX_NAMES_SHOWN, REJECTED, UNREPORTED, coverage, missing_units
from .mail import MAIL_STATUS_JA

STATUS_JA = {"accepted": "受理", "rejected": "差戻し", "duplicate": "重複"}
SKIP_JA = {"lock": "Excelのロックファイル", "hidden": "隠しファイル", "temporary": "一時ファイル",
           "settling": "更新直後(コピー中の可能性)", "symlink": "シンボリックリンク(読みません)",
           "not a regular file": "通常のファイルではありません", "unreadable": "読み取れません(権限)",
           "changed during the run": "取込中に更新されたため次回処理"}
MAX_ISSUES_SHOWN = 5
MAX_SETTLING_SHOWN = 3


def _name(decision) -> str:
    cand = decision.candidate
    return f"{cand.department}/{cand.path.name}" if cand.department else cand.path.name


def _settling(skipped) -> list:
    return [path for path, why in skipped if why == "settling"]


def receipt_line(discovery) -> str:
    """The run's first count, for the terminal and the flow's log alike: 受付: 処理対象 N 件、保留 M 件、対象外 K 件
    (保留: files within the settle time, taken in by the next run; a zero 保留 or 対象外 is left out)."""
    held = len(_settling(discovery.skipped))
    other = len(discovery.skipped) - held
    return f"受付: 処理対象 {len(discovery.candidates)} 件" + (f"、保留 {held} 件" if held else "") + \
        (f"、対象外 {other} 件" if other else "")


def settling_line(skipped) -> str | None:
    """What waits out the settle time, and how to take it in now; None when nothing does."""
    held = _settling(skipped)
    if not held:
        return None
    names = "、".join(f"{p.parent.name}/{p.name}" for p in held[:MAX_SETTLING_SHOWN])
    if len(held) > MAX_SETTLING_SHOWN:
        names += f" …ほか {len(held) - MAX_SETTLING_SHOWN} 件"
    return terminal_safe(f"保留: 更新直後のファイル {len(held)} 件({names})は次回の取込で処理します。"
                         "今すぐ取り込むには shinchoku run --settle-seconds 0")


def summary_text(summary) -> str:
    """Lines for the terminal: counts, then every rejected file with its first problems; a control character
    a department wrote (in a cell, in a file name) is shown, never sent (text.terminal_safe)."""
    lines = [
        f"取込結果(実行番号 {summary.run_id}): 受理 {summary.count('accepted')} 件、"
        f"差戻し {summary.count('rejected')} 件、重複 {summary.count('duplicate')} 件、"
        f"更新された指標・年度 {len(summary.kpis_updated)} 件",
    ]
    for decision in summary.decisions:
        if decision.status != "rejected":
            continue
        errors = [i for i in decision.issues if i.severity == ERROR]
        lines.append(f"  差戻し: {_name(decision)}(エラー {len(errors)} 件)")
        for issue in errors[:MAX_ISSUES_SHOWN]:
            lines.append(f"    {issue.location()}: {issue.message}")
        if len(errors) > MAX_ISSUES_SHOWN:
            lines.append(f"    …ほか {len(errors) - MAX_ISSUES_SHOWN} 件")
        for path in [*filter(None, [getattr(summary, "moved", {}).get(decision.submission_id)]),
                     *summary.feedback.get(decision.submission_id, [])]:
            lines.append(f"    → {path}")
        if getattr(decision, "copy_skipped", None):
            lines.append(f"    エラー箇所のコピーなし: {decision.copy_skipped}")
    lines += refused_lines(summary)
    warned = [d for d in summary.decisions if d.status == "accepted" and d.issues]
    if warned:
        count = sum(len(d.issues) for d in warned)
        lines.append(f"  警告: 受理した {len(warned)} 件のファイルに確認が必要な値が {count} 件あります"
                     "(validation_issues ビュー、または shinchoku report のデータ品質シート)")
    for decision in summary.decisions:
        if decision.status == "duplicate":
            lines.append(f"  重複: {_name(decision)}(提出番号 {decision.duplicate_of} と同一内容のため取り込みません)")
    for path, why in summary.skipped:
        if why in ("symlink", "not a regular file", "unreadable", "changed during the run"):
            lines.append(f"  対象外: {path}({SKIP_JA[why]})")
    settling = settling_line(summary.skipped)
    if settling:
        lines.append(f"  {settling}")
    lines.append(f"ウェアハウス: {summary.warehouse}")
    lines += mail_lines(summary)
    lines += site_lines(summary)
    return terminal_safe("\n".join(lines))


def rejection_lines(summary) -> list[str]:
    """One line per rejected file for the flow run's log (the Prefect UI): department, file name and the codes of
    its errors with their cells, e.g. 差戻し: 教育庁/R5_実績報告.xlsx(エラー 1 件: value_not_numeric 実績報告!E7)."""
    lines = []
    for decision in summary.decisions:
        if decision.status != "rejected":
            continue
        errors = [i for i in decision.issues if i.severity == ERROR]
        codes = "、".join(f"{i.code} {i.location()}" for i in errors[:MAX_ISSUES_SHOWN])
        if len(errors) > MAX_ISSUES_SHOWN:
            codes += f" …ほか {len(errors) - MAX_ISSUES_SHOWN} 件"
        lines.append(terminal_safe(f"差戻し: {_name(decision)}(エラー {len(errors)} 件" + (f": {codes})" if codes else ")")))
    return lines


def refused_lines(summary) -> list[str]:
    """Folders whose rejected/ the run would not use (a link, a file, another user's folder): their rejected
    files were left where they are."""
    return [f"  移動せず: {folder or 'inbox直下'}/rejected が{why}ため、そのフォルダの差戻しファイルを受付フォルダに残しました"
            "(エラー一覧・エラー箇所ファイルも置いていません)。rejected を削除すると、次回の取込で作り直します。"
            for folder, why in getattr(summary, "refused", {}).items()]


def site_lines(summary) -> list[str]:
    """The progress site after the run: where each edition is, or why it was not rebuilt."""
    if summary.site_error:
        return [f"進捗サイトの作成に失敗しました({summary.site_error})。取込とウェアハウスの更新は完了しています。"
                "前回のサイトがそのまま残っています。"]
    return list(summary.site)


RESEND = "次回の取込で再送します"
RESEND_REMINDER = "本日中に shinchoku remind を再実行すると再送します"  # a reminder is sent on its day or never


def mail_line(outcome) -> str:
    """The mail step's line: メール: 送信 2 件、送信失敗 1 件(次回の取込で再送します)."""
    if not outcome.enabled:
        return "メール: 送信しません(メール送信は無効です)"
    receipts = [f for f in outcome.failed if f.kind != "reminder"]
    reminders = [f for f in outcome.failed if f.kind == "reminder"]
    parts = [f"送信 {len(outcome.sent)} 件"]
    for items, words in ((receipts, f"送信失敗 {{}} 件({RESEND})"), (reminders, f"督促の送信失敗 {{}} 件({RESEND_REMINDER})"),
                         (outcome.unknown, "送信結果不明 {} 件(再送しません)"), (outcome.no_address, "宛先なし {} 件"),
                         (outcome.expired, "期限切れ {} 件(送りません)")):
        if items:
            parts.append(words.format(len(items)))
    return "メール: " + "、".join(parts)


def _by_reason(items, label: str) -> list[str]:
    """Mails that did not go, by their reason: one line for a reason of one mail (「送信失敗: 件名(理由)」), else the
    reason once and its mails under it (a relay down fails them all alike)."""
    reasons: dict[str, list] = {}
    for item in items:
        reasons.setdefault(item.why, []).append(item)
    lines = []
    for why, same in reasons.items():
        if len(same) == 1:
            lines.append(f"  {label}: {same[0].subject}({why})")
            continue
        lines.append(f"  {label} {len(same)} 件: {why}")
        lines += [f"    {item.subject}" for item in same[:MAX_MAIL_SHOWN]]
        if len(same) > MAX_MAIL_SHOWN:
            lines.append(f"    …ほか {len(same) - MAX_MAIL_SHOWN} 件")
    return lines


def mail_lines(summary) -> list[str]:
    """The mail after the run: the step's line, and each mail that did not go with why (none when mail is off)."""
    if getattr(summary, "mail_error", None):
        return [f"メールの送信処理に失敗しました({summary.mail_error})。取込とウェアハウスの更新は完了しています。"
                "送信待ちのメールは次回の取込で送ります。"]
    outcome = getattr(summary, "mail", None)
    if outcome is None or not outcome.enabled:
        return []
    return [mail_line(outcome), *_by_reason(outcome.failed, "送信失敗"),
            *(f"  送信結果不明: {subject}(前回、送信中に処理が中断されました。届いたかを宛先に確認してください)"
              for subject in outcome.unknown),
            *_by_reason(outcome.no_address, "宛先なし")]


SECURITY_JA = {"starttls": "STARTTLS", "ssl": "SSL/TLS", "none": "暗号化なし"}
MAIL_COUNTS_SQL = "select status, count(*) from raw_mail group by status"
# the mail that did not go: each failed or unknown one, newest first, and the units without an address
MAIL_TROUBLE_SQL = """
    select status, kind, send_on, subject, attempts, last_attempt_at, error from raw_mail
    where status in ('failed', 'unknown') order by coalesce(last_attempt_at, queued_at) desc, mail_id"""
NO_ADDRESS_SQL = """
    select unit, error, kind, send_on, count(*) from raw_mail where status = 'no_address'
    group by all order by unit, error, kind, send_on"""
MAX_MAIL_SHOWN = 10


def login_text(mail, prefect_api: str | None = None) -> str:
    """How the mail logs in, as status says it: 認証なし, or the user and where its password comes from (or that it
    has none, so that every mail would fail)."""
    if not mail.user:
        return "認証なし"
    text = f"認証 {mail.user}"
    if mail.security == "none":
        text += "。注意: 暗号化なしの接続でログインするため、パスワードが暗号化されずに流れます(security = \"starttls\" を推奨)"
    if mail.password:
        return text
    if mail.password_secret:
        where = f"パスワードは Prefect の Secret ブロック {mail.password_secret} から読みます"
        if not prefect_api:
            where += ("。PREFECT_API_URL が設定されていません: ブロックを保存した Prefect サーバーを指定してください"
                      "(未設定では見つからず、送信できません)")
        return f"{text}。{where}"
    return (f"{text}。パスワードが設定されていません(環境変数 SHINCHOKU_MAIL_PASSWORD か、password_secret に Prefect の "
            "Secret ブロック): このままではすべてのメールが送信失敗になります")


def mail_status(con, mail, unrecorded: bool = False, *, today=None, catalogue=None, prefect_api: str | None = None
                ) -> list[str]:
    """`shinchoku status`'s mail lines: on or off (and through which server, logging in how), how many mails are in
    each state, and each that did not go, with why and whether it goes again. ``con``: the warehouse (None when there
    is none yet); ``unrecorded``: a mail journal waits to be recorded (a process was killed while sending); ``today``:
    JST's date (a failed reminder goes again that day only); ``catalogue``: its addresses that are none are named."""
    if mail.enabled:
        lines = [f"メール送信: 有効({mail.host}:{mail.smtp_port}、{SECURITY_JA[mail.security]}、"
                 f"{login_text(mail, prefect_api)}、差出人 {mail.sender})"]
        for unit, bad in (catalogue.bad_contacts if catalogue is not None else []):
            lines.append(f"  宛先の形式が正しくありません: {unit} {bad!r}(catalogue の email。その宛先には送りません。"
                         "shinchoku catalogue check で確認できます)")
    else:
        lines = ["メール送信: 無効(設定 [mail] の host がないため、メールは送りません)"]
    has_table = con is not None and con.execute(
        "select count(*) from duckdb_tables() where table_name = 'raw_mail'").fetchone()[0]
    if not has_table:
        return [terminal_safe(line) for line in lines]
    counts = dict(con.execute(MAIL_COUNTS_SQL).fetchall())
    if counts:
        lines.append("  " + "・".join(f"{MAIL_STATUS_JA[s]} {counts[s]} 件" for s in MAIL_STATUS_JA if counts.get(s)))

    def again(kind: str, send_on, then: str = "") -> str:
        """Whether (and when) a mail that did not go goes again; ``then``: what must happen first."""
        if kind == "reminder":
            return then + RESEND_REMINDER if send_on is not None and send_on == today else \
                "督促の日を過ぎたため再送しません(次回の取込で期限切れとして記録します)"
        return then + RESEND if mail.enabled else "メール送信を有効にすると次回の取込で再送します"

    trouble = con.execute(MAIL_TROUBLE_SQL).fetchall()
    reasons: dict[str, list[tuple[str, str, str]]] = {}  # a failed mail's error -> (subject, its tries, again)
    for status, kind, send_on, subject, attempts, last, error in trouble[:MAX_MAIL_SHOWN]:
        when = f"{last:%Y-%m-%d %H:%M}" if last else "-"
        if status == "failed":
            reasons.setdefault(error or "", []).append((subject, f"{attempts}回、最終 {when}", again(kind, send_on)))
        else:
            lines.append(f"  送信結果不明: {subject}({when} 送信中に処理が中断されました。届いたかを宛先に確認してください。"
                         "再送はしません)")
    for error, same in reasons.items():  # a relay down fails every mail alike: its reason once
        if len(same) == 1:
            [(subject, tries, resend)] = same
            lines.append(f"  送信失敗: {subject}({tries}: {error})。{resend}")
            continue
        lines.append(f"  送信失敗 {len(same)} 件: {error}")
        lines += [f"    {subject}({tries})。{resend}" for subject, tries, resend in same]
    if len(trouble) > MAX_MAIL_SHOWN:
        lines.append(f"  …ほか {len(trouble) - MAX_MAIL_SHOWN} 件")
    for unit, error, kind, send_on, count in con.execute(NO_ADDRESS_SQL).fetchall():
        lines.append(f"  宛先なし: {unit} {count} 件({error or 'catalogue の email に宛先がありません'}。"
                     f"{again(kind, send_on, 'departments.csv か local_governments.csv の email を直して、')})")
    if unrecorded:
        lines.append("  送信の記録がまだウェアハウスに反映されていません(次回の取込か shinchoku remind で反映します)")
    return [terminal_safe(line) for line in lines]


# the artifact's table of files: the rejected first, then those with warnings, then the rest, up to this many rows (a
# night of 10,000 files is a count, not a table to read; and the artifact Prefect stores stays one size)
ARTIFACT_FILES = 100


def summary_markdown(summary) -> str:
    """A markdown table of the files (the rejected, with warnings, then the rest; at most ARTIFACT_FILES rows, the
    others counted), and the KPIs updated."""
    rows = ["| 部局 | ファイル | 結果 | エラー | 警告 | 提出番号 |", "|---|---|---|---|---|---|"]
    order = {"rejected": 0, "accepted": 1, "duplicate": 2}
    ranked = sorted(summary.decisions, key=lambda d: (order.get(d.status, 3), not d.issues))  # stable: the run's order
    for d in ranked[:ARTIFACT_FILES]:
        errors = sum(1 for i in d.issues if i.severity == ERROR)
        rows.append(f"| {_md(d.candidate.department or '(inbox直下)')} | {_md(d.candidate.path.name)} | "
                    f"{STATUS_JA[d.status]} | {errors} | {len(d.issues) - errors} | {d.submission_id} |")
    rest = ranked[ARTIFACT_FILES:]
    if rest:
        counts = "、".join(f"{STATUS_JA[s]} {n} 件" for s in STATUS_JA if (n := sum(d.status == s for d in rest)))
        rows.append(f"\nほか {len(rest)} 件({counts})。すべてのファイルはビュー submissions にあります。")
    kpis = ", ".join(f"{k} ({y})" for k, y in summary.kpis_updated) or "なし"
    skipped = "".join(f"\n- {_md(str(p))}: {SKIP_JA.get(why, why)}" for p, why in summary.skipped if why != "settling")
    settling = settling_line(summary.skipped)
    return (
        f"# shinchoku 取込結果(実行番号 {summary.run_id})\n\n"
        f"受理 {summary.count('accepted')} 件 / 差戻し {summary.count('rejected')} 件 / "
        f"重複 {summary.count('duplicate')} 件\n\n" + "\n".join(rows) +
        f"\n\n## 更新された指標(年度)\n\n{kpis}\n" + (f"\n## 保留のファイル\n\n{_md(settling)}\n" if settling else "") +
        (f"\n## 対象外のファイル\n{skipped}\n" if skipped else "") +
        ("\n## 移動しなかった差戻しファイル\n\n" + "\n".join(f"- {_md(line.strip())}" for line in refused_lines(summary)) + "\n"
         if refused_lines(summary) else "") +
        ("\n## メール\n\n" + "\n".join(f"- {_md(line.strip())}" for line in mail_lines(summary)) + "\n"
         if mail_lines(summary) else "") +
        ("\n## 進捗サイト\n\n" + "\n".join(f"- {_md(line)}" for line in site_lines(summary)) + "\n"
         if summary.site or summary.site_error else "")
    )


def _md(text: str) -> str:
    return terminal_safe(text.replace("|", "\\|").replace("\n", " "))


def table(headers: list[str], rows: list[list]) -> str:
    """A plain terminal table (rich), Japanese text lined up by its display width."""
    from io import StringIO

    from rich import box
    from rich.console import Console
    from rich.table import Table

    grid = Table(*headers, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="", highlight=False)
    for row in rows:
        grid.add_row(*("" if v is None else str(v) for v in row))
    out = StringIO()
    Console(file=out, width=10_000, color_system=None, highlight=False).print(grid)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines() if line.strip())


# every department's and local government's year, read once (the view costs more to plan than to read): a local
# government's leading fields are what it owes and what is missing (a government row: fiscal_year, due_date, name,
# kpis_expected, missing_kpi_ids, on_time, overdue, rejected), then unit_kind, kpis_reported, whether it is
# unconfirmed and whether the catalogue lists the local government; by year, the local governments in the catalogue's
# order, the departments by name. "Past the due date" on a day: the parameter, or today (the database's current_date)
# when it is NULL
STATUS_SQL = """
    select s.fiscal_year, s.due_date, s.department, s.kpis_expected, s.missing_kpi_ids, s.on_time,
           coalesce(?::date, current_date) > s.due_date as overdue, len(s.rejected_kpi_ids) > 0 as rejected,
           s.unit_kind, s.kpis_reported, s.confirmed_at is null as unconfirmed, g.code is not null as listed
    from submission_status s left join ref_local_governments g on g.code = s.local_government
    order by s.fiscal_year, g.row_order, s.department"""
# each computed KPI's coverage in the years a report is due (after its baseline, up to its target, ended): the
# prefecture-wide aggregate and the local governments that have not reported (and those whose sheet was rejected),
# listed for every KPI and year at once; of the years submission_status has (_coverage keeps those: a subquery on it
# here cost more than the rest of the query)
COVERAGE_SQL = """
    with names as (
        select v.kpi_id, v.fiscal_year,
               list(v.name order by g.row_order) filter (where not v.reported) as missing,
               list(v.name order by g.row_order) filter (where v.sheet_status = '差戻し') as rejected
        from local_government_values v join ref_local_governments g using (code)
        group by all)
    select a.kpi_id, a.fiscal_year, a.units_reported, a.units_expected, a.complete,
           coalesce(n.missing, []::varchar[]), coalesce(n.rejected, []::varchar[])
    from kpi_aggregates a
    join kpi_year_definitions d using (kpi_id, fiscal_year)
    left join names n using (kpi_id, fiscal_year)
    where a.scope_kind = '県全体' and d.fiscal_year > d.baseline_fy and (d.target_fy is null or d.fiscal_year <= d.target_fy)
      and (? is null or a.fiscal_year = ?)
    order by a.fiscal_year, a.kpi_id"""


def coverage_line(kpi_id: str, year: int, reported: int, expected: int, complete: bool, missing: list[str],
                  rejected: list[str] = (), limit: int | None = MAX_NAMES_SHOWN) -> str:
    """GOV-K01 R6: 集計中 57/60団体(未提出: 鮫川村、昭和村 / 差戻し: 金山町), or GOV-K01 R6: 60/60団体(そろっています).
    ``rejected``: those of ``missing`` whose survey sheet was rejected (local_government_values.sheet_status)."""
    if complete:
        return f"{kpi_id} {era_year(year)}: {reported}/{expected}団体(そろっています)"
    return f"{kpi_id} {era_year(year)}: {coverage(reported, expected)}({missing_units(missing, rejected, limit)})"


def _unit(name: str, expected: int, missing: list[str]) -> str:
    """A local government that has not reported: its name, with the KPIs it still owes if it owes others too."""
    return name if len(missing) == expected else f"{name}({'、'.join(missing)})"


def _missing_text(missing: list[tuple], every: list[tuple], label: str = UNREPORTED) -> str:
    """The local governments of one year that owe a survey sheet (GOVERNMENTS_SQL rows), of all those expected that
    year: 未提出 2団体: 檜枝岐村(EDU-K01)、鮫川村, then those whose sheet was rejected (差戻し 1団体: 金山町), or
    未提出 59団体すべて (none has reported yet: the names would say nothing); ``label`` heads the first group."""
    year = missing[0].fiscal_year
    expected = [r for r in every if r.fiscal_year == year]
    head = f"{label} " if label else ""
    if len(missing) == len(expected) and all(len(r.missing_kpi_ids) == r.kpis_expected and not r.rejected for r in missing):
        return f"{head}{len(missing)}団体すべて(まだ報告がありません)"
    groups = [(head, [r for r in missing if not r.rejected]), (f"{REJECTED} ", [r for r in missing if r.rejected])]
    return " / ".join(f"{h}{len(units)}団体: " + "、".join(_unit(r.unit, r.kpis_expected, list(r.missing_kpi_ids))
                                                         for r in units)
                      for h, units in groups if units)


def government_lines(con, year: int | None = None) -> list[str]:
    """shinchoku status for the local governments: one line per fiscal year (how many owe a survey sheet, reported,
    on time, and every one that has not reported), then each computed KPI's coverage that year."""
    status = _status(con)
    rows = [r for r in _governments(status) if year is None or r.fiscal_year == year]
    coverage = _coverage(con, status, year)
    lines = []
    for fy in sorted({r.fiscal_year for r in rows}):
        units = [r for r in rows if r.fiscal_year == fy]
        missing = [u for u in units if u.missing_kpi_ids]
        line = (f"{fiscal_year_label(fy)}(期限 {units[0].due_date.isoformat()}): 報告対象 {len(units)}団体、"
                f"報告済 {len(units) - len(missing)}団体(期限内 {sum(1 for u in units if u.on_time)})")
        lines.append(line + (f"、{_missing_text(missing, rows)}" if missing else ""))
        lines += [f"  {coverage_line(*r)}" for r in coverage if r[1] == fy]
    return lines


class StatusRow(NamedTuple):
    """A row of STATUS_SQL: a department's or a local government's (``unit``) fiscal year."""

    fiscal_year: int
    due_date: object
    unit: str
    kpis_expected: int
    missing_kpi_ids: list
    on_time: bool | None
    overdue: bool
    rejected: bool
    unit_kind: str
    kpis_reported: int
    unconfirmed: bool
    listed: bool  # a local government of ref_local_governments


def _status(con, on=None) -> list[StatusRow]:
    """STATUS_SQL's rows, past the due date as of ``on`` (None: today)."""
    return [StatusRow(*r) for r in con.execute(STATUS_SQL, [on]).fetchall()]


def _governments(status: list[StatusRow]) -> list[StatusRow]:
    """The local governments' rows of STATUS_SQL."""
    return [r for r in status if r.unit_kind == "団体" and r.listed]


def _coverage(con, status: list[tuple], year: int | None = None) -> list[tuple]:
    """COVERAGE_SQL's rows (of ``year``, or every year) in the years submission_status has (``status``: its rows)."""
    years = {r.fiscal_year for r in status}
    return [r for r in con.execute(COVERAGE_SQL, [year, year]).fetchall() if r[1] in years]


def overdue(con, on=None, status: list[tuple] | None = None) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Who is past the due date on a day (``on``, a date; None: today) with something missing: the departments
    (department, fiscal year, missing KPI ids, due date) and the local governments (government rows of STATUS_SQL),
    with every local government's row of every year besides. The morning list and ``shinchoku remind`` both ask this
    one question (``status``: STATUS_SQL's rows as of ``on``, when already read)."""
    status = _status(con, on) if status is None else status
    departments = [(r.unit, r.fiscal_year, r.missing_kpi_ids, r.due_date) for r in status
                   if r.unit_kind == "部局" and r.missing_kpi_ids and r.overdue]
    every = _governments(status)
    return departments, [r for r in every if r.overdue and r.missing_kpi_ids], every


def to_do(warehouse) -> str:
    """The DX office's morning list: departments past their due date with missing KPIs, local governments past it
    without their survey sheet, computed KPIs still 集計中, and years waiting for confirmation.
    `shinchoku status --overdue` prints it; the nightly flow's artifact carries it."""
    from .. import database

    con = database.connect(warehouse)
    try:
        status = _status(con)
        overdue_departments, governments, every = overdue(con, status=status)
        waiting = [(r.unit, r.fiscal_year, r.kpis_reported, r.kpis_expected) for r in status
                   if r.unit_kind == "部局" and r.unconfirmed and (r.kpis_reported or 0) > 0]
        aggregating = [r for r in _coverage(con, status) if not r[4]]
    finally:
        con.close()
    lines = ["期限を過ぎて未報告の指標がある部局:"]
    lines += [f"- {d} {fiscal_year_label(fy)}(期限 {due.isoformat()}): {'、'.join(missing)}"
              for d, fy, missing, due in overdue_departments] or ["- なし"]
    lines += ["", "期限を過ぎて調査票を受理していない団体(未提出・差戻し):"]
    for fy in sorted({r.fiscal_year for r in governments}):
        units = [r for r in governments if r.fiscal_year == fy]
        lines.append(f"- {fiscal_year_label(fy)}(期限 {units[0].due_date.isoformat()}) {_missing_text(units, every, '')}")
    if not governments:
        lines.append("- なし")
    lines += ["", "集計中の指標(報告すべき団体がそろっていない):"]
    lines += [f"- {coverage_line(*r)}" for r in aggregating] or ["- なし"]
    lines += ["", "確定待ちの部局・年度:"]
    lines += [f"- {d} {fiscal_year_label(fy)}(報告 {reported}/{expected})" for d, fy, reported, expected in waiting] \
        or ["- なし"]
    return "\n".join(lines)
