"""What the terminal shows: tables that line up Japanese text, and no silence during a long step."""

from __future__ import annotations

import time

from rich.cells import cell_len

from shinchoku.run import progress
from shinchoku.documents.summary import table


def test_table_lines_up_wide_characters():
    text = table(["部局", "年度", "未報告の指標"], [["企画調整部", "2023(R5)", "GOV-K01、REG-K01"], ["総務部", "2022", "-"]])
    lines = text.splitlines()
    assert len(lines) == 4 and lines[0].startswith("部局")
    # the third column starts at the same display column on every line with text in it
    starts = {cell_len(line[:line.index(word)]) for line, word in zip(lines[::2] + lines[3:], ["未報告", "GOV", "-"])}
    assert len(starts) == 1


def test_a_long_step_is_never_silent(capsys, monkeypatch):
    monkeypatch.setattr(progress, "LOG_EVERY", 0.05)
    with progress.waiting("サーバーを起動しています…"):
        time.sleep(0.3)
    progress.say("受付: 処理対象 1 件")
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "サーバーを起動しています…"
    assert any(line.endswith("秒経過") for line in err[1:-2])  # not a terminal: a line every LOG_EVERY seconds
    assert err[-2].startswith("サーバーを起動しています… 完了(") and err[-1] == "受付: 処理対象 1 件"
