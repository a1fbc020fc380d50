"""Hostile workbooks, built byte by byte: what a shared inbox may receive.

Used by the tests of hostile files and by the benchmark's memory checks.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from shinchoku.workbook.layout import HEADER
from shinchoku.workbook.messages import column_letter

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '{sheets}</Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>'
)
SHEET_OPEN = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
SHEET_CLOSE = "</sheetData></worksheet>"


# The namespace prefix every SpreadsheetML part is written with: "" for none, or e.g. "x"
# (<x:c>, as .NET's Open XML SDK writes); the hostile tests run once with each.
PREFIX = ""
_MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_TAG = re.compile(r"<(/?)([A-Za-z][\w.-]*)(?=[\s/>])")


def prefixed(xml: str) -> str:
    """XML written by this module, its SpreadsheetML elements under PREFIX (a no-op without one)."""
    if not PREFIX:
        return xml
    return _TAG.sub(rf"<\1{PREFIX}:\2", xml).replace(_MAIN, _MAIN.replace("xmlns=", f"xmlns:{PREFIX}="))


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def header_row() -> str:
    return '<row r="1">' + "".join(_inline(f"{column_letter(i)}1", h) for i, h in enumerate(HEADER)) + "</row>"


def data_row(r: int, kpi: str = "GOV-K01", year: int = 2023, value: float = 50) -> str:
    return (f'<row r="{r}">' + _inline(f"A{r}", kpi) + f'<c r="D{r}"><v>{year}</v></c><c r="E{r}"><v>{value}</v></c></row>')


def write_xlsx(path: Path, sheets: dict[str, object], extra: dict[str, bytes] | None = None) -> Path:
    """A minimal workbook: sheet name -> sheet XML (str, or an iterable of str chunks streamed in)."""
    buffer = path.open("wb")
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for n in range(1, len(sheets) + 1))
        z.writestr("[Content_Types].xml", CONTENT_TYPES.format(sheets=overrides))
        z.writestr("_rels/.rels", ROOT_RELS)
        names = "".join(f'<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>' for n, name in enumerate(sheets, start=1))
        z.writestr("xl/workbook.xml", prefixed(
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                   '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                   f"<sheets>{names}</sheets></workbook>"))
        rels = "".join(
            f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            f'Target="worksheets/sheet{n}.xml"/>' for n in range(1, len(sheets) + 1))
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                   f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>')
        for n, content in enumerate(sheets.values(), start=1):
            with z.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as f:
                chunks = [content] if isinstance(content, str) else content
                for chunk in chunks:
                    f.write(prefixed(chunk).encode("utf-8"))
        for name, data in (extra or {}).items():
            z.writestr(name, prefixed(data.decode("utf-8")).encode("utf-8") if name.startswith("xl/") else data)
    buffer.close()
    return path


def table_sheet(rows: int) -> object:
    """Sheet XML chunks for a return-sheet table with ``rows`` data rows, streamed."""
    yield SHEET_OPEN + header_row()
    batch = []
    for r in range(2, rows + 2):
        batch.append(data_row(r))
        if len(batch) == 10_000:
            yield "".join(batch)
            batch = []
    yield "".join(batch) + SHEET_CLOSE


def million_rows(path: Path, rows: int = 1_000_000) -> Path:
    """A return-sheet table with a million rows (about 70 MB of sheet XML, 2 MB zipped)."""
    return write_xlsx(path, {"実績報告": table_sheet(rows)})


def zip_bomb(path: Path, gigabytes: float = 2.0) -> Path:
    """A tiny file whose sheet XML unpacks to gigabytes: one cell followed by endless whitespace."""
    chunk = " " * (1 << 20)

    def sheet():
        yield SHEET_OPEN + header_row() + data_row(2)
        for _ in range(int(gigabytes * 1024)):
            yield chunk
        yield SHEET_CLOSE

    return write_xlsx(path, {"実績報告": sheet()})


def billion_laughs(path: Path) -> Path:
    """XML entity expansion in the shared strings part."""
    lol = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10))
           + ']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
           '<si><t>&lol9;</t></si></sst>')
    sheet = SHEET_OPEN + header_row() + data_row(2) + SHEET_CLOSE
    return write_xlsx(path, {"実績報告": sheet}, {"xl/sharedStrings.xml": lol.encode()})


def external_entity(path: Path) -> Path:
    """An external entity in the workbook part, pointing at a local file."""
    sheet = SHEET_OPEN + header_row() + data_row(2) + SHEET_CLOSE
    write_xlsx(path, {"実績報告": sheet})
    data = io.BytesIO(path.read_bytes())
    out = io.BytesIO()
    with zipfile.ZipFile(data) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == "xl/workbook.xml":
                root = re.search(rb"<[\w:]*workbook ", content).group(0)
                content = content.replace(root, b'<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + root, 1)
                content = content.replace(b'name="', b'name="&xxe;', 1)
            dst.writestr(item, content)
    path.write_bytes(out.getvalue())
    return path


def many_sheets(path: Path, count: int = 3000) -> Path:
    sheets = {"実績報告": SHEET_OPEN + header_row() + data_row(2) + SHEET_CLOSE}
    sheets.update({f"S{n}": SHEET_OPEN + SHEET_CLOSE for n in range(count)})
    return write_xlsx(path, sheets)


def huge_string(path: Path, megabytes: int = 10) -> Path:
    text = "あ" * (megabytes * 1024 * 1024 // 3)
    sheet = SHEET_OPEN + header_row() + data_row(2).replace("</row>", _inline("G2", text) + "</row>") + SHEET_CLOSE
    return write_xlsx(path, {"実績報告": sheet})


def wide_sheet(path: Path, columns: int = 16_384) -> Path:
    cells = "".join(f'<c r="{column_letter(i)}3"><v>1</v></c>' for i in range(columns))
    sheet = SHEET_OPEN + header_row() + data_row(2) + f'<row r="3">{cells}</row>' + SHEET_CLOSE
    return write_xlsx(path, {"実績報告": sheet})


def _repeated(text: str, count: int, batch: int = 1 << 18):
    """``text`` ``count`` times, in chunks (a builder's sheet streamed into the package)."""
    while count > 0:
        n = min(batch, count)
        yield text * n
        count -= n


def many_cells(path: Path, sheets: int = 12, rows: int = 5_000, cells: int = 200) -> Path:
    """Every limit but cells kept: sheets of ``rows`` rows of ``cells`` cells each, the table's header on each
    (so it is also there twice). The default, 12 million cells, is 0.45 MB zipped: a security trial's
    workbook that took 4.4 GB and 4 minutes when only rows, columns and sheets were limited."""
    row = "<row>" + "<c><v>1</v></c>" * cells + "</row>"

    def sheet():
        yield SHEET_OPEN + header_row()
        yield from _repeated(row, rows - 1, 100)
        yield SHEET_CLOSE

    return write_xlsx(path, {f"報告{n + 1}": sheet() for n in range(sheets)})


def deep_nesting(path: Path, depth: int = 8_000_000) -> Path:
    """``<x>`` nested ``depth`` deep inside a cell of a return sheet; the default is a 56 KB file
    (24 MB of sheet XML) that took 2.2 GB when only bytes were limited."""
    def sheet():
        yield SHEET_OPEN + header_row() + data_row(2) + '<row r="3"><c r="A3">'
        yield from _repeated("<x>", depth)
        yield from _repeated("</x>", depth)
        yield "</c></row>" + SHEET_CLOSE

    return write_xlsx(path, {"実績報告": sheet()})


def junk_elements(path: Path, count: int = 15_000_000) -> Path:
    """``count`` empty ``<x/>`` elements between a return sheet's rows; the default is a 60 KB file
    (60 MB of sheet XML) that took 1.4 GB when only bytes were limited."""
    def sheet():
        yield SHEET_OPEN + header_row() + data_row(2)
        yield from _repeated("<x/>", count)
        yield SHEET_CLOSE

    return write_xlsx(path, {"実績報告": sheet()})


def _peak_bytes() -> int:
    """This process image's peak RSS (VmHWM), or any worker's if larger."""
    import resource

    own = int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) * 1024


def _child(argv: list[str]) -> None:
    """``check PATH``: assess one workbook; ``run ROOT``: ingest ROOT/inbox into ROOT/w. One JSON line each,
    with the codes, the seconds after imports and this process's peak RSS (the benchmark's hostile section)."""
    import json
    import time

    from shinchoku.catalogue import load_catalogue

    catalogue = load_catalogue()
    started = time.perf_counter()
    if argv[0] == "check":
        from shinchoku.workbook.assess import assess_files
        from shinchoku.config import Limits

        [found] = assess_files([(Path(argv[1]), "企画調整部")], catalogue, Limits())
        result = {"codes": [i.code for i in found.errors]}
    else:
        from shinchoku.settings import load_settings
        from shinchoku.run.steps import run_ingest

        root = Path(argv[1])
        settings = load_settings(inbox=root / "inbox", warehouse=root / "w" / "shinchoku.duckdb", settle_seconds=0,
                                 site_build=False, env={}, config_file=root / "none.toml")
        summary = run_ingest(settings, catalogue)
        result = {"files": {d.candidate.path.name: [d.status, *(i.code for i in d.issues if i.severity == "error")]
                            for d in summary.decisions}}
    print(json.dumps({**result, "seconds": time.perf_counter() - started, "vmhwm_bytes": _peak_bytes()}))


if __name__ == "__main__":
    import sys

    _child(sys.argv[1:])
