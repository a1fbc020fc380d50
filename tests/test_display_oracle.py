"""What ``check`` shows as セルの表示 is what LibreOffice Calc shows, in a Japanese clerk's locale.

The corpus of tests/oracle.py (every built-in format id, by id and written out, and
the custom formats Japanese offices use, with edge and seeded values) is written
to a workbook, converted once by LibreOffice to CSV "as shown", and read back with
shinchoku's own reader: every cell's ``shown()`` must be Calc's text, except
where Calc itself departs from Japanese Excel (:func:`divergence`, each with its reason).
"""

from __future__ import annotations

import re
import zipfile

import pytest

import oracle
import writers
from shinchoku.workbook import numfmt, ooxml, parse
from shinchoku.config import Limits
from shinchoku.workbook.messages import CODES

NEEDS_CALC = pytest.mark.skipif(writers.soffice() is None,
                                reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui")

# Built-in ids whose code in LibreOffice's ja-JP table is not Japanese Excel's (numfmt.BUILTIN):
# Calc pads months and days (yyyy/mm/dd, R6.02.29, 令和6年02月29日, 02/29/24, 01-4月-22), writes
# -¥1,235 for "¥"#,##0;"¥"\-#,##0 and its accounting twins, and -1 for #,##0 ;(#,##0). The same
# codes written out as custom formats are in the corpus too, and must match.
CALC_TABLE_DIFFERS = {5, 6, 7, 8, 14, 15, 16, 22, *range(27, 37), 37, 38, 39, 40, 41, 42, 43, 44, *range(50, 59)}


def divergence(fmt: str | int, code: str, value) -> str | None:
    """Why LibreOffice's text is not the one to match for this cell, or None when it is."""
    if isinstance(fmt, int) and fmt in CALC_TABLE_DIFFERS:
        return "LibreOffice's ja-JP built-in table differs from Japanese Excel's for this id"
    if "[$-ja-JP" in code:
        return "LibreOffice does not read BCP 47 locale tags ([$-ja-JP], [$-ja-JP-x-gannen]) and shows General"
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    is_date = numfmt.kind(code, value) == numfmt.DATE
    if is_date and 1 <= value < 61 and any(ch in code.lower() for ch in "ydg"):
        return "LibreOffice has no 29 February 1900 (Lotus's day 60): serials before 61 show a day earlier"
    if code in ("d-mmm-yy", "d-mmm"):
        return "LibreOffice maps these codes onto its locale's DD-MMM-YY and pads the day (01-4月-22)"
    if "/" in code and not is_date and abs(value) >= 1e15:
        return "LibreOffice shows #FMT for a fraction of a number this large"
    if code in ("mm:ss.0", "yyyy/m/d h:mm:ss") and value == 45351.999995:
        return "LibreOffice rounds the last fraction of a second of a large serial, and cuts it elsewhere"
    return None


@pytest.fixture(scope="module")
def calc_shown(tmp_path_factory):
    """(format, value, our cell, Calc's text) for every corpus cell: one soffice run for the module."""
    root = tmp_path_factory.mktemp("oracle")
    cells = oracle.corpus()
    path = oracle.write_corpus(root / "corpus.xlsx", cells)
    shown = oracle.column(oracle.shown_by_libreoffice([path], root)[path])
    limits = Limits()
    with zipfile.ZipFile(path) as zf:
        book = ooxml.read_workbook_part(zf, limits)
        grid = ooxml.read_sheet(zf, book.sheets[0][1], ooxml.read_shared_strings(zf, limits),
                                ooxml.read_styles(zf, limits), book.date1904, limits)
    assert len(shown) == len(cells)
    return [(fmt, value, grid.get(row0, {}).get(0), text) for row0, ((fmt, value), text) in enumerate(zip(cells, shown))]


@NEEDS_CALC
def test_every_cell_is_shown_as_calc_shows_it(calc_shown):
    assert len(calc_shown) >= 300
    mismatches, excused = [], 0
    for fmt, value, cell, text in calc_shown:
        ours = cell.shown() if cell is not None else ""
        code = cell.fmt if cell is not None else str(fmt)
        if divergence(fmt, code, value):
            excused += 1
            continue
        if ours != text:
            mismatches.append(f"{fmt!r:45} {value!r:24} ours={ours!r:26} calc={text!r}")
    assert not mismatches, f"{len(mismatches)} cells shown otherwise than Calc shows them:\n" + "\n".join(mismatches)
    assert excused < len(calc_shown) // 5


@NEEDS_CALC
def test_the_built_in_ids_are_read_as_japanese_excel_codes(calc_shown):
    """The reader gives a built-in id Japanese Excel's code, whatever Calc's table says."""
    for fmt, _value, cell, _text in calc_shown:
        if isinstance(fmt, int) and cell is not None:
            assert cell.fmt == numfmt.BUILTIN.get(fmt, "General")


@NEEDS_CALC
def test_a_text_with_a_newline_is_shown_with_it(calc_shown):
    [(cell, text)] = [(cell, text) for fmt, value, cell, text in calc_shown if value == "a\nb" and fmt == "General"]
    assert cell.shown() == text == "a\nb"


def test_divergences_excuse_only_what_they_name():
    assert divergence("#,##0", "#,##0", 1234) is None
    assert divergence(14, "yyyy/m/d", 45351)
    assert divergence("yyyy/m/d", "yyyy/m/d", 45351) is None
    assert divergence("yyyy/m/d", "yyyy/m/d", 1)


# ---- What is read: the value read equals Calc's text parsed as if typed, or the cell is refused ----

UNITS = ("%", "人", "件", "万件", "百万枚", "円", "千円", "時間")
_SHOWN_NUMBER = re.compile(r"[0-9][0-9,]*(?:\.([0-9]+))?(?:E([+-]?[0-9]+))?")


def _display_tolerance(text: str, unit: str) -> float | None:
    """Half a unit of the last digit Calc shows, in ``unit``: 1千人 read in 人 may be 500 either way.

    None when the text holds no number (then nothing shown can vouch for a value)."""
    normal = parse.normalize_text(text)
    match = _SHOWN_NUMBER.search(normal)
    if not match:
        return None
    decimals, exponent = len(match.group(1) or ""), int(match.group(2) or 0)
    one = parse.parse_value(normal[:match.start()] + "1" + normal[match.end():], unit)  # the unit's multiplier
    scale = abs(one.value) if one.value else 1.0
    return 0.5 * 10.0 ** (exponent - decimals) * scale


@NEEDS_CALC
def test_every_cell_reads_as_calc_shows_it_or_is_refused_with_a_code(calc_shown):
    """For every cell and unit: either the value read equals Calc's text parsed as if typed, within the display's
    rounding, and check's セルの表示 is Calc's text; or the cell is refused with a code. Any third outcome fails."""
    outcomes, third = {"read": 0, "refused": 0, "blank": 0}, []
    for fmt, value, cell, text in calc_shown:
        if cell is None or divergence(fmt, cell.fmt, value):
            continue
        for unit in UNITS:
            ours = parse.parse_value(cell.value, unit, cell.fmt)
            if ours.error:
                assert ours.error in CODES, ours.error
                outcomes["refused"] += 1
                continue
            typed = parse.parse_value(text, unit)
            if ours.value is None:  # blank or a dash: not reported, as the same text typed would be
                outcomes["blank"] += 1
                if not typed.missing:
                    third.append(f"{fmt!r:40} {value!r:22} {unit:4} read as blank, Calc shows {text!r}")
                continue
            tolerance = _display_tolerance(text, unit)
            if typed.error or typed.value is None or tolerance is None:
                third.append(f"{fmt!r:40} {value!r:22} {unit:4} read {ours.value!r}, Calc shows {text!r} "
                             f"({typed.error or 'no number'})")
            elif abs(ours.value - typed.value) > tolerance * (1 + 1e-9) + 1e-12 * abs(typed.value):
                third.append(f"{fmt!r:40} {value!r:22} {unit:4} read {ours.value!r}, Calc shows {text!r} = {typed.value!r}")
            elif cell.shown() != text:
                third.append(f"{fmt!r:40} {value!r:22} {unit:4} read {ours.value!r}, shown {cell.shown()!r}, Calc {text!r}")
            else:
                outcomes["read"] += 1
    assert not third, f"{len(third)} cells neither read as shown nor refused:\n" + "\n".join(third[:80])
    # both outcomes really happen: the test cannot pass by refusing everything
    assert outcomes["read"] > 1000 and outcomes["refused"] > 1000, outcomes
