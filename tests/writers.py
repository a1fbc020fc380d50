"""One logical return, written by every writer we can run, and the rewrites real writers make.

The return is 企画調整部's: a percent KPI typed as a percentage (scaled, never
rounded), a count in a thousands format, a value with a 時点 date in an era
format and one in yyyy/m/d, a value with 約 and spaces, and an outcome figure
with its 時点 in parentheses, as the seed writes outcomes. Every version must
parse to :data:`EXPECTED`, value for value.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

from shinchoku.workbook.layout import HEADER, OUTCOME_HEADER, OUTCOME_SHEET, PROP_DEPARTMENT, PROP_FISCAL_YEAR, SHEET

DEPARTMENT = "企画調整部"
ERA_DATE = '[$-411]ggge"年"m"月"d"日"'
# (指標ID, 年度, 実績値, its number format, 時点, its number format)
ACTUALS = [
    ("GOV-K01", 2022, 0.58754, "0.0%", None, None),
    ("GOV-K01", "R5", 0.615, "0.00%", dt.datetime(2024, 2, 29), ERA_DATE),
    ("REG-K01", 2021, 1234, "#,##0", None, None),
    ("REG-K01", "令和 4 年度", "約 140 人", None, None, None),
    ("REG-K01", 2023, 130, None, dt.datetime(2023, 12, 31), "yyyy/m/d"),
]
OUTCOMES = [("GOV-01", 2021, "業務の棚卸しを実施", "対象業務の洗い出し", "1,187時間(R3年度(2月末現在))", "時間")]
# (table, item, fiscal year, 時点, value, approximate)
EXPECTED = {
    ("kpi", "GOV-K01", 2022, "2023-03-31", 58.754, False),
    ("kpi", "GOV-K01", 2023, "2024-02-29", 61.5, False),
    ("kpi", "REG-K01", 2021, "2022-03-31", 1234.0, False),
    ("kpi", "REG-K01", 2022, "2023-03-31", 140.0, True),
    ("kpi", "REG-K01", 2023, "2023-12-31", 130.0, False),
    ("outcome", "GOV-01", 2021, "2022-02-28", 1187.0, False),
}
# year_differs: rows for FY2021 and FY2022 in a return for FY2023
# computed_kpi_reported: GOV-K01 is computed from the survey sheets from FY2021; a department's value is the fallback
EXPECTED_WARNINGS = {"approximate_value", "as_of_in_value", "suspicious_value", "year_differs", "computed_kpi_reported"}


def observations(assessment) -> set[tuple]:
    """An assessment's records in EXPECTED's shape."""
    return {(r["table"], r["item_id"], r["fiscal_year"], r["as_of"].isoformat(), round(r["actual_value"], 9),
             r["approximate"]) for r in assessment.records}


# ---- writers ----

def with_openpyxl(path: Path, *, epoch_1904: bool = False) -> Path:
    """openpyxl, optionally in the 1904 date system Mac Excel may use."""
    from openpyxl import Workbook
    from openpyxl.packaging.custom import IntProperty, StringProperty
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = Workbook()
    if epoch_1904:
        wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.title = SHEET
    ws.append(list(HEADER))
    for r, (kpi, year, value, fmt, as_of, as_of_fmt) in enumerate(ACTUALS, start=2):
        for col, item in enumerate((kpi, "", "", year, value, as_of, None), start=1):
            if item is not None:
                ws.cell(row=r, column=col, value=item)
        if fmt:
            ws.cell(row=r, column=5).number_format = fmt
        if as_of_fmt:
            ws.cell(row=r, column=6).number_format = as_of_fmt
    out = wb.create_sheet(OUTCOME_SHEET)
    out.append(list(OUTCOME_HEADER))
    for initiative, year, activities, outcome, figure, unit in OUTCOMES:
        out.append([initiative, "", year, activities, outcome, figure, unit, None])
    wb.custom_doc_props.append(StringProperty(name=PROP_DEPARTMENT, value=DEPARTMENT))
    wb.custom_doc_props.append(IntProperty(name=PROP_FISCAL_YEAR, value=2023))
    wb.save(path)
    return path


def with_xlsxwriter(path: Path) -> Path:
    """XlsxWriter: shared strings, its own styles, built-in format ids where it knows them."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(SHEET)
    ws.write_row(0, 0, list(HEADER))
    formats = {}

    def fmt(code):
        if code and code not in formats:
            formats[code] = wb.add_format({"num_format": code})
        return formats.get(code)

    for r, (kpi, year, value, value_fmt, as_of, as_of_fmt) in enumerate(ACTUALS, start=1):
        ws.write_string(r, 0, kpi)
        ws.write(r, 3, year)
        ws.write(r, 4, value, fmt(value_fmt))
        if as_of is not None:
            ws.write_datetime(r, 5, as_of, fmt(as_of_fmt))
    out = wb.add_worksheet(OUTCOME_SHEET)
    out.write_row(0, 0, list(OUTCOME_HEADER))
    for r, (initiative, year, activities, outcome, figure, unit) in enumerate(OUTCOMES, start=1):
        out.write_row(r, 0, [initiative, "", year, activities, outcome, figure, unit])
    wb.set_custom_property(PROP_DEPARTMENT, DEPARTMENT)
    wb.set_custom_property(PROP_FISCAL_YEAR, 2023)
    wb.close()
    return path


# ---- rewrites of a package, as other writers lay out the same content ----

_SPREADSHEETML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_MAIN_PARTS = re.compile(r"^xl/(workbook|styles|sharedStrings|worksheets/[^/]+)\.xml$")


def _rewrite(source: Path, target: Path, edit) -> Path:
    """Copy a package, passing each part's bytes through ``edit(name, data)``."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, edit(info.filename, zin.read(info)))
    return target


def prefixed(source: Path, target: Path, prefix: str = "x") -> Path:
    """The SpreadsheetML namespace bound to a prefix (<x:c>, <x:numFmt>), as .NET's Open XML SDK writes it,
    with the cells' and rows' r attributes dropped, which the standard allows."""
    import xml.etree.ElementTree as ET

    def edit(name: str, data: bytes) -> bytes:
        if not _MAIN_PARTS.match(name):
            return data
        ET.register_namespace(prefix, _SPREADSHEETML)
        ET.register_namespace("r", "http://schemas.openxmlformats.org/officeDocument/2006/relationships")
        root = ET.fromstring(data)
        if name.startswith("xl/worksheets/"):
            _drop_implied_refs(root)
            for dimension in root.iter(f"{{{_SPREADSHEETML}}}dimension"):
                dimension.set("ref", "A1:B2")  # wrong on purpose: it must change nothing
        text = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        assert f"<{prefix}:".encode() in text
        return text

    return _rewrite(source, target, edit)


def _drop_implied_refs(root) -> None:
    """Remove every r attribute that only repeats the position order implies (next row, next column)."""
    from shinchoku.workbook.messages import column_letter

    row_number = 0
    for row in root.iter(f"{{{_SPREADSHEETML}}}row"):
        if row.get("r") == str(row_number + 1):
            del row.attrib["r"]
        row_number = int(row.get("r", row_number + 1))
        column = 0
        for c in row:
            ref = c.get("r", "")
            letters = ref.rstrip("0123456789")
            if ref == f"{column_letter(column)}{row_number}":
                del c.attrib["r"]
                column += 1
            elif letters:
                column = next(i for i in range(16384) if column_letter(i) == letters) + 1


def with_phonetics(source: Path, target: Path) -> Path:
    """Furigana in every shared string, as Japanese Excel stores it (<rPh> inside <si>), and one
    string split into rich-text runs as LibreOffice writes them."""

    def edit(name: str, data: bytes) -> bytes:
        if name != "xl/sharedStrings.xml":
            return data
        text = data.decode("utf-8")
        text = re.sub(r"(<si>)(<t[^>]*>)([^<]*)(</t>)(</si>)",
                      lambda m: _runs(m.group(3)) if m.group(3) == "約 140 人" else
                      m.group(1) + m.group(2) + m.group(3) + m.group(4)
                      + '<rPh sb="0" eb="1"><t>フリガナ</t></rPh><phoneticPr fontId="1"/>' + m.group(5), text)
        assert text.count("<rPh") >= 5
        return text.encode("utf-8")

    return _rewrite(source, target, edit)


def _runs(value: str) -> str:
    head, tail = value[:3], value[3:]
    return (f'<si><r><rPr><b/></rPr><t xml:space="preserve">{head}</t></r><r><t xml:space="preserve">{tail}</t></r>'
            '<rPh sb="0" eb="1"><t>ヤク</t></rPh></si>')


def builtin_formats(source: Path, target: Path) -> Path:
    """Cells whose formats are built-in ids with no <numFmt> entry: 10 for 0.00%, 9 for 0%,
    14 for a date, 57 for the ja-JP era date, as Excel writes them."""
    replacements = {"0.0%": 9, "0.00%": 10, "yyyy/m/d": 14, ERA_DATE: 57, "#,##0": 3}
    return as_builtin_ids(source, target, replacements.get, keep_others=False)


def as_builtin_ids(source: Path, target: Path, builtin_of, keep_others: bool = True) -> Path:
    """The workbook with each custom format that ``builtin_of(code)`` names a built-in id for referenced by that
    id alone, its <numFmt> entry removed (as Excel writes built-in formats); ``keep_others=False`` drops the
    other custom formats too."""
    def edit(name: str, data: bytes) -> bytes:
        if name != "xl/styles.xml":
            return data
        text = data.decode("utf-8")
        ids = {}
        for fmt_id, code in re.findall(r'<numFmt numFmtId="(\d+)" formatCode="([^"]*)"\s*/>', text):
            builtin = builtin_of(code.replace("&quot;", '"'))
            if builtin is not None:
                ids[fmt_id] = str(builtin)
        assert ids
        text = re.sub(r'<numFmt numFmtId="(\d+)" formatCode="[^"]*"\s*/>',
                      lambda m: "" if m.group(1) in ids else m.group(0), text)
        text = re.sub(r'numFmtId="(\d+)"', lambda m: f'numFmtId="{ids.get(m.group(1), m.group(1))}"', text)
        remaining = text.count("<numFmt ") if keep_others else 0
        text = re.sub(r'<numFmts count="\d+">', f'<numFmts count="{remaining}">', text)
        if not remaining:
            text = re.sub(r"<numFmts\b.*?</numFmts>|<numFmts[^>]*/>", "", text, flags=re.DOTALL)
        return text.encode("utf-8")

    return _rewrite(source, target, edit)


def soffice() -> str | None:
    """The LibreOffice command, if installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def calc_profile(directory: Path, locale: str | None = None) -> Path:
    """A private LibreOffice user profile in ``directory``; with ``locale`` (ja-JP), Calc formats
    numbers and dates as it does for a person whose system is in that locale.

    The locale is the profile's ``/org.openoffice.Setup/L10N/ooSetupSystemLocale`` (the
    "locale setting" of Tools > Options > Language Settings), written before the first start;
    the linguistic default locales are set too, so nothing falls back to en-US.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if locale:
        user = directory / "user"
        user.mkdir(exist_ok=True)
        items = [("/org.openoffice.Setup/L10N", "ooSetupSystemLocale"),
                 ("/org.openoffice.Office.Linguistic/General", "DefaultLocale"),
                 ("/org.openoffice.Office.Linguistic/General", "DefaultLocale_CJK")]
        (user / "registrymodifications.xcu").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            + "".join(f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{locale}</value></prop>'
                      f'</item>\n' for path, name in items)
            + "</oor:items>\n", encoding="utf-8")
    return directory


def convert(sources: list[Path], out_dir: Path, target: str, profile: Path, extension: str | None = None) -> list[Path]:
    """Convert workbooks with one soffice process (its start-up is most of the cost).

    ``target`` is what ``--convert-to`` takes: an extension, or ``ext:Filter name:options``;
    names must differ by stem. Returns the converted files, in the order of ``sources``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [soffice(), f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless", "--convert-to", target,
               "--outdir", str(out_dir), *map(str, sources)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    ext = extension or target.partition(":")[0]
    converted = [out_dir / (source.stem + "." + ext) for source in sources]
    for path in converted:
        assert path.exists(), f"LibreOffice wrote no {path.name}"
    return converted


def through_calc(sources: list[Path], target_dir: Path, via: str | None = None) -> list[Path]:
    """Round-trip workbooks through LibreOffice Calc's own writers: to xlsx, or to ``via`` and back.

    One soffice process per step converts them all; names must differ by stem.
    """
    profile = calc_profile(target_dir / "lo-profile")
    steps = list(sources)
    for ext in ([via] if via else []) + ["xlsx"]:
        steps = convert(steps, target_dir / ext, ext, profile)
    return steps
