"""The oracle of what a person sees: LibreOffice Calc, in a Japanese clerk's locale, says how each cell looks.

A corpus of (format, value) cells (:func:`corpus`) is written one cell a row
(:func:`write_corpus`), and LibreOffice converts the workbook to CSV with
"save cell contents as shown" (:func:`shown_by_libreoffice`): each field is the
cell's text as displayed. The generated cell list is the source of truth; the
texts are what shinchoku's display must equal.

What was found by experiment (LibreOffice 7.x/24.x from Debian, headless):

* The CSV filter's options are ``44,34,76,1,,0,false,true,true``: comma, double
  quote, UTF-8 (76), from line 1, default cell formats, language 0, quoted fields
  not forced to text, special numbers detected, and token 9, *save cell contents
  as shown*. With token 9 false the export holds the stored value (48441 for
  ``#,##0,``); with it true, the displayed text (48). Only the first sheet is
  exported, and a cell holding a newline is one quoted field with the newline in it.
* The locale comes from the private profile: ``ooSetupSystemLocale`` = ja-JP in
  ``/org.openoffice.Setup/L10N`` of ``user/registrymodifications.xcu``, written
  before soffice first starts (:func:`writers.calc_profile`). Without it the
  headless process runs in en-US (``C.UTF-8`` gives no locale): ``d-mmm-yy`` shows
  ``29-Feb-24`` and ``h:mm AM/PM`` ``2:24 PM``; with it ``29-2月-24`` and
  ``2:24 午後``. ``ooLocale`` (the UI language) stays en-US, the only one installed,
  and does not matter to number formats. Era formats (``[$-411]ggge"年"m"月"d"日"``)
  show 令和6年2月29日 in either locale; ``yyyy/m/d`` shows 2024/2/29.
* What Calc shows, which ``numfmt.display`` follows: ``_x`` is one space and ``*x``
  nothing (no column to fill); numbers round half away from zero on their decimal
  value (2.5 -> 3, 0.615 -> 0.62); a minus goes before any prefix (-¥48,441,
  -約1人) and is dropped when the shown digits are all zero (0.0 for -0.0004);
  a point with no decimals shown is dropped (``#.##``: 7); General has 15
  significant digits and E notation from 1E+016 (three exponent digits) and below
  1E-9 (1.5E-10); clock times are cut to the second, elapsed ones ([h]) rounded;
  ``mmm`` is 2月, ``aaa`` 木, AM/PM 午前/午後, ``g`` R, ``ggg`` 令和 (1年, not 元年).
* Where Calc departs from Japanese Excel (test_display_oracle.divergence): its
  ja-JP built-in table (ids 5-8, 14-16, 22, 27-44, 50-58: padded dates, -¥1,235),
  no 29 February 1900, no BCP 47 locale tags ([$-ja-JP-x-gannen] shows General),
  ``d-mmm-yy`` padded as its own built-in, #FMT for huge fractions.
* One soffice start costs about 2 s on a warm machine: convert every corpus file
  in one call, once per test module.

A format is either a code (``str``), written as a custom ``<numFmt>``, or an
``int``: a built-in format id (0-58), written with no ``<numFmt>`` entry so the
file refers to it by ``numFmtId`` alone, as Excel does, and the reader and Calc
each supply their own code for it.
"""

from __future__ import annotations

import csv
import random
import re
import zipfile
from pathlib import Path

import writers

LOCALE = "ja-JP"
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true"
SHEET = "corpus"

# Built-in ids: those Japanese Excel defines (numfmt.BUILTIN) and the accounting ids 41-44.
BUILTIN_IDS = [*range(0, 23), *range(27, 59)]

# Custom formats Japanese prefectural offices use.
CUSTOM_NUMBER = [
    # literal units
    '#,##0"件"', '#,##0"人"', '#,##0"枚"', '0.0"万件"', '#,##0"千円"', '#,##0.0"百万枚"', '0.0000"万件"',
    '0"人"', '#,##0.00"円"', '"約"#,##0"人"', '#,##0"人";-#,##0"人"',
    # scaling commas
    "#,##0,", "#,##0,,", '#,##0,"千人"', '#,##0.0,,"百万枚"', '0.0,"千"',
    # zero and negative sections
    '#,##0;-#,##0;"-"', "#,##0;△#,##0", "#,##0;▲#,##0", '#,##0;△#,##0;"未集計"', "0.0;[Red]-0.0",
    "#,##0;[Red]-#,##0", '#,##0.0;"▲ "#,##0.0', "0;-0;;@",
    # accounting (会計)
    '_ * #,##0_ ;_ * -#,##0_ ;_ * "-"_ ;_ @_ ',
    '_ "¥"* #,##0_ ;_ "¥"* -#,##0_ ;_ "¥"* "-"_ ;_ @_ ',
    '"¥"*-#,##0',
    # hidden
    ";;;",
    # scientific
    "0.00E+00", "##0.0E+0", "0.0E+00",
    # fractions
    "# ?/?", "# ??/??", "?/?",
    # colour and locale tags
    "[Blue]General", "[Red]0.0", "[$-411]#,##0", "[$-ja-JP]0.0", "[Color10]0",
    # conditions
    '[>=1000]#,##0,"千";0', '[<0]"減"0;"増"0',
    # percent variants
    "0.0%", "0%", '0.0"%"', "0.0\\%", "#,##0.00%;[Red]-#,##0.00%",
    # text, General, yen
    "@", "General", '"¥"#,##0', "\\#,##0", "[$¥-411]#,##0", '"¥"#,##0;"¥"-#,##0',
    # plain digits
    "0", "0.00", "#,##0.000", "#", "#.##", "000000", "#,##0.0_);(#,##0.0)",
]
CUSTOM_TIME = ["h:mm", "[h]:mm:ss", 'h"時"mm"分"', "[mm]:ss", "h:mm:ss AM/PM"]
CUSTOM_DATE = [
    "yyyy/m/d", "yyyy/mm/dd", 'yyyy"年"m"月"d"日"', '[$-411]ggge"年"m"月"d"日"', "[$-411]ge.m.d",
    '[$-ja-JP-x-gannen]ggge"年"m"月"d"日"', 'm"月"d"日"(aaa)', "yyyy/m/d(aaaa)", "yyyy/m/d h:mm", 'ggge"年度"',
]

# Values: the edges, and what departments put in these formats.
NUMBERS = [0, -1, 1, -1234.5, 1e7, 123456789, 0.00123, 0.482, 0.615, 48441, 1200, 1234.5678, 2.5, 0.5, -0.5,
           12.345, 99.95, 0.05, 130, 58.754, 1500000, 123.456, -48441, 7, 0.125, 1e-7, 1e15, 3.14159265358979,
           0.1 + 0.2, 1 / 3, 2 / 3, -0.0004]
PERCENTS = [0, 0.482, 0.615, 0.71234, 1, 1.25, -0.032, 0.0005, 0.99995, 0.125]
SERIALS = [45351, 45351.5, 43586, 43585.75, 32516, 32515, 1, 61, 44652, 45382.999988, 36526.25]
TIMES = [0, 0.25, 0.6, 0.5 + 1 / 1440, 1.75, 0.999988, 2.0416666666666665, 0.3333333333333333]
TEXTS = ["約 140 人", "1,234", "-", "未集計", "a\nb", "R5年度\n(2月末現在)", "", "  前後に空白  "]


def corpus(seed: int = 20240229) -> list[tuple[str | int, object]]:
    """The (format, value) cells, in row order: every built-in id and the custom formats with
    edge values (0, a negative) and values drawn with a fixed seed."""
    from shinchoku.workbook import numfmt

    rng = random.Random(seed)
    cells: list[tuple[str | int, object]] = []

    def add(fmt, code: str, count: int) -> None:
        bare = numfmt._LITERALS.sub("", code).lower()
        if numfmt.kind(code) == numfmt.DATE and re.search(r"[hs]", bare) and not re.search(r"[ydge]", bare):
            pool = TIMES
        elif numfmt.kind(code) == numfmt.DATE:
            pool = SERIALS
        elif numfmt.kind(code) == numfmt.PERCENT:
            pool = PERCENTS
        else:
            pool = NUMBERS
        picked = [pool[0]] + rng.sample(pool[1:], count - 1)
        if pool is NUMBERS:
            picked.append(round(rng.uniform(-1e5, 1e5), rng.randint(0, 4)))
        cells.extend((fmt, value) for value in picked)

    for fmt_id in BUILTIN_IDS:  # by id alone, and the same code written out as Japanese Excel shows it
        add(fmt_id, numfmt.BUILTIN.get(fmt_id, "General"), 4)
        if fmt_id in numfmt.BUILTIN and fmt_id:
            add(numfmt.BUILTIN[fmt_id], numfmt.BUILTIN[fmt_id], 3)
    for code in CUSTOM_NUMBER:
        add(code, code, 5)
    for code in CUSTOM_TIME + CUSTOM_DATE:
        add(code, code, 4)
    cells.extend(("General", text) for text in TEXTS)
    cells.extend(("@", text) for text in TEXTS[:3])
    cells.extend([("General", True), ("General", False), ("@", 1234.5), ('0;-0;0;"["@"]"', "文字")])
    # Probes for General's switch to E notation and its significant digits.
    cells.extend(("General", n) for n in (1234567890123, 12345678901, 0.000012345, 1.5e-10, 123456.789012,
                                          -9876543.21, 1e100, 22.0 / 7, 100000000000000000000.0, 1e-5, 1e-6, 1.2e-8,
                                          1e-9, 1.23456789e-9, 1e14, 999999999999999.0, 1e15, 1.5e15, 1e16,
                                          123456789012345678.0, -1e21, 0.1234567890123456, 1e-300, 5e-324))
    # Probes for rounding of times (to the second, or truncated), negative zero and sections.
    for code in ("h:mm", "h:mm:ss", "[h]:mm:ss", "h:mm:ss AM/PM", "mm:ss.0", "[s]", "yyyy/m/d h:mm:ss"):
        cells.extend((code, v) for v in (0.999988, 0.5 + 29.6 / 86400, 0.5 + 30.5 / 86400, 45351.999995))
    for code in ('#,##0;-#,##0;"-"', "#,##0;△#,##0", "0.0", "0", '[<0]"減"0;"増"0', '[<=-1]"減"0;0',
                 '[>=1000]#,##0,"千";[<0]"負"0;0', "0;-0;0;@", "#,##0_ ;[Red]\\-#,##0\\ ", "0.0;(0.0)", "#.##", ".00",
                 "#,###", "0.0#", "00.0E+0", "0.0E-0", "# ?/2", "# ??/100", "0-000", '000"-"0000',
                 '[>=1000]#,##0,"千";0', '#,##0;-#,##0;"-";"<"@">"'):
        cells.extend((code, v) for v in (-0.0004, -0.5, -1234.5, 0, 0.04, 1234567.891, -1500))
    return cells


_PLACEHOLDER = re.compile(r'"builtin (\d+)"0')


def write_corpus(path: Path, cells: list[tuple[str | int, object]]) -> Path:
    """One sheet, one cell a row: column A the value in its format, column B the format as text.

    Built-in ids are written as placeholder codes, then styles.xml is rewritten so the cells
    refer to the id alone, with no <numFmt> entry, as Excel writes them.
    """
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    for row, (fmt, value) in enumerate(cells, start=1):
        cell = ws.cell(row=row, column=1, value=value)
        cell.number_format = f'"builtin {fmt}"0' if isinstance(fmt, int) else fmt
        label = ws.cell(row=row, column=2, value=f"builtin {fmt}" if isinstance(fmt, int) else fmt)
        label.number_format = "@"
    staging = path.with_suffix(".staging.xlsx")
    wb.save(staging)

    def builtin_of(code: str) -> int | None:
        found = _PLACEHOLDER.fullmatch(code)
        return int(found.group(1)) if found else None

    writers.as_builtin_ids(staging, path, builtin_of)
    staging.unlink()
    _check_builtin_references(path, cells)
    return path


def _check_builtin_references(path: Path, cells) -> None:
    """Every built-in id is referenced by numFmtId alone: no <numFmt> entry defines an id under 164."""
    with zipfile.ZipFile(path) as zf:
        styles = zf.read("xl/styles.xml").decode("utf-8")
    defined = {int(i) for i in re.findall(r'<numFmt numFmtId="(\d+)"', styles)}
    used = {int(i) for i in re.findall(r'<xf [^>]*numFmtId="(\d+)"', styles)}
    assert not defined & set(range(164)), f"built-in ids defined by <numFmt>: {sorted(defined & set(range(164)))}"
    wanted = {fmt for fmt, _ in cells if isinstance(fmt, int)}
    assert wanted <= used, f"built-in ids not referenced: {sorted(wanted - used)}"
    assert "builtin " not in styles.replace("&quot;", '"').split("<cellXfs")[0]


def shown_by_libreoffice(paths: list[Path], out_dir: Path, locale: str = LOCALE) -> dict[Path, list[list[str]]]:
    """Each workbook's first sheet as LibreOffice Calc shows it in ``locale``: its rows of fields.

    One soffice process, with a private profile in ``out_dir``, converts every workbook.
    """
    profile = writers.calc_profile(out_dir / "lo-profile", locale)
    converted = writers.convert(list(paths), out_dir / "csv", CSV_FILTER, profile)
    shown = {}
    for source, target in zip(paths, converted):
        with open(target, encoding="utf-8", newline="") as f:
            shown[source] = list(csv.reader(f))
    return shown


def column(rows: list[list[str]], index: int = 0) -> list[str]:
    """One column of the CSV rows (an empty string where a row is shorter)."""
    return [row[index] if index < len(row) else "" for row in rows]
