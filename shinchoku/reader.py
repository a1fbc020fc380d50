"""Read a return-sheet workbook: container checks, the table, and the cells' formats.

Values come from python-calamine (Rust, about 15x faster than openpyxl). Number
formats, which calamine does not expose, come from a small pass over the sheet
XML: only percentage styles and formulas without a saved value matter here.
The same pass enforces the size limits before calamine loads anything, so a
zip bomb or a million-row sheet is refused without being held in memory.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import zlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from posixpath import join, normpath

import python_calamine
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from xml.etree.ElementTree import ParseError

from .config import Limits
from .messages import Issue, cell_ref
from .parse import normalize_text
from .layout import HEADER, OUTCOME_HEADER, PROP_DEPARTMENT, PROP_FISCAL_YEAR

HEADER_SCAN_ROWS = 50
HEADER_SCAN_COLUMNS = 30
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_BUILTIN_PERCENT = {9, 10}
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_ATTR_R = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
_ATTR_S = re.compile(rb'\bs="([0-9]{1,6})"')
_COLUMN_REF = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})[0-9]')


class Rejection(Exception):
    """The workbook cannot be read at all; carries the issue to report."""

    def __init__(self, code: str, detail: str = "", **params):
        super().__init__(code, detail)
        self.issue = Issue(code, params={"detail": detail, **params})


@dataclass
class RawRow:
    """One data row of a table, as raw cell values keyed by header label."""

    row0: int
    cells: dict[str, object]
    percent: bool = False
    formula_missing: tuple[str, ...] = ()


@dataclass
class Table:
    """A table found by its header labels: where it is and its data rows."""

    sheet: str
    header_row0: int
    columns: dict[str, int]
    rows: list[RawRow] = field(default_factory=list)

    def cell(self, row: RawRow, label: str) -> str:
        """A1 reference of a labelled cell in a row."""
        return cell_ref(row.row0, self.columns[label])


@dataclass(frozen=True)
class TableSpec:
    """How to recognise a table: its header labels, the key and value columns."""

    header: tuple[str, ...]
    key: str
    value: str

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(normalize_text(h) for h in self.header)


RETURN_TABLE = TableSpec(HEADER, "指標ID", "実績値")
OUTCOME_TABLE = TableSpec(OUTCOME_HEADER, "項目ID", "数値")


@dataclass
class WorkbookRead:
    """What one workbook holds: its declared owner, its tables and any problems."""

    table: Table | None = None
    outcomes: Table | None = None
    declared_department: str | None = None
    declared_fiscal_year: int | None = None
    macro: bool = False
    issues: list[Issue] = field(default_factory=list)

    @property
    def sheet(self) -> str | None:
        return self.table.sheet if self.table else None


def read_workbook(path: Path, limits: Limits) -> WorkbookRead:
    """Read one workbook; every failure becomes a coded issue, never an exception."""
    try:
        return _read(Path(path), limits)
    except Rejection as r:
        return WorkbookRead(issues=[r.issue])
    except (DefusedXmlException, ValueError) as e:
        if isinstance(e, DefusedXmlException) or "entity" in str(e).lower():
            return WorkbookRead(issues=[Issue("unsafe_xml")])
        return WorkbookRead(issues=[Issue("corrupt_file", params={"detail": type(e).__name__})])
    except (ParseError, zipfile.BadZipFile, zlib.error, struct.error, python_calamine.CalamineError, EOFError,
            KeyError, IndexError, LookupError, UnicodeError, NotImplementedError, OverflowError, RuntimeError) as e:
        return WorkbookRead(issues=[Issue("corrupt_file", params={"detail": type(e).__name__})])
    except OSError as e:
        return WorkbookRead(issues=[Issue("corrupt_file", params={"detail": e.strerror or type(e).__name__})])
    except MemoryError:
        return WorkbookRead(issues=[Issue("too_large", params={"detail": "メモリ上限"})])
    except Exception as e:  # noqa: BLE001 - the fuzz tests count these as crashes
        return WorkbookRead(issues=[Issue("unexpected_error", params={"detail": type(e).__name__})])


def _read(path: Path, limits: Limits) -> WorkbookRead:
    data = _read_bytes(path, limits)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        # A zip that starts right but has no central directory at its end was cut short.
        if b"PK\x05\x06" not in data[-(65536 + 22):]:
            raise Rejection("truncated_file") from None
        raise
    infos = zf.infolist()
    if len(infos) > limits.max_zip_entries:
        raise Rejection("zip_bomb", f"ブック内の部品が{len(infos):,}個、上限{limits.max_zip_entries:,}個")
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed_bytes:
        raise Rejection("zip_bomb", f"展開後 {total / 2**20:,.0f}MB、上限{limits.max_uncompressed_bytes // 2**20}MB")
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        kind = "Wordなど別の形式の文書" if "word/document.xml" in names or "ppt/presentation.xml" in names else "Excelブックの構造がありません"
        raise Rejection("not_xlsx", kind)
    result = WorkbookRead(macro="xl/vbaProject.bin" in names)
    _read_properties(zf, names, result, limits)

    sheets = _worksheet_parts(zf, limits)
    if len(sheets) > limits.max_sheets:
        raise Rejection("too_many_sheets", f"{len(sheets)}シート、上限{limits.max_sheets}")
    # Everything calamine will parse is read here first, within limits, so a part that
    # lies about its size or expands without bound is refused before calamine sees it.
    for part in ("xl/sharedStrings.xml", "xl/styles.xml"):
        if part in names:
            _check_text_lengths(_read_part(zf, part, limits), limits)
    sheet_xml = {}
    for name, part in sheets:
        _check_declared_sheet(zf, part, limits)
        xml = _read_part(zf, part, limits)
        _check_sheet_size(xml, limits)
        _check_text_lengths(xml, limits)
        sheet_xml[name] = xml

    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    grids = {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name, _ in sheets}
    styles = _percent_styles(zf, names, limits)
    labels = {name: _label_index(grid) for name, grid in grids.items()}
    result.table = _one_table(RETURN_TABLE, grids, sheet_xml, styles, True, labels)
    result.outcomes = _one_table(OUTCOME_TABLE, grids, sheet_xml, styles, False, labels)
    return result


def _one_table(spec: TableSpec, grids: dict, sheet_xml: dict, styles: set[int], required: bool,
               labels: dict | None = None) -> Table | None:
    """The single table matching ``spec`` across all sheets, with its data rows."""
    labels = labels if labels is not None else {name: _label_index(grid) for name, grid in grids.items()}
    hits = [(name, row0, cols) for name in grids for row0, cols in _find_headers(labels[name], spec)]
    if not hits:
        if required:
            raise Rejection("no_table")
        return None
    if len(hits) > 1:
        where = "、".join(f"{name}!{row0 + 1}行目" for name, row0, _ in hits[:5])
        raise Rejection("table_twice", where)
    name, header_row0, columns = hits[0]
    table = Table(name, header_row0, columns)
    flags = _cell_flags(sheet_xml[name], columns, header_row0, styles, spec.value)
    grid = grids[name]
    for row0 in range(header_row0 + 1, len(grid)):
        line = grid[row0]
        cells = {label: (line[col] if col < len(line) else "") for label, col in columns.items()}
        percent, formula_missing = flags.get(row0, (False, ()))
        if _blank(cells[spec.key]) and _blank(cells[spec.value]) and not formula_missing:
            continue
        table.rows.append(RawRow(row0, cells, percent, formula_missing))
    return table


def _read_bytes(path: Path, limits: Limits) -> bytes:
    with open(path, "rb") as f:
        data = f.read(limits.max_file_bytes + 1)
    if not data:
        raise Rejection("empty_file")
    if len(data) > limits.max_file_bytes:
        raise Rejection("too_large", f"{limits.max_file_bytes // (1024 * 1024)}MBを超えています")
    if data.startswith(_OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
            raise Rejection("encrypted")
        raise Rejection("legacy_xls")
    if not data.startswith(b"PK\x03\x04"):
        if _looks_like_text(data[:4096]):
            raise Rejection("text_file")
        raise Rejection("not_xlsx", "形式を判別できません")
    return data


def _looks_like_text(head: bytes) -> bool:
    if b"\0" in head:
        return False
    for encoding in ("utf-8", "cp932"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _read_part(zf: zipfile.ZipFile, name: str, limits: Limits) -> bytes:
    """Decompress one part, refusing it once it passes the per-part limit."""
    info = zf.getinfo(name)
    if info.file_size > limits.max_part_bytes:
        raise Rejection("zip_bomb", f"{name} が展開後 {info.file_size / 2**20:,.0f}MB、上限{limits.max_part_bytes // 2**20}MB")
    # zipfile stops at the declared size and checks the CRC, so a part that lies about
    # its size fails here instead of expanding without bound.
    data = zf.read(info)
    head = data[:65536]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise Rejection("unsafe_xml")
    return data


def _parse_xml(data: bytes):
    return SafeET.fromstring(data, forbid_dtd=True)


def _worksheet_parts(zf: zipfile.ZipFile, limits: Limits) -> list[tuple[str, str]]:
    """(sheet name, part path) of every worksheet, in workbook order."""
    workbook = _parse_xml(_read_part(zf, "xl/workbook.xml", limits))
    rels_name = "xl/_rels/workbook.xml.rels"
    targets = {}
    if rels_name in zf.namelist():
        for rel in _parse_xml(_read_part(zf, rels_name, limits)).iter(f"{_NS_PKG_REL}Relationship"):
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
            targets[rel.get("Id")] = path
    sheets = []
    names = set(zf.namelist())
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        part = targets.get(sheet.get(f"{_NS_REL}id"))
        if part and part in names and "worksheets/" in part:
            sheets.append((sheet.get("name", ""), part))
    return sheets


def _read_properties(zf: zipfile.ZipFile, names: set[str], result: WorkbookRead, limits: Limits) -> None:
    if "docProps/custom.xml" not in names:
        return
    root = _parse_xml(_read_part(zf, "docProps/custom.xml", limits))
    for prop in root:
        value = next(iter(prop), None)
        text = value.text if value is not None else None
        name = prop.get("name")
        if name == PROP_DEPARTMENT:
            result.declared_department = text
        elif name == PROP_FISCAL_YEAR and text and text.strip().isdigit():
            result.declared_fiscal_year = int(text)


def _check_declared_sheet(zf: zipfile.ZipFile, part: str, limits: Limits) -> None:
    """A sheet declared larger than the part limit: count its rows while streaming, to say why.

    At most ``max_part_bytes`` are decompressed, one chunk at a time, and nothing is kept.
    """
    info = zf.getinfo(part)
    if info.file_size <= limits.max_part_bytes:
        return
    rows, seen, tail = 0, 0, b""
    with zf.open(info) as f:
        while seen < limits.max_part_bytes and (chunk := f.read(1 << 20)):
            seen += len(chunk)
            window = tail + chunk
            rows += window.count(b"<row ") + window.count(b"<row>") - tail.count(b"<row ") - tail.count(b"<row>")
            tail = chunk[-8:]
            if rows > limits.max_rows:
                raise Rejection("too_many_rows", f"{limits.max_rows:,}行を超えています")


def _check_sheet_size(xml: bytes, limits: Limits) -> None:
    rows = xml.count(b"<row ") + xml.count(b"<row>")
    if rows > limits.max_rows:
        raise Rejection("too_many_rows", f"{rows:,}行、上限{limits.max_rows:,}行")
    widest = max((len(c), c) for c in set(_COLUMN_REF.findall(xml))) if b"<c " in xml else (0, b"")
    if widest[0] and _column_number(widest[1].decode()) > limits.max_columns:
        raise Rejection("too_many_columns", f"{widest[1].decode()}列まで、上限{limits.max_columns}列")


@functools.lru_cache(maxsize=4)
def _long_text(max_chars: int) -> re.Pattern:
    return re.compile(rb"<(?:t|v)(?:\s[^>]*)?>([^<]{%d,})" % (max_chars + 1))


def _check_text_lengths(xml: bytes, limits: Limits) -> None:
    # Bytes are at least as many as characters, so a short byte run cannot be too long.
    if len(xml) <= limits.max_cell_chars:
        return
    for match in _long_text(limits.max_cell_chars).finditer(xml):
        chars = len(match.group(1).decode("utf-8", "replace"))
        if chars > limits.max_cell_chars:
            raise Rejection("cell_too_long", f"{chars:,}文字、上限{limits.max_cell_chars:,}文字")


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# Header labels are short and start with a kanji NFKC leaves alone (指標ID, 年度, 成果・効果...):
# other text (titles, instructions, KPI names, IDs) is never normalised.
_MAX_LABEL = 12
_LABEL_STARTS = frozenset(h[0] for h in HEADER + OUTCOME_HEADER)


def _label_index(grid: list[list]) -> list[tuple[int, dict[str, list[int]]]]:
    """Per row of the scan area, the normalised short texts and the columns holding them."""
    index = []
    for row0, line in enumerate(grid[:HEADER_SCAN_ROWS]):
        positions: dict[str, list[int]] = {}
        for col0, value in enumerate(line[:HEADER_SCAN_COLUMNS]):
            if isinstance(value, str) and value and len(value) <= _MAX_LABEL and value.lstrip()[:1] in _LABEL_STARTS:
                key = normalize_text(value).replace(" ", "").replace("\n", "")
                positions.setdefault(key, []).append(col0)
        if positions:
            index.append((row0, positions))
    return index


def _find_headers(index: list[tuple[int, dict[str, list[int]]]], spec: TableSpec) -> list[tuple[int, dict[str, int]]]:
    """Rows holding all of a table's header labels, with their columns (a row twice if the labels repeat)."""
    keys = spec.keys
    found = []
    for row0, positions in index:
        if all(key in positions for key in keys):
            copies = max(len(positions[key]) for key in keys)
            cols = {label: positions[key][0] for label, key in zip(spec.header, keys)}
            found.extend([(row0, cols)] * copies)
    return found


_NUMFMT = re.compile(rb'<(?:\w+:)?numFmt\b[^>]*?\bnumFmtId="(\d+)"[^>]*?\bformatCode="([^"]*)"')
_CELL_XFS = re.compile(rb"<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", re.DOTALL)
_XF_FMT = re.compile(rb"<(?:\w+:)?xf\b([^>]*)>")
_FMT_ID = re.compile(rb'\bnumFmtId="(\d+)"')


def _percent_styles(zf: zipfile.ZipFile, names: set[str], limits: Limits) -> set[int]:
    """Indices of cell styles (cellXfs) whose number format shows a percentage.

    Read with regular expressions: styles.xml is the largest part of a small
    workbook, and only two facts are needed from it. DTDs were refused when
    the part was read, so nothing here can expand.
    """
    if "xl/styles.xml" not in names:
        return set()
    data = _read_part(zf, "xl/styles.xml", limits)
    percent_formats = set(_BUILTIN_PERCENT)
    for fmt_id, code in _NUMFMT.findall(data):
        if _is_percent_code(_xml_unescape(code.decode("utf-8", "replace"))):
            percent_formats.add(int(fmt_id))
    xfs = _CELL_XFS.search(data)
    if not xfs:
        return set()
    found = set()
    for index, attrs in enumerate(_XF_FMT.findall(xfs.group(1))):
        fmt = _FMT_ID.search(attrs)
        if fmt and int(fmt.group(1)) in percent_formats:
            found.add(index)
    return found


def _xml_unescape(text: str) -> str:
    from xml.sax.saxutils import unescape

    return unescape(text, {"&quot;": '"', "&apos;": "'"})


def _is_percent_code(code: str) -> bool:
    """True when an Excel format code multiplies by 100: a % outside quotes and escapes."""
    code = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code)
    return "%" in code


def _cell_flags(xml: bytes, columns: dict[str, int], header_row0: int, percent_styles: set[int], value_label: str):
    """Per data row: is the value cell percent-formatted, and which labelled cells are unsaved formulas."""
    if not percent_styles and b"<f" not in xml:
        return {}
    letters = {}
    for label, col0 in columns.items():
        ref = cell_ref(0, col0)
        letters[ref[:-1].encode()] = label
    value_letter = cell_ref(0, columns[value_label])[:-1].encode()
    flags: dict[int, tuple[bool, tuple[str, ...]]] = {}
    for match in _CELL.finditer(xml):
        attrs, body = match.group(1), match.group(2) or b""
        ref = _ATTR_R.search(attrs)
        if not ref or ref.group(1) not in letters:
            continue
        row0 = int(ref.group(2)) - 1
        if row0 <= header_row0:
            continue
        percent, missing = flags.get(row0, (False, ()))
        if ref.group(1) == value_letter:
            style = _ATTR_S.search(attrs)
            percent = bool(style) and int(style.group(1)) in percent_styles
        if b"<f" in body and not re.search(rb"<v>[^<]", body) and b't="inlineStr"' not in attrs:
            missing = missing + (letters[ref.group(1)],)
        flags[row0] = (percent, missing)
    return flags
