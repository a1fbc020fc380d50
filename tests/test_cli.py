"""The command line as users run it: help for every command, exit statuses, check and template."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from helpers import cli_in_process, run_cli
from shinchoku.cli import COMMANDS, build_parser, main
from shinchoku.config import ROOT
from shinchoku.documents.template import fill_template

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {name: (ROOT / "docs" / f"{name}.md").read_text(encoding="utf-8") for name in ("departments", "operators", "analysts")}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_and_is_documented(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    shown = capsys.readouterr().out
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices[command]
    assert sub.description and sub.description.split("。")[0] in shown  # its own description, in Japanese
    for action in sub._actions:  # and every option it takes
        assert all(flag in shown for flag in action.option_strings), (command, action.option_strings)
    assert re.search(rf"`shinchoku {command}\b", README), f"README's command table does not show `shinchoku {command}`"
    assert re.search(rf"^#### `shinchoku {command}`$", DOCS["operators"], re.M), \
        f"docs/operators.md's command reference does not show `shinchoku {command}`"


def test_commands_have_help_text():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMANDS)
    assert all(action.help for action in sub._choices_actions)


JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.mark.parametrize("command", [None, *sorted(COMMANDS)])
def test_help_is_in_japanese_like_everything_else(command, capsys):
    """Headings, the usage line, -h and every option's help: the office reads Japanese everywhere."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    target = sub.choices[command] if command else parser
    for action in target._actions:
        assert action.help and JAPANESE.search(action.help), (command, action.dest, action.help)
    assert target.description and JAPANESE.search(target.description)
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"] if command else ["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("使い方: shinchoku") and "\nオプション:\n" in out and out.count("オプション:") == 1
    assert not re.search(r"usage:|options:|positional arguments|show this help", out), out


@pytest.mark.parametrize("argv, said", [
    (["confirm", "--year", "R4"], "--department --all のどれか1つを指定してください"),
    (["confirm", "--year", "R4", "--all", "--department", "総務部"], "と --all は同時に指定できません"),
    (["reopen", "--year", "R4", "--department", "総務部"], "次の指定が必要です: --reason"),
    (["run", "--bogus"], "不明な引数です: --bogus"),
    (["export", "nothing", "-o", "x.csv"], "'nothing' は指定できません(指定できるもの: 'kpis'"),
])
def test_argument_errors_are_in_japanese(argv, said, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("使い方: shinchoku") and "エラー: " in err and said in err, err


def test_check_a_clean_template_shows_what_was_read(template):
    path = fill_template(template("企画調整部", 2022), {"GOV-K01": 0.61234, "REG-K01": "約 140 人(速報)"},
                         formats={"GOV-K01": "0.0%"})
    result = run_cli("check", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK")
    lines = [line.split("\t") for line in result.stdout.splitlines() if "\t" in line]
    assert lines == [["指標ID", "年度", "セルの表示", "読み取った値", "単位", "時点", "注記"],
                     ["GOV-K01", "R4年度", "61.2%", "61.234", "%", "2023-03-31", "%表示"],
                     ["REG-K01", "R4年度", "約 140 人(速報)", "140", "人", "2023-03-31", "約、速報"]]


def test_check_shows_a_row_with_text_but_no_figure_as_no_figure_not_unreadable(template, capsys):
    """A 取組実績 row with its text and no figure, and a KPI not yet counted whose 要因分析 says why, are valid:
    their lines say 「(数値なし)」, never 「(読み取れず)」, which a clerk reads as an error."""
    from shinchoku.documents.template import fill_outcomes

    path = fill_template(template("企画調整部", 2022), {"GOV-K01": 57.0},
                         explanations={"REG-K01": ("集計は来月", None)})
    fill_outcomes(path, [("GOV-01", "業務の棚卸し", "全庁で実施", None, None, None)])
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    lines = {line.split("\t")[0]: line.split("\t") for line in out.splitlines() if "\t" in line}
    assert lines["GOV-01"] == ["GOV-01", "R4年度", "", "(数値なし)", "", "2023-03-31", ""]
    assert lines["REG-K01"] == ["REG-K01", "R4年度", "", "(数値なし)", "人", "2023-03-31", ""]
    assert "読み取れず" not in out and out.startswith("OK")


def test_check_shows_a_unit_in_the_number_format_and_the_value_it_means(template):
    """REC-K01 (万件) at 1461000 in #,##0"件": the cell shows 1,461,000件, which is 146.1万件."""
    path = fill_template(template("避難地域復興局", 2022), {"REC-K01": 1461000}, formats={"REC-K01": '#,##0"件"'})
    result = cli_in_process("check", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    [line] = [line.split("\t") for line in result.stdout.splitlines() if line.startswith("REC-K01\t")]
    assert line == ["REC-K01", "R4年度", "1,461,000件", "146.1", "万件", "2023-03-31", "書式の単位(件)、換算(件)"]
    assert "146.1万件 として受け付けました" in result.stdout  # unit_converted, in full


def test_check_shows_a_kpi_left_blank_with_its_reason_without_failing(template):
    """A blank 実績値 with a 要因分析, as the README invites: check prints its lines and never a traceback."""
    from openpyxl import load_workbook

    path = template("避難地域復興局", 2024)
    wb = load_workbook(path)
    ws = wb["実績報告"]
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == "指標ID")
    column = next(c for c in range(1, ws.max_column + 1) if ws.cell(row=header, column=c).value == "要因分析")
    row = next(r for r in range(header, ws.max_row + 1) if ws.cell(row=r, column=1).value == "REC-K01")
    ws.cell(row=row, column=column).value = "集計システム更新のため未集計"
    wb.save(path)
    result = cli_in_process("check", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr and result.stdout.startswith("OK")
    assert ["REC-K01", "R6年度", "", "(数値なし)", "万件", "2025-03-31", ""] in [line.split("\t") for line in result.stdout.splitlines()]


def test_check_reports_file_sheet_cell_and_message_and_quiet_prints_only_that(template):
    path = fill_template(template("総務部", 2022), {"GOV-K02": "集計中"})
    result = run_cli("check", "--quiet", str(path))
    assert result.returncode == 1
    assert f"{path}: 実績報告!E7: 実績値「集計中」を数値として読み取れません" in result.stdout
    assert "\t" not in result.stdout


def test_check_does_not_import_prefect(template):
    path = template("総務部", 2022)
    code = ("import sys; from shinchoku.cli import main; rc = main(['check', sys.argv[1]]); "
            "assert 'prefect' not in sys.modules, 'check imported prefect'; sys.exit(rc)")
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_template_command_and_year_notation(tmp_path):
    out = tmp_path / "t.xlsx"
    assert main(["template", "--department", "教育庁", "--year", "R4", "-o", str(out)]) == 0
    from openpyxl import load_workbook

    props = {p.name: p.value for p in load_workbook(out).custom_doc_props.props}
    assert props["shinchoku_fiscal_year"] == 2022


@pytest.mark.parametrize("argv", [
    ["template", "--department", "存在しない部", "--year", "2022", "-o", "x.xlsx"],
    ["check", "/nonexistent/file.xlsx"],
    ["status", "--warehouse", "/nonexistent/w.duckdb"],
    ["run", "--warehouse", "/tmp/not-a-duckdb.txt"],
])
def test_usage_and_configuration_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    assert "shinchoku:" in capsys.readouterr().err


def test_bad_year_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["status", "--year", "来年"])
    assert exit_info.value.code == 2


def test_environment_overrides_paths(tmp_path, catalogue):
    from shinchoku.settings import load_settings

    s = load_settings(env={"SHINCHOKU_INBOX": str(tmp_path / "in"), "SHINCHOKU_WAREHOUSE": str(tmp_path / "w.duckdb"),
                           "SHINCHOKU_SETTLE_SECONDS": "5"})
    assert (s.inbox, s.warehouse, s.settle_seconds) == (tmp_path / "in", tmp_path / "w.duckdb", 5.0)
    s = load_settings(inbox=tmp_path / "flag", env={"SHINCHOKU_INBOX": str(tmp_path / "in")})
    assert s.inbox == tmp_path / "flag"


def test_template_all_writes_one_folder_per_department_and_local_government_and_never_into_the_inbox(tmp_path, catalogue):
    out = tmp_path / "配布"
    assert main(["template", "--all", "--year", "2024", "-o", str(out), "--inbox", str(tmp_path / "inbox")]) == 0
    returns = sorted(p.parent.name for p in out.rglob("*_実績報告_*.xlsx"))
    surveys = sorted(p.parent.name for p in out.rglob("*_調査票_*.xlsx"))
    assert returns == sorted(catalogue.departments)
    # the survey sheets, each in its local government's folder (as in inbox/<団体名>/): 福島県 and the 59 municipalities
    assert surveys == sorted(g.name for g in catalogue.local_governments if g.exists_in(2024)) and len(surveys) == 60
    assert len(list(out.rglob("*.xlsx"))) == len(returns) + len(surveys)
    assert main(["template", "--all", "--year", "2024", "-o", str(tmp_path / "inbox" / "x"),
                 "--inbox", str(tmp_path / "inbox")]) == 2
    assert not (tmp_path / "inbox").exists()


def test_an_empty_return_is_accepted_with_a_warning(template, catalogue):
    from shinchoku.workbook.assess import assess_files
    from shinchoku.config import Limits

    [a] = assess_files([(template("総務部", 2022), "総務部")], catalogue, Limits())
    assert a.accepted and [i.code for i in a.warnings] == ["no_values"]


def test_every_issue_code_is_documented():
    """docs/departments.md's code table: every code, with its severity, its message and its fix as a department reads them."""
    import re

    from shinchoku.workbook.messages import CODES

    severity = {"error": "エラー(差戻し)", "warning": "警告"}

    def text(template: str) -> str:
        return re.sub(r"{[a-z_]+}", "…", template).replace("|", "\\|")

    expected = {code: f"| `{code}` | {severity[c.severity]} | {text(c.message)} | {text(c.fix)} |" for code, c in CODES.items()}
    documented = {line.split("`")[1]: line.strip() for line in DOCS["departments"].splitlines()
                  if re.match(r"^\| `[a-z_]+` \| (エラー|警告)", line)}
    assert documented == expected


def test_config_file_sets_bands_limits_and_schedule(tmp_path):
    from shinchoku.settings import load_settings

    config = tmp_path / "shinchoku.toml"
    config.write_text('[grades]\nS = 1.1\nA = 0.9\n[limits]\nmax_rows = 100\n[schedule]\ncron = "0 3 * * *"\n'
                      '[status]\ndue_month = 5\n', encoding="utf-8")
    s = load_settings(config_file=config, env={})
    assert [(b.name, b.min_pace, b.label) for b in s.grade_bands] == [("S", 1.1, "S"), ("A", 0.9, "順調")]
    assert (s.limits.max_rows, s.schedule_cron, s.due_month) == (100, "0 3 * * *", 5)


def test_grade_bands_with_names_and_labels(tmp_path):
    from shinchoku.settings import load_settings

    config = tmp_path / "shinchoku.toml"
    config.write_text('[grades]\nfloor = "D"\nfloor_label = "要対策"\n'
                      '[[grades.bands]]\nname = "A"\nmin_pace = 1.0\nlabel = "順調"\n'
                      '[[grades.bands]]\nname = "B"\nmin_pace = 0.8\nlabel = "おおむね順調"\n', encoding="utf-8")
    s = load_settings(config_file=config, env={})
    assert [(b.name, b.label) for b in s.grade_bands] == [("A", "順調"), ("B", "おおむね順調")]  # best first
    assert (s.grade_floor, s.floor_label) == ("D", "要対策")


# For each section: a wrong type, an unknown key and an out-of-range value, each named in the message.
BAD_CONFIGS = [
    ('[paths]\ninbox = 3\n', "paths.inbox", "文字列が必要です"),
    ('[paths]\ninbx = "x"\n', "paths.inbx", "不明なキー"),
    ('[run]\nsettle_seconds = "soon"\n', "run.settle_seconds", "数値が必要です"),
    ('[run]\nworker = 2\n', "run.worker", "不明なキー"),
    ('[run]\nworkers = -1\n', "run.workers", "0 以上の値"),
    ('[grades]\nA = "high"\n', "grades.A", "数値が必要です"),
    ('[grades]\nfloor = "D"\ncolour = "red"\n', "grades.colour", "不明なキー"),
    ('[[grades.bands]]\nname = "A"\nmin_pace = 100.0\nlabel = "順調"\n', "grades.bands.0.min_pace", "10.0 以下の値"),
    ('[grades]\nA = 0.5\nB = 0.8\nC = 1.0\n', "grades.B", "min_pace が前の評価より小さくなるように並べてください(A の 0.5 の次の B が 0.8)"),
    ('[grades]\nA = 1.0\nB = 1.0\n', "grades.B", "A の 1.0 の次の B が 1.0"),
    ('[[grades.bands]]\nname = "B"\nmin_pace = 0.8\nlabel = "おおむね順調"\n'
     '[[grades.bands]]\nname = "A"\nmin_pace = 1.0\nlabel = "順調"\n', "grades.bands.1.min_pace", "B の 0.8 の次の A が 1.0"),
    ('[status]\ndue_month = "June"\n', "status.due_month", "整数が必要です"),
    ('[status]\ndue = 6\n', "status.due", "不明なキー"),
    ('[status]\ndue_month = 13\n', "status.due_month", "12 以下の値"),
    ('[schedule]\ncron = 2\n', "schedule.cron", "文字列が必要です"),
    ('[schedule]\nzone = "Asia/Tokyo"\n', "schedule.zone", "不明なキー"),
    ('[schedule]\ntimezone = "Mars/Olympus"\n', "schedule.timezone", "タイムゾーン"),
    ('[limits]\nmax_rows = "many"\n', "limits.max_rows", "整数が必要です"),
    ('[limits]\nmax_row = 5\n', "limits.max_row", "不明なキー"),
    ('[limits]\nmax_rows = 0\n', "limits.max_rows", "0 より大きい値"),
    ('[outlook]\non_track = "soon"\n', "outlook.on_track", "数値が必要です"),
    ('[outlook]\nslow = 0.5\n', "outlook.slow", "不明なキー"),
    ('[outlook]\non_track = 0\n', "outlook.on_track", "0 より大きい値"),
    ('[outlook]\non_track = 0.8\naccelerate = 0.9\n', "outlook", "on_track(0.8)より小さい値"),
    ('[site]\nbuild = "nightly"\n', "site.build", "true か false"),
    ('[site]\nfolders = "site"\n', "site.folders", "不明なキー"),
    ('[site]\nfolder = ""\n', "site.folder", "1 文字以上"),
    ('[colours]\nA = "green"\n', "colours", "不明なキー"),
    ('[mail]\nhost = "relay"\nsender = "dx@pref.example.lg.jp"\npassword = "x"\n', "mail",
     "パスワードは設定ファイルに書けません。環境変数 SHINCHOKU_MAIL_PASSWORD か、Prefect の Secret ブロック"),
    ('[mail]\nhost = "relay"\n', "mail", "メールを送るには差出人 sender が必要です"),
    ('[mail]\nsecurity = "tls"\n', "mail.security", "starttls・ssl・none のいずれかが必要です(入力: 'tls')"),
    ('[mail]\nsender = "DX推進課"\n', "mail.sender", "メールアドレス1つ"),
    ('[mail]\nport = 70000\n', "mail.port", "65535 以下の値"),
    ('[mail]\nremind_after_days = [0]\n', "mail.remind_after_days.0", "1 以上の値"),
]


@pytest.mark.parametrize("text, key, reason", BAD_CONFIGS, ids=[k for _, k, _ in BAD_CONFIGS])
def test_a_bad_setting_names_file_key_and_expectation(tmp_path, text, key, reason):
    from shinchoku.config import ConfigError
    from shinchoku.settings import load_settings

    config = tmp_path / "shinchoku.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file=config, env={})
    message = str(caught.value)
    assert str(config) in message and f"{key}: " in message and reason in message, message


def test_mail_settings_from_the_file_and_the_environment_the_password_only_from_the_environment(tmp_path):
    from shinchoku.settings import load_settings

    config = tmp_path / "conf" / "shinchoku.toml"
    config.parent.mkdir()
    config.write_text('[mail]\nhost = "smtp-relay.pref.example.lg.jp"\nport = 25\nsecurity = "none"\n'
                      'sender = "福島県 DX推進課 <dx@pref.example.lg.jp>"\nca_file = "ca.pem"\n'
                      'remind_after_days = [14, 1, 14]\n', encoding="utf-8")
    s = load_settings(config_file=config, env={"SHINCHOKU_MAIL_USER": "shinchoku", "SHINCHOKU_MAIL_PASSWORD": "pw"})
    mail = s.mail
    assert (mail.enabled, mail.host, mail.smtp_port, mail.security, mail.user, mail.password) == \
        (True, "smtp-relay.pref.example.lg.jp", 25, "none", "shinchoku", "pw")
    assert mail.ca_file == config.parent / "ca.pem" and mail.remind_after_days == (1, 14)
    assert "pw" not in repr(s)  # never in a log line or a traceback's locals
    assert load_settings(config_file=tmp_path / "none.toml", env={}).mail.enabled is False  # no host: mail is off
    assert load_settings(config_file=tmp_path / "none.toml", env={"SHINCHOKU_MAIL_HOST": "relay",
                                                                    "SHINCHOKU_MAIL_SENDER": "dx@pref.example.lg.jp",
                                                                    "SHINCHOKU_MAIL_SECURITY": "ssl"}).mail.smtp_port == 465


def test_the_site_folders_from_the_file_and_the_environment(tmp_path):
    """[site] folders are relative to the configuration file, variables absolute; the default sits beside the warehouse."""
    from shinchoku.settings import load_settings

    config = tmp_path / "conf" / "shinchoku.toml"
    config.parent.mkdir()
    config.write_text('[site]\nbuild = false\nfolder = "../www/dx"\npublic_folder = "public"\n', encoding="utf-8")
    s = load_settings(config_file=config, env={})
    assert (s.site_build, s.site_folder, s.public_site_dir) == (False, tmp_path / "www" / "dx", config.parent / "public")
    s = load_settings(config_file=tmp_path / "none.toml", warehouse=tmp_path / "w" / "x.duckdb",
                      env={"SHINCHOKU_PUBLIC_SITE": str(tmp_path / "pub"), "SHINCHOKU_SITE_BUILD": "false"})
    assert (s.site_build, s.site_folder, s.public_site_dir) == (False, tmp_path / "w" / "site", tmp_path / "pub")


def test_a_file_that_is_not_toml_and_a_bad_variable(tmp_path):
    from shinchoku.config import ConfigError
    from shinchoku.settings import load_settings

    config = tmp_path / "shinchoku.toml"
    config.write_text("[grades\nA = 1.0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="TOML として読めません"):
        load_settings(config_file=config, env={})
    with pytest.raises(ConfigError, match=r"SHINCHOKU_WORKERS(.|\n)*run\.workers: 整数が必要です"):
        load_settings(config_file=tmp_path / "none.toml", env={"SHINCHOKU_WORKERS": "two"})


def test_a_bad_setting_exits_2_without_a_traceback(tmp_path):
    config = tmp_path / "shinchoku.toml"
    config.write_text('[grades]\nA = "high"\n', encoding="utf-8")
    result = run_cli("status", env={"SHINCHOKU_CONFIG": str(config)})
    assert result.returncode == 2
    assert "grades.A: 数値が必要です" in result.stderr and "Traceback" not in result.stderr


def test_grade_bands_out_of_order_stop_every_command_with_exit_2(tmp_path, capsys, monkeypatch):
    """A = 0.5, B = 0.8, C = 1.0 would grade GOV-K01 at pace 1.04 as C: refused, from the file or the variable."""
    from shinchoku.config import ConfigError
    from shinchoku.settings import load_settings

    config = tmp_path / "shinchoku.toml"
    config.write_text('[grades]\nA = 0.5\nB = 0.8\nC = 1.0\n', encoding="utf-8")
    monkeypatch.setenv("SHINCHOKU_CONFIG", str(config))
    monkeypatch.delenv("SHINCHOKU_WAREHOUSE", raising=False)  # set by conftest after `shinchoku demo`; named in the message
    assert main(["status", "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    err = capsys.readouterr().err
    assert f"設定に誤りがあります({config}):" in err and "grades.B: 評価は良いものから順に" in err, err
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file=tmp_path / "none.toml", env={"SHINCHOKU_GRADE_BANDS": "A=1.0,B=0.5,C=0.8"})
    assert "SHINCHOKU_GRADE_BANDS" in str(caught.value) and "grades.C: " in str(caught.value)


def test_demo_hints_use_the_command_the_readme_installs(settings, catalogue):
    """The demo's closing hints must work on a fresh machine: the uvx form docs/analysts.md documents."""
    from shinchoku.run.demo import demo_queries
    from shinchoku.run.steps import run_ingest

    run_ingest(settings, catalogue)
    hints = [line.strip() for line in demo_queries(settings.warehouse).splitlines() if "duckdb" in line]
    commands = [h for h in hints if h.startswith(("uvx", "duckdb "))]
    assert commands and all(h.startswith("uvx --from duckdb-cli duckdb -readonly ") for h in commands)
    assert "uvx --from duckdb-cli duckdb -readonly" in DOCS["analysts"]


def test_check_keeps_a_value_with_a_line_break_or_a_tab_on_one_line(template):
    """A cell typed with Alt+Enter (or holding a tab) is one line of check's output: ⏎ for the break."""
    import shutil
    import subprocess

    path = fill_template(template("企画調整部", 2022), {"GOV-K01": "61.2\n(速報)", "REG-K01": "約\t140 人\r\n(見込み)"})
    command = ["uv", "run", "--no-sync", "shinchoku", "check", str(path)] if shutil.which("uv") else None
    result = (subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300) if command
              else run_cli("check", str(path)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert all(line.startswith(("OK ", "  [警告] ", "指標ID\t", "GOV-K01\t", "REG-K01\t")) for line in result.stdout.splitlines())
    lines = [line.split("\t") for line in result.stdout.splitlines() if line.startswith(("指標ID", "GOV", "REG"))]
    assert [len(fields) for fields in lines] == [7, 7, 7]
    assert [fields[2] for fields in lines[1:]] == ["61.2⏎(速報)", "約 140 人⏎(見込み)"]


def test_output_piped_into_a_reader_that_goes_away_ends_quietly():
    """`shinchoku remind --dry-run | head`: when the reader closes the pipe, the command ends (exit 141, as a shell
    reports SIGPIPE) without a BrokenPipeError traceback."""
    reader, writer = os.pipe()
    os.close(reader)  # the reader has gone before the first line: every write fails
    try:
        done = subprocess.run([sys.executable, "-m", "shinchoku.cli", "catalogue", "history", "GOV-K01"], stdout=writer,
                              stderr=subprocess.PIPE, cwd=ROOT, text=True, timeout=120)
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (141, "")


@pytest.mark.parametrize("fails", ["write", "flush"])
def test_a_broken_pipe_in_process_is_caught_once_in_main(fails, monkeypatch):
    """The same in this process, whether a line fails as it is written or the buffer as main() flushes it at its end
    (a command whose output fits the buffer): main() returns 141, nothing raised."""
    import io

    from shinchoku.cli import EXIT_PIPE

    class Gone(io.StringIO):
        def write(self, text):
            if fails == "write":
                raise BrokenPipeError(32, "Broken pipe")
            return super().write(text)

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Gone())
    assert main(["catalogue", "history", "GOV-K01"]) == EXIT_PIPE
