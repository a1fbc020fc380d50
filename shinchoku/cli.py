"""The ``shinchoku`` command. Heavy imports (Prefect, DuckDB, pandas, openpyxl) happen only in the commands that
need them: the imports inside the ``cmd_*`` functions are there for start-up time (``check`` and ``--help`` stay
fast), never to dodge an import circle. Prefect's side (its environment, running the flow, serving it, its REST
API) is :mod:`flows.server`.

Exit status: 0 nothing rejected; 1 a file was rejected (or has errors, for
check); 2 usage or configuration error; 3 another run holds the warehouse;
4 the run failed (nothing was published; the next run starts afresh); 141 the output's reader went away
(piped into ``head``), quietly.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import sys
from pathlib import Path

from .catalogue import ENCODINGS, CatalogueError, CatalogueUnreadable, load_catalogue
from .config import ConfigError, find_project
from .documents.facts import CONTRACT_VIEWS
from .documents.verdict import check_lines
from .run.confirmed import read_confirmed_periods
from .run.jumps import read_value_history
from .run.decide import judge
from .settings import load_settings
from .workbook.parse import era_year, parse_fiscal_year
from .workbook.text import terminal_safe

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_LOCKED, EXIT_FAILED = 0, 1, 2, 3, 4
EXPORTABLE_VIEWS = CONTRACT_VIEWS  # export writes the analysts' contract, the list the docs show


class UsageError(Exception):
    """The command line or configuration cannot be used; exit status 2."""


def fiscal_year_arg(text: str) -> int:
    """--year accepts a Gregorian fiscal year (2022) or R-notation (R4, 令和4年度)."""
    year = parse_fiscal_year(text)
    if year is None:
        raise argparse.ArgumentTypeError(f"年度 {text!r} を読み取れません(例: 2022、R4)")
    return year


def plan_years(catalogue) -> str:
    """The plan's fiscal years as the office reads them: R2年度(2020)〜R7年度(2025)."""
    from .workbook.parse import fiscal_year_label

    first, last = catalogue.first_year, catalogue.last_year
    return f"{fiscal_year_label(first)}({first})〜{fiscal_year_label(last)}({last})"


def check_request(catalogue, year: int | None = None, department: str | None = None) -> None:
    """The one check of a command's --year and --department: a fiscal year of the plan (the catalogue's
    first_year..last_year) and a department that exists in that year (catalogue/departments.csv).
    Anything else is a usage error (exit 2), before any file or warehouse is touched."""
    from .workbook.parse import fiscal_year_label

    if year is not None and not catalogue.first_year <= year <= catalogue.last_year:
        raise UsageError(f"{fiscal_year_label(year)}({year})は計画期間の外です。計画期間: {plan_years(catalogue)}")
    if department is None:
        return
    existing = catalogue.departments_in(year) if year is not None else catalogue.departments
    if department in existing:
        return
    if department in catalogue.departments:  # a past or future department, not in that year
        successor = catalogue.successor_in(department, year)
        raise UsageError(f"部局「{department}」は{fiscal_year_label(year)}にはありません"
                         + (f"(組織改正により「{successor}」)" if successor else "")
                         + f"。{fiscal_year_label(year)}の部局: {'、'.join(existing)}")
    raise UsageError(f"部局「{department}」は部局一覧(catalogue/departments.csv)にありません。部局: {'、'.join(existing)}")


class _JapaneseHelp(argparse.HelpFormatter):
    """argparse's help with its usage line headed in Japanese, like everything else shinchoku prints."""

    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, "使い方: " if prefix is None else prefix)


# argparse's own error sentences (Python 3.11), as the terminal says them in Japanese
_ARGPARSE_ERRORS = (
    (r"the following arguments are required: (.*)", r"次の指定が必要です: \1"),
    (r"unrecognized arguments: (.*)", r"不明な引数です: \1"),
    (r"one of the arguments (.*) is required", r"\1 のどれか1つを指定してください"),
    (r"argument (\S+): not allowed with argument (.*)", r"\1 と \2 は同時に指定できません"),
    (r"argument (\S+): invalid choice: (.*) \(choose from (.*)\)", r"\1: \2 は指定できません(指定できるもの: \3)"),
    (r"argument (\S+): expected one argument", r"\1 には値を1つ指定してください"),
    (r"argument (\S+): invalid (\S+) value: (.*)", r"\1: \3 は正しい値ではありません"),
    (r"argument (\S+): ignored explicit argument (.*)", r"\1 には値を指定できません(\2)"),
    (r"argument (\S+): (.*)", r"\1: \2"),
)


class JapaneseParser(argparse.ArgumentParser):
    """An ArgumentParser whose headings, -h and common errors are in Japanese (subcommands inherit it)."""

    def __init__(self, *args, parents=(), **kwargs):
        kwargs.setdefault("formatter_class", _JapaneseHelp)
        super().__init__(*args, **kwargs)
        self._positionals.title = "引数"
        self._optionals.title = "オプション"
        for action in self._actions:
            if isinstance(action, argparse._HelpAction):
                action.help = "このヘルプを表示して終了します"
        for parent in parents:  # as argparse adds them, after the titles, so that a parent's options join ours
            self._add_container_actions(parent)
            self._defaults.update(parent._defaults)

    def error(self, message):
        import re

        for pattern, japanese in _ARGPARSE_ERRORS:
            if re.fullmatch(pattern, message):
                message = re.sub(pattern, japanese, message)
                break
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: エラー: {message}\n")


def _paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--inbox", metavar="DIR", help="受付フォルダ(既定: inbox/、または SHINCHOKU_INBOX)")
    parser.add_argument("--warehouse", metavar="FILE",
                        help="ウェアハウスの .duckdb ファイル(既定: warehouse/shinchoku.duckdb、または SHINCHOKU_WAREHOUSE)")


def build_parser() -> argparse.ArgumentParser:
    project = JapaneseParser(add_help=False)
    project.add_argument("--project", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                         help="プロジェクトのフォルダ(catalogue/、inbox/、warehouse/ のあるフォルダ)。既定: SHINCHOKU_PROJECT、"
                              "次に現在のフォルダとその上のフォルダ、最後にインストール元のソースツリー")
    parser = JapaneseParser(prog="shinchoku", description="進捗: DX推進計画の指標(KPI)実績を集め、進捗を見える化します。",
                            parents=[project])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="コマンド",
                                help="コマンドごとの説明: shinchoku COMMAND --help")
    add = functools.partial(sub.add_parser, parents=[project])  # --project after the command works too

    def command(name: str, text: str):
        return add(name, help=text, description=text)

    p = command("demo", "全部局のサンプル報告様式と県・市町村の調査票を作り、Prefect のフローで取り込みます(デモ)")
    _paths(p)
    p.add_argument("--fresh", action="store_true", help="以前のデモのウェアハウスと受付フォルダを消してから始めます")

    p = command("run", "受付フォルダを1回取り込みます(Prefect のフローで実行)")
    _paths(p)
    p.add_argument("--settle-seconds", type=float, metavar="SECONDS",
                   help="更新からこの秒数以内のファイルは次回に回します(既定: 60)")
    p.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                   help="別の取込が実行中なら、終了コード 3 で終わらずにこの秒数まで待ちます")
    p.add_argument("--no-prefect", action="store_true",
                   help="Prefect を使わず、同じ手順をこのプロセスで実行します(Prefect の UI には記録されません)")

    p = command("check", "報告様式を run と同じように検証します(何も登録しません)")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="検証する報告様式(.xlsx)")
    p.add_argument("--department", help="ファイルの提出部局(既定: ブックに記録された部局、または親フォルダの名前)")
    p.add_argument("-q", "--quiet", action="store_true", help="問題だけを表示し、読み取った値の一覧は表示しません")
    p.add_argument("--warehouse", type=Path, metavar="FILE",
                   help="確定済みの年度を run と同じように扱う(period_confirmed)ためのウェアハウス。読み取り専用で開きます。"
                        "既定: プロジェクトのウェアハウス(あれば)")

    p = command("template", "部局の報告様式、または県・市町村の調査票を作成します")
    _paths(p)
    p.add_argument("--department", help="部局(指標一覧の所管部局の名前)。--all のときは不要")
    p.add_argument("--local-government", metavar="団体",
                   help="調査票を作成する団体(団体名 または 6桁の団体コード: 郡山市、072036)。--all のときは不要")
    p.add_argument("--year", type=fiscal_year_arg, required=True, metavar="FY", help="年度: 2022 または R4")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="出力する .xlsx(--all のときはフォルダ)")
    p.add_argument("--all", action="store_true",
                   help="全部局の報告様式を -o フォルダ/<部局>/ に、調査票を求める全団体の調査票を -o フォルダ/<団体名>/ に"
                        "作成します(inbox のフォルダと同じ並び)")

    p = command("report", "ビューから進捗報告のブック(Excel、グラフ付き)を作成します")
    _paths(p)
    p.add_argument("--year", type=fiscal_year_arg, metavar="FY", help="報告の年度(既定: 実績のある最新の年度)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="出力する .xlsx")

    p = command("site", "進捗サイト(共有フォルダからオフラインで開ける静的な HTML)を作成します")
    _paths(p)
    p.add_argument("--year", type=fiscal_year_arg, metavar="FY", help="年度(既定: 実績のある最新の年度)")
    p.add_argument("--public", action="store_true",
                   help="県のウェブサイト向けの公開用: 確定値のみで、ファイル名・セル・提出の情報を含みません")
    p.add_argument("-o", "--output", type=Path, metavar="DIR",
                   help="サイトのフォルダ(丸ごと置き換えます。既定: 設定 [site] の folder、--public では public_folder)")

    p = command("export", "ビューを1つ CSV に書き出します(BOM 付き UTF-8。Excel で開けます)")
    _paths(p)
    p.add_argument("view", choices=EXPORTABLE_VIEWS, metavar="VIEW",
                   help="書き出すビュー: " + "、".join(EXPORTABLE_VIEWS))
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="出力する .csv")

    p = command("serve", "毎晩の取込を Prefect のデプロイメントとして登録し、実行します(prefect server start が必要)")
    _paths(p)
    p.add_argument("--cron", help="スケジュール(既定: 0 2 * * *、または SHINCHOKU_SCHEDULE_CRON)")
    p.add_argument("--timezone", help="スケジュールのタイムゾーン(既定: Asia/Tokyo)")

    p = command("verify", "保管したすべての原本のハッシュを計算し直し、記録した sha256 と照合します")
    _paths(p)

    p = command("catalogue", "指標一覧(改定を含む)を点検するか、指標の定義の変遷を表示します")
    p.add_argument("action", choices=("check", "history"), metavar="ACTION",
                   help="check: すべてのファイルと参照を点検 / history: 1つの指標の定義の変遷")
    p.add_argument("kpi_id", nargs="?", metavar="KPI_ID", help="history のとき: 指標ID")

    p = command("status", "提出状況: 部局・年度ごとの報告対象、報告済み、未報告の指標と、団体(市町村等)の調査票の提出と集計の状況")
    _paths(p)
    p.add_argument("--year", type=fiscal_year_arg, metavar="FY", help="この年度だけ")
    p.add_argument("--overdue", action="store_true",
                   help="朝の確認事項: 期限を過ぎた部局と団体、集計中の指標、確定を待つ年度")

    p = command("remind", "提出期限の前後(設定の日数)に、期限を過ぎた・迫った未報告の部局と団体へ督促のメールを送ります"
                          "(同じ相手には1日1回まで)")
    _paths(p)
    p.add_argument("--dry-run", action="store_true", help="送らずに、今日送る督促の件名と宛先を表示します(メール送信が無効でも使えます)")
    p.add_argument("--wait", type=float, default=0, metavar="SECONDS", help="取込の実行中は、この秒数まで待ちます")

    p = command("mail-test", "設定 [mail] の中継サーバーから、指定したアドレスにテストメールを1通送ります"
                             "(部局・団体には送りません。ウェアハウスにも記録しません)")
    p.add_argument("--to", required=True, metavar="ADDRESS", help="テストメールの宛先(自分のアドレス。例 dx-suishin@pref.example.lg.jp)")

    p = command("review", "確定の前に DX推進課が確認する事項: 前回の確定以降の値・取組実績、警告、未報告の指標、要因分析、団体の件数から計算する指標の集計状況と未提出の団体")
    _paths(p)
    p.add_argument("--year", type=fiscal_year_arg, metavar="FY", help="この年度だけ")
    p.add_argument("--department", help="この部局だけ")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="確認リストを .xlsx にも書き出します")

    p = command("confirm", "部局の年度を確定します(以後の提出では変更できません)")
    _paths(p)
    p.add_argument("--year", type=fiscal_year_arg, required=True, metavar="FY", help="年度: 2023 または R5")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--department", help="確定する部局")
    who.add_argument("--all", action="store_true",
                     help="その年度に指標か値のあるすべての部局(すべて確定するか、何も確定しないか)")
    p.add_argument("--by", help="確定する人(既定: OS のユーザー名)")
    p.add_argument("--note", help="確定に添える備考")
    p.add_argument("--allow-missing", action="store_true", help="未報告の指標や、調査票が未提出の団体があっても確定します(記録されます)")
    p.add_argument("--allow-provisional", action="store_true", help="速報・見込・暫定の値も確定します")
    p.add_argument("--wait", type=float, default=0, metavar="SECONDS", help="取込の実行中は、この秒数まで待ちます")

    p = command("reopen", "確定を記録に残して解除し、訂正を受け付けられるようにします")
    _paths(p)
    p.add_argument("--year", type=fiscal_year_arg, required=True, metavar="FY", help="年度: 2023 または R5")
    p.add_argument("--department", required=True, help="部局")
    p.add_argument("--reason", required=True, help="解除の理由(confirmations と audit_log に残ります。空欄は不可)")
    p.add_argument("--by", help="解除する人(既定: OS のユーザー名)")
    p.add_argument("--wait", type=float, default=0, metavar="SECONDS", help="取込の実行中は、この秒数まで待ちます")
    return parser


EXIT_PIPE = 141  # the reader went away (`shinchoku status | head`): as a shell reports a command ended by SIGPIPE


def main(argv: list[str] | None = None) -> int:
    try:
        try:
            return _main(argv)
        finally:  # (argparse's --help and errors leave by SystemExit)
            sys.stdout.flush()  # here, not at the interpreter's exit, where a closed pipe would print a traceback
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_PIPE


def _quiet_stdout() -> None:
    """After the reader of our output went away: what is still buffered goes nowhere, and Python's own flush at exit
    finds nothing to complain about."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a file (a test's capture): nothing is flushed at exit
        pass


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "project", None):
            # Set for the whole process, so every later lookup (and the Prefect flow) finds the same folder.
            os.environ["SHINCHOKU_PROJECT"] = str(args.project.expanduser().absolute())
        find_project()
        return COMMANDS[args.command](args)
    except (UsageError, ConfigError, CatalogueError) as e:
        print(f"shinchoku: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("中断しました", file=sys.stderr)
        return 130


def _settings(args, **extra):
    return load_settings(inbox=getattr(args, "inbox", None), warehouse=getattr(args, "warehouse", None), **extra)


def cmd_template(args) -> int:
    catalogue = load_catalogue()
    check_request(catalogue, args.year, args.department)
    from .documents.template import (expected_components, file_name, previous_year, survey_file_name, write_survey,
                                     write_template)

    government = args.local_government
    if government is not None:
        found = catalogue.local_governments_by_name.get(government) or catalogue.local_governments_by_code.get(government)
        if found is None:
            raise UsageError(f"団体「{government}」は団体一覧(catalogue/local_governments.csv)にありません。")
        if not expected_components(catalogue, found.code, args.year):
            raise UsageError(f"{found.name}には{args.year}年度に調査票で報告を求める項目がありません。")
        if args.all or args.department or not args.output:
            raise UsageError("--local-government には -o を指定してください(--department・--all とは併用できません)")
        print(write_survey(catalogue, found.code, args.year, args.output))
        return EXIT_OK

    settings = _settings(args)
    previous = previous_year(settings.warehouse, args.year)  # 前年度実績・前年度評価, when the warehouse has them
    if args.all:
        if not args.output:
            raise UsageError("--all には配布用のフォルダを -o で指定してください(inbox には置かないでください)")
        base = args.output.resolve()
        if base == settings.inbox.resolve() or settings.inbox.resolve() in base.parents:
            raise UsageError("未記入の報告様式を inbox に置くと、そのまま取り込まれてしまいます。別のフォルダを指定してください。")
        for department in catalogue.departments_in(args.year):
            path = write_template(catalogue, department, args.year,
                                  base / department / file_name(department, args.year), previous)
            print(path)
        for found in catalogue.local_governments:  # the survey sheets, each in its government's folder
            if found.exists_in(args.year) and expected_components(catalogue, found.code, args.year):
                print(write_survey(catalogue, found.code, args.year,
                                   base / found.name / survey_file_name(found.name, args.year)))
        return EXIT_OK
    if not args.department or not args.output:
        raise UsageError("--department と -o を指定してください(全部局分は --all)")
    print(write_template(catalogue, args.department, args.year, args.output, previous))
    return EXIT_OK


def say(line: str) -> None:
    """Print a line holding what a department wrote (file names, cell texts, declared departments): its
    control characters shown, never sent to the terminal."""
    print(terminal_safe(line))


def cmd_check(args) -> int:
    catalogue = load_catalogue()
    settings = load_settings()  # the same limits and worker count as run
    items = []
    for path in args.files:
        if not path.is_file():
            raise UsageError(f"ファイルがありません: {path}")
        department = args.department
        folder = path.resolve().parent.name
        if department is None and (folder in catalogue.departments or folder in catalogue.local_governments_by_name):
            department = folder  # a department's folder, or a local government's (its survey sheet)
        items.append((path, department))
    # confirmed years and the accepted values of earlier years, read as run reads them: from --warehouse, else from
    # the project's warehouse when it exists (opened read-only, never created), so that check says what run would
    warehouse = _need_warehouse(args.warehouse) if args.warehouse else settings.warehouse
    periods = read_confirmed_periods(warehouse) if warehouse.exists() else {}
    history = read_value_history(warehouse) if warehouse.exists() else {}
    worst = EXIT_OK

    for assessment in judge(items, catalogue, settings, periods, history=history):  # as a run judges each file
        for line in check_lines(assessment, catalogue, str(assessment.path), args.quiet):
            say(line)
        if assessment.errors:
            worst = EXIT_REJECTED
    return worst


def cmd_run(args) -> int:
    from flows.server import run_flow
    from .documents.summary import summary_text
    from .run.publish import RunLocked

    settings = _settings(args, settle_seconds=args.settle_seconds)
    catalogue = load_catalogue()  # a bad catalogue is a configuration error, before anything starts
    published = _file_identity(settings.warehouse)
    try:
        if args.no_prefect:  # the flow's very steps, as plain calls
            from .run.steps import run_steps
            from .run.progress import say

            summary = run_steps(_with_mail_password(settings), catalogue, args.wait, say=say)
        else:
            summary = run_flow(settings, args.wait)
    except RunLocked as e:
        print(f"shinchoku: {e}。終わってから再実行するか、--wait 秒数 を指定してください。", file=sys.stderr)
        return EXIT_LOCKED
    except (UsageError, ConfigError, CatalogueError):
        raise
    except Exception as e:  # noqa: BLE001 - a failed night: say so in a sentence; Prefect keeps the details
        if os.environ.get("SHINCHOKU_TRACEBACKS") == "1" and args.no_prefect:
            import traceback

            traceback.print_exc()
        print(f"shinchoku: {failure_text(settings, e, _file_identity(settings.warehouse) != published, args.no_prefect)}",
              file=sys.stderr)
        return EXIT_FAILED
    print(summary_text(summary))
    return summary.exit_code


def _file_identity(path: Path) -> tuple[int, int] | None:
    """A file's inode and modification time: a run publishes by renaming a new file into place."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def failure_text(settings, error: Exception, published: bool, without_prefect: bool = False) -> str:
    """What a failed run tells the terminal, in one sentence: what it left, and what the next run does."""
    said = f"({type(error).__name__}: {error})"
    where = ("エラーの詳細(トレースバック)は SHINCHOKU_TRACEBACKS=1 を付けて実行すると表示されます。" if without_prefect
             else "詳細は Prefect の UI(フローの実行とタスクの実行)で確認できます。")
    if not published:
        return (f"取込に失敗しました{said}。ウェアハウスは更新していません。受付フォルダのファイルはそのまま残り、"
                f"次回の取込で処理します。{where}")
    rest = ("受付フォルダのファイルの移動が済んでいないため、次回の取込で完了します。" if settings.journal_path.exists()
            else "受付フォルダの整理も済んでいます。")
    return f"取込の最後の段階で失敗しました{said}。ウェアハウスは更新済みです。{rest}{where}"


def last_runs(settings) -> list[str]:
    """How the last nights went: the warehouse's own record of the last published run, and, where a
    Prefect API is configured (PREFECT_API_URL), the last flow run with its state, so a run that
    failed or crashed before publishing still shows."""
    from flows.server import last_flow_run

    lines = last_flow_run()
    if settings.warehouse.exists():
        [(_, rows)] = _read(settings.warehouse, ("select run_id, started_at, accepted, rejected, duplicate from raw_runs "
                                                 "order by run_id desc limit 1", []))
        if rows:
            run_id, started, accepted, rejected, duplicate = rows[0]
            lines.append(f"前回の登録(ウェアハウス): 実行番号 {run_id}、{started:%Y-%m-%d %H:%M} 開始、"
                         f"受理 {accepted} 件・差戻し {rejected} 件・重複 {duplicate} 件")
    return lines or ["前回の取込: 記録なし"]


def cmd_demo(args) -> int:
    from flows.server import run_flow
    from .documents.summary import summary_text
    from .run import demo
    from .run.publish import RunLocked

    settings = _settings(args, settle_seconds=0)
    configured = settings.mail.enabled
    settings = demo.without_mail(settings)  # its runs never mail the catalogue's addresses, however [mail] is set
    catalogue = load_catalogue()
    try:
        files = demo.prepare(settings, catalogue, args.fresh)
    except demo.DemoRefused as e:
        raise UsageError(str(e)) from None
    surveys = sum(1 for f in files if f.parent.name in catalogue.local_governments_by_name)
    print(f"サンプルの報告様式 {len(files) - surveys} 件と県・市町村の調査票 {surveys} 件を作成しました({settings.inbox})。"
          f"うち{len(demo.BROKEN_SAMPLES)}件(報告様式と調査票の1件ずつ)はわざと誤りを含みます。")
    print(demo.MAIL_OFF + ("(設定 [mail] があっても、受付結果を部局・団体に送りません)" if configured else ""))
    try:  # the site is built once, below, when the earlier years are confirmed
        summary = run_flow(dataclasses.replace(settings, site_build=False))
    except RunLocked as e:
        print(f"shinchoku: {e}", file=sys.stderr)
        return EXIT_LOCKED
    print(summary_text(summary))
    return demo.conclude(settings, summary, say=print)


def _need_warehouse(warehouse: Path) -> Path:
    if not warehouse.exists():
        raise UsageError(f"ウェアハウスがありません: {warehouse}(先に shinchoku run を実行してください)")
    return warehouse


def _read(warehouse: Path, *queries: tuple[str, list]) -> list[tuple[list[str], list[tuple]]]:
    """Run read-only queries on the published warehouse: (column names, rows) for each."""
    from . import database

    con = database.connect(_need_warehouse(warehouse))
    try:
        results = []
        for sql, params in queries:
            cur = con.execute(sql, params)
            results.append(([d[0] for d in cur.description], cur.fetchall()))
        return results
    finally:
        con.close()


def _with_mail_password(settings):
    """The SMTP password from a Prefect Secret block, when [mail] names one and the environment gives none (Prefect
    is imported only then)."""
    mail = settings.mail
    if mail.enabled and mail.user and mail.password_secret and not mail.password:
        from flows.server import prefect_env

        prefect_env()
        from flows.parameters import with_mail_password  # Prefect's start-up: only when a Secret block is named

        return with_mail_password(settings)
    return settings


def mail_status_lines(settings, catalogue) -> list[str]:
    """Whether mail is on, and the mail that did not go (documents.summary.mail_status), read-only."""
    from . import database

    from .documents.summary import mail_status
    from .run.inbox import now_jst

    status = functools.partial(mail_status, mail=settings.mail, unrecorded=settings.mail_journal_path.exists(),
                               today=now_jst().date(), catalogue=catalogue,
                               prefect_api=os.environ.get("PREFECT_API_URL"))
    if not settings.warehouse.exists():
        return status(None)
    con = database.connect(settings.warehouse)
    try:
        return status(con)
    finally:
        con.close()


def cmd_status(args) -> int:
    from .documents.summary import table

    catalogue = load_catalogue()
    check_request(catalogue, args.year)
    settings = _settings(args)
    for line in last_runs(settings) + mail_status_lines(settings, catalogue):
        print(line)
    if args.overdue:
        from .documents.summary import to_do

        print(to_do(_need_warehouse(settings.warehouse)))
        return EXIT_OK
    sql = ("select department, fiscal_year, kpis_expected, kpis_reported, missing_kpi_ids, "
           "last_received_at, due_date, on_time, confirmed_at from submission_status where unit_kind = '部局'")
    params = []
    if args.year:
        sql += " and fiscal_year = ?"
        params.append(args.year)
    [(_, rows)] = _read(settings.warehouse, (sql + " order by fiscal_year, department", params))
    body = []
    for dept, fy, expected, reported, missing, last, due, on_time, confirmed in rows:
        body.append([dept, f"{fy}({era_year(fy)})", expected, reported, "、".join(missing) or "-",
                     last.strftime("%Y-%m-%d %H:%M") if last else "-", due.isoformat(),
                     "-" if on_time is None else ("期限内" if on_time else "未完了/期限後"),
                     f"確定 {confirmed:%Y-%m-%d}" if confirmed else "未確定"])
    print(table(["部局", "年度", "報告対象", "報告済", "未報告の指標", "最終受付", "期限", "期限内", "確定"], body))
    governments = _government_lines(settings.warehouse, args.year)
    if governments:
        print()
        print("市町村等の調査票(団体。構成要素から計算する指標の件数):")
        print("\n".join(f"  {line}" for line in governments))
    return EXIT_OK


def _government_lines(warehouse, year: int | None) -> list[str]:
    """The local governments' part of shinchoku status (documents.summary.government_lines), read-only."""
    from . import database

    from .documents.summary import government_lines

    con = database.connect(_need_warehouse(warehouse))
    try:
        return government_lines(con, year)
    finally:
        con.close()


def cmd_remind(args) -> int:
    from .documents.summary import mail_lines
    from .run.publish import RunLocked
    from .run.remind import remind

    catalogue = load_catalogue()
    settings = _settings(args)
    _need_warehouse(settings.warehouse)
    if not settings.mail.enabled and not args.dry_run:
        raise UsageError("メール送信が無効です(設定 [mail] の host がありません)。送る相手と件名の確認だけなら --dry-run を"
                         "付けてください。")
    try:
        done = remind(_with_mail_password(settings), catalogue, wait_seconds=args.wait, dry_run=args.dry_run)
    except RunLocked as e:
        print(f"shinchoku: {e}", file=sys.stderr)
        return EXIT_LOCKED
    def addresses(reminder) -> str:
        return "、".join(catalogue.contacts_of(reminder.unit)) or "宛先なし"

    for reminder in done.due:
        say(f"{'送信予定' if args.dry_run else '督促'}: {reminder.subject}(宛先: {addresses(reminder)})")
    for reminder, status in done.earlier:  # queued earlier today: each as its status then says
        if status == "sent":
            say(f"本日送信済み(送りません): {reminder.subject}")
        elif status == "unknown":
            say(f"本日送信中に中断(届いたか不明のため送りません): {reminder.subject}")
        else:  # failed, pending or without an address earlier today: sent again now
            before = {"failed": "送信失敗", "no_address": "宛先なし"}.get(status, "送信待ち")
            say(f"{'再送予定' if args.dry_run else '再送'}(本日{before}): {reminder.subject}(宛先: {addresses(reminder)})")
    if not done.due and not done.earlier:
        print("今日督促する部局・団体はありません(督促の日: 提出期限の "
              + "・".join(f"{d}日前" for d in sorted(settings.mail.remind_before_days, reverse=True)) + "と"
              + "・".join(f"{d}日後" for d in settings.mail.remind_after_days) + ")。")
    if done.mail is None:
        return EXIT_OK
    for line in mail_lines(done):
        say(line)
    return EXIT_REJECTED if done.mail.failed else EXIT_OK


def cmd_mail_test(args) -> int:
    """One test mail through the configured relay: what the run's mail would meet, told as status tells it."""
    from .catalogue_fields import email_addresses
    from .documents.summary import SECURITY_JA, login_text
    from .run.mail import SMTP_ERRORS, explain, send_test

    settings = _settings(args)
    mail = settings.mail
    if not mail.enabled:
        raise UsageError("メール送信が無効です(設定 [mail] の host がありません)。operators.md の「Mail to departments and "
                         "local governments」を見て設定してください。")
    try:
        [to] = email_addresses(args.to)
    except ValueError:
        raise UsageError(f"--to にはメールアドレスを1つ指定してください(入力: {args.to!r})") from None
    mail = _with_mail_password(settings).mail
    print(f"送信します: {mail.host}:{mail.smtp_port}、{SECURITY_JA[mail.security]}、"
          f"{login_text(mail, os.environ.get('PREFECT_API_URL'))}、差出人 {mail.sender} → {to}")
    try:
        subject = send_test(mail, to)
    except SMTP_ERRORS as e:
        print(f"送信できませんでした: {explain(e, mail)}")
        return EXIT_REJECTED
    print(f"テストメール「{subject}」を {to} に送信しました。届いたか、文字化けがないかを確認してください。")
    return EXIT_OK


def cmd_review(args) -> int:
    from .documents.review import review, write_checklist

    check_request(load_catalogue(), args.year, args.department)
    settings = _settings(args)
    items = review(_need_warehouse(settings.warehouse), args.year, args.department)
    for item in items:
        print(terminal_safe(item.text()))  # cell texts, file names: never raw to the terminal
        print()
    if not items:
        print("確定を待つ部局・年度はありません。")
    if args.output:
        print(f"確認リストを作成しました: {write_checklist(items, args.output)}")
    return EXIT_OK


def cmd_confirm(args) -> int:
    from .run.confirm import confirm

    check_request(load_catalogue(), args.year, args.department)
    settings = _settings(args)
    return _change_warehouse(settings, lambda: confirm(settings, args.year, None if args.all else [args.department], args.by,
                                             args.note, args.allow_missing, args.allow_provisional, args.wait),
                             refused="確定しませんでした(すべて確定するか、何も確定しないかのどちらかです):" if args.all
                             else "確定しませんでした:")


def cmd_reopen(args) -> int:
    from .run.confirm import reopen

    check_request(load_catalogue(), args.year, args.department)
    if not args.reason.strip():
        raise UsageError("--reason に確定を解除する理由を書いてください(空欄や空白だけは受け付けません)")
    settings = _settings(args)
    return _change_warehouse(settings, lambda: reopen(settings, args.year, args.department, args.reason, args.by, args.wait))


def _change_warehouse(settings, change, refused: str = "確定しませんでした:") -> int:
    """Run a confirm or reopen; what stands in the way is exit 1 (``refused`` heads its list), a wrong request 2,
    a running run 3."""
    from .run.confirm import ConfirmRefused, NotConfirmed
    from .run.publish import RunLocked

    _need_warehouse(settings.warehouse)
    try:
        outcome = change()
    except ConfirmRefused as e:
        print(refused)
        for problem in e.problems:
            print(f"  {problem}")
        return EXIT_REJECTED
    except NotConfirmed as e:
        raise UsageError(str(e)) from None
    except RunLocked as e:
        print(f"shinchoku: {e}", file=sys.stderr)
        return EXIT_LOCKED
    print("\n".join(outcome.lines))
    return EXIT_OK


def cmd_report(args) -> int:
    from .documents.report import build_report

    return _build(args, lambda settings, current: build_report(settings.warehouse, args.output, args.year, current),
                  "進捗報告を作成しました: {}")


def cmd_site(args) -> int:
    from .documents.site import build_site

    def build(settings, current):
        output = args.output or (settings.public_site_dir if args.public else settings.site_folder)
        if output is None:
            raise UsageError("公開用サイトの出力先がありません。-o DIR か、設定 [site] public_folder で指定してください。")
        return build_site(settings.warehouse, output, args.year, public=args.public, current=current) / "index.html"

    return _build(args, build, ("公開用の" if args.public else "") + "進捗サイトを作成しました: {}")


def _build(args, build, done: str) -> int:
    """The report or the site, from the warehouse's views; a warehouse without them is a usage error. One built
    before the catalogue or settings in force is said to be, on the page and here."""
    from .documents.facts import STALE_NOTE, ReportError, warehouse_is_stale

    from .run.warehouse import fingerprint

    catalogue = load_catalogue()  # a broken catalogue is a usage error, as for every command that reads it
    check_request(catalogue, args.year)
    settings = _settings(args)
    current = fingerprint(catalogue, settings)  # what a run would store: a warehouse built otherwise is stale
    try:
        path = build(settings, current)
    except ReportError as e:
        raise UsageError(str(e)) from None
    print(done.format(path))
    if warehouse_is_stale(settings.warehouse, current):
        print(f"shinchoku: {STALE_NOTE}", file=sys.stderr)
    return EXIT_OK


def cmd_export(args) -> int:
    import csv

    from .workbook.xlsx import csv_safe

    settings = _settings(args)
    # the name is one of EXPORTABLE_VIEWS (argparse choices), so it is safe to quote into the SQL
    [(header, rows)] = _read(settings.warehouse,
                             (f'select * from "{args.view}" order by {EXPORTABLE_VIEWS[args.view]}', []))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            # Text a department typed must not turn into a formula when the CSV opens in Excel.
            writer.writerow([csv_safe(v) if isinstance(v, str) else ("" if v is None else v) for v in row])
    print(f"{args.view} を {len(rows)} 行書き出しました: {args.output}")
    return EXIT_OK


def cmd_serve(args) -> int:
    from flows.server import api_url, prefect_env, serve_nightly

    settings = _settings(args)
    overrides = {k: v for k, v in (("schedule_cron", args.cron), ("schedule_timezone", args.timezone)) if v}
    settings = dataclasses.replace(settings, **overrides)
    prefect_env()
    if not api_url():
        raise UsageError("スケジュール実行には Prefect サーバーが必要です。別の端末で `uv run prefect server start` を起動し、"
                         "PREFECT_API_URL=http://127.0.0.1:4200/api を設定してから再実行してください。")
    print(f"毎日 {settings.schedule_cron}({settings.schedule_timezone})に取込を実行します。UI: {api_url().removesuffix('/api')}")
    serve_nightly(settings)
    return EXIT_OK


def cmd_verify(args) -> int:
    from .run.inbox import sha256_of

    settings = _settings(args)
    [(_, rows)] = _read(settings.warehouse, ("select submission_id, sha256, archive_path from submissions "
                                             "where archive_path is not null order by submission_id", []))
    bad = 0
    for submission_id, sha, archive in rows:
        path = settings.warehouse.parent / archive
        if not path.exists():
            print(f"欠落: 提出番号 {submission_id} {archive}")
            bad += 1
        elif sha256_of(path) != sha:
            print(f"不一致: 提出番号 {submission_id} {archive}")
            bad += 1
    print(f"原本 {len(rows)} 件を照合しました: 一致 {len(rows) - bad} 件、不一致・欠落 {bad} 件")
    return EXIT_REJECTED if bad else EXIT_OK


def cmd_catalogue(args) -> int:
    from .config import catalogue_dir

    if args.action == "check":
        try:
            catalogue = load_catalogue(strict=True)
        except CatalogueError as e:
            for problem in e.problems:
                print(problem)
            print(f"{catalogue_dir()}: {len(e.problems)} 件の問題があります。" +
                  ("取込は続けますが、直すまでその宛先にはメールを送りません。" if e.contacts_only
                   else "直すまで shinchoku run は何も取り込みません。"))
            # a file that is no text at all is not an entry to fix: the command could not do its job
            return EXIT_USAGE if isinstance(e, CatalogueUnreadable) else EXIT_REJECTED
        for name, encoding in catalogue.encodings:
            if encoding != "utf-8":  # as Excel saves CSV; plain UTF-8 goes without saying
                print(f"{name}: {ENCODINGS[encoding]}として読み取りました")
        print(f"{catalogue_dir()}: 問題はありません(指標 {len(catalogue.kpis)}、取組項目 {len(catalogue.initiatives)}、"
              f"改定 {len(catalogue.revisions)}、部局 {len(catalogue.departments)}"
              + (f"、地方公共団体 {len(catalogue.local_governments)}" if catalogue.local_governments else "")
              + (f"、構成要素から計算する指標 {len(dict.fromkeys(r.kpi_id for r in catalogue.computed_rules))}"
                 if catalogue.computed_rules else "") + ")。")
        return EXIT_OK
    if not args.kpi_id:
        raise UsageError("history には指標IDを指定してください(例: shinchoku catalogue history GOV-K01)")
    catalogue = load_catalogue()
    versions = catalogue.versions_by_id.get(args.kpi_id)
    if args.kpi_id not in catalogue.kpis_by_id or not versions:
        raise UsageError(f"指標ID「{args.kpi_id}」は指標一覧にありません: {'、'.join(k.kpi_id for k in catalogue.kpis)}")
    from .documents.facts import format_value, format_year
    from .documents.summary import table

    kpi = catalogue.kpis_by_id[args.kpi_id]
    rows = []
    for v in versions:
        k = v.item
        span = f"{format_year(v.valid_from_fy)}〜{format_year(v.valid_to_fy) if v.valid_to_fy else ''}"
        rows.append([span, f"{format_value(k.baseline_value, k.unit, k.baseline_decimals)}({format_year(k.baseline_fy)})",
                     f"{format_value(k.target_value, k.unit, k.target_decimals)}({format_year(k.target_fy)})",
                     DIRECTION_JA.get(k.direction, k.direction), k.owner, "、".join(r.revision_id for r in v.opened_by) or "当初",
                     "、".join(r.reason for r in v.opened_by), "、".join(dict.fromkeys(r.source for r in v.opened_by))])
    print(f"{kpi.kpi_id} {kpi.name}")
    life = [f"導入 {format_year(kpi.introduced_fy)}" if kpi.introduced_fy else "計画当初から",
            f"廃止 {format_year(kpi.retired_fy)}" if kpi.retired_fy else "現行"]
    print("、".join(life))
    print(table(["適用年度", "基準値(年度)", "目標値(年度)", "方向", "所管部局", "改定", "理由", "出典"], rows))
    return EXIT_OK


DIRECTION_JA = {"increase": "増加", "decrease": "減少"}  # catalogue history's 方向 column


COMMANDS = {"demo": cmd_demo, "run": cmd_run, "check": cmd_check, "template": cmd_template, "status": cmd_status,
            "report": cmd_report, "export": cmd_export, "serve": cmd_serve, "verify": cmd_verify,
            "catalogue": cmd_catalogue, "review": cmd_review, "confirm": cmd_confirm, "reopen": cmd_reopen,
            "site": cmd_site, "remind": cmd_remind, "mail-test": cmd_mail_test}


if __name__ == "__main__":
    sys.exit(main())
