"""Read a return-sheet workbook: container checks, then the tables found by their header labels.

The parts are read by :mod:`shinchoku.workbook.ooxml`, one namespace-aware streaming pass
each, so a value is read as the spreadsheet application shows it whichever
program wrote the file, and the size limits hold before anything large is kept.
"""

from __future__ import annotations

import io
import struct
import zlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ExpatError

from ..config import Limits
from .layout import (EXPLANATION, HEADER, OUTCOME_HEADER, PROP_DEPARTMENT, PROP_FISCAL_YEAR, PROP_LOCAL_GOVERNMENT,
                     SURVEY_HEADER, SURVEY_KEY, SURVEY_VALUE)
from .messages import Issue, cell_ref
from .ooxml import Grid, Rejection, budget, parse_part, read_shared_strings, read_sheet, read_styles, read_workbook_part
from .parse import normalize_text
from .text import clean

__all__ = ["Rejection", "RawRow", "Table", "TableSpec", "WorkbookRead", "read_workbook"]

HEADER_SCAN_ROWS = 50
HEADER_SCAN_COLUMNS = 30
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class RawRow:
    """One data row of a table: raw cell values keyed by header label, and how its value cell looks.

    Empty cells are ""; an error value (#DIV/0!) is an :class:`~shinchoku.workbook.ooxml.CellError`.
    """

    row0: int
    cells: dict[str, object]
    fmt: str = "General"  # the value cell's number format, which says how to read a number
    formula_missing: tuple[str, ...] = ()
    shown: str = ""  # the value cell as the department saw it
    cleaned: tuple[str, ...] = ()  # labels whose text had control characters removed (text.clean)
    external: tuple[str, ...] = ()  # labels whose value a formula took from another workbook or by DDE


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
    """How to recognise a table: its header labels, the key and value columns, and labels it may also have."""

    header: tuple[str, ...]
    key: str
    value: str
    optional: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(normalize_text(h) for h in self.header)


RETURN_TABLE = TableSpec(HEADER, "指標ID", "実績値", optional=EXPLANATION)
OUTCOME_TABLE = TableSpec(OUTCOME_HEADER, "項目ID", "数値")
SURVEY_TABLE = TableSpec(SURVEY_HEADER, SURVEY_KEY, SURVEY_VALUE)  # a local government's 調査票


@dataclass
class WorkbookRead:
    """What one workbook holds: its declared owner, its tables and any problems.

    A department's return holds ``table`` (実績報告, and maybe ``outcomes``); a local government's survey
    sheet holds ``survey`` (調査票); a workbook holding neither is refused (no_table)."""

    table: Table | None = None
    outcomes: Table | None = None
    survey: Table | None = None
    declared_department: str | None = None
    declared_local_government: str | None = None  # the 6-digit code a survey sheet records
    declared_fiscal_year: int | None = None
    macro: bool = False
    issues: list[Issue] = field(default_factory=list)

    @property
    def sheet(self) -> str | None:
        found = self.table or self.survey
        return found.sheet if found else None


def read_workbook(source: Path | bytes, limits: Limits) -> WorkbookRead:
    """Read one workbook; every failure becomes a coded issue, never an exception.

    ``source`` is a path (``shinchoku check`` FILE) or the file's bytes, already read (a run reads each
    inbox file once, through its department folder, and hands the bytes on: see :mod:`shinchoku.run.inbox`).
    """
    try:
        with budget(limits):  # one deadline and one cell count for the whole workbook
            return _read(source if isinstance(source, (bytes, bytearray)) else Path(source), limits)
    except Rejection as r:
        return WorkbookRead(issues=[r.issue])
    except (ExpatError, ParseError, zipfile.BadZipFile, zlib.error, struct.error, EOFError, KeyError, IndexError,
            LookupError, UnicodeError, NotImplementedError, OverflowError, RuntimeError, ValueError) as e:
        return WorkbookRead(issues=[Issue("corrupt_file", params={"detail": type(e).__name__})])
    except OSError as e:
        return WorkbookRead(issues=[Issue("corrupt_file", params={"detail": e.strerror or type(e).__name__})])
    except MemoryError:
        return WorkbookRead(issues=[Issue("too_large", params={"detail": "メモリ上限"})])
    except Exception as e:  # noqa: BLE001 - the fuzz tests count these as crashes
        return WorkbookRead(issues=[Issue("unexpected_error", params={"detail": type(e).__name__})])


def _read(source: Path | bytes, limits: Limits) -> WorkbookRead:
    data = _read_bytes(source, limits)
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
    book = read_workbook_part(zf, limits)
    result = WorkbookRead(macro="xl/vbaProject.bin" in names)
    _read_properties(zf, names, result, limits)
    if len(book.sheets) > limits.max_sheets:
        raise Rejection("too_many_sheets", f"{len(book.sheets)}シート、上限{limits.max_sheets}")
    styles = read_styles(zf, limits)
    shared = read_shared_strings(zf, limits)
    grids = {name: read_sheet(zf, part, shared, styles, book.date1904, limits) for name, part in book.sheets}
    labels = {name: _label_index(grid) for name, grid in grids.items()}
    result.table = _one_table(RETURN_TABLE, grids, labels, False)
    result.survey = _one_table(SURVEY_TABLE, grids, labels, False)
    if result.table is None and result.survey is None:
        raise Rejection("no_table", _nearest_missing(labels))
    result.outcomes = _one_table(OUTCOME_TABLE, grids, labels, False)
    return result


def _one_table(spec: TableSpec, grids: dict[str, Grid], labels: dict, required: bool,
               others: tuple[TableSpec, ...] = ()) -> Table | None:
    """The single table matching ``spec`` across all sheets, with its data rows."""
    hits = [(name, row0, cols) for name in grids for row0, cols in _find_headers(labels[name], spec)]
    if not hits:
        if required:
            raise Rejection("no_table", _missing_labels(spec, labels, others)[1])
        return None
    if len(hits) > 1:
        where = "、".join(f"{name}!{row0 + 1}行目" for name, row0, _ in hits[:5])
        raise Rejection("table_twice", where)
    name, header_row0, columns = hits[0]
    table = Table(name, header_row0, columns)
    grid = grids[name]
    value_col = columns[spec.value]
    for row0 in sorted(r for r in grid if r > header_row0):
        line = grid[row0]
        cells, missing, cleaned, external = {}, [], [], []
        for label, col in columns.items():
            cell = line.get(col)
            if cell is None:
                cells[label] = ""
            elif cell.unsaved:
                cells[label] = ""
                missing.append(label)
            else:
                value = cell.value
                if isinstance(value, str):
                    value, removed = clean(value)
                    if removed:
                        cleaned.append(label)
                cells[label] = value
                if cell.external:
                    external.append(label)
        if _blank(cells[spec.key]) and _blank(cells[spec.value]) and not missing:
            continue
        value_cell = line.get(value_col)
        table.rows.append(RawRow(row0, cells, value_cell.fmt if value_cell else "General", tuple(missing),
                                 clean(value_cell.shown())[0] if value_cell else "", tuple(cleaned),
                                 tuple(external)))
    return table


def _read_bytes(source: Path | bytes, limits: Limits) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source[:limits.max_file_bytes + 1])
    else:
        with open(source, "rb") as f:
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


def _read_properties(zf: zipfile.ZipFile, names: set[str], result: WorkbookRead, limits: Limits) -> None:
    if "docProps/custom.xml" not in names:
        return
    root = parse_part(zf, "docProps/custom.xml", limits)
    for prop in root:
        value = next(iter(prop), None)
        text = value.text if value is not None else None
        name = prop.get("name")
        if name == PROP_DEPARTMENT:
            result.declared_department = text
        elif name == PROP_LOCAL_GOVERNMENT and text:
            result.declared_local_government = text.strip()
        elif name == PROP_FISCAL_YEAR and text and text.strip().isdigit():
            result.declared_fiscal_year = int(text)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# Header labels are short and start with a kanji NFKC leaves alone (指標ID, 年度, 成果・効果...):
# other text (titles, instructions, KPI names, IDs) is never normalised.
_MAX_LABEL = 12
_LABEL_STARTS = frozenset(h[0] for h in HEADER + EXPLANATION + OUTCOME_HEADER + SURVEY_HEADER)


def _label_index(grid: Grid) -> list[tuple[int, dict[str, list[int]]]]:
    """Per row of the scan area, the normalised short texts and the columns holding them."""
    index = []
    for row0 in sorted(r for r in grid if r < HEADER_SCAN_ROWS):
        positions: dict[str, list[int]] = {}
        for col0 in sorted(c for c in grid[row0] if c < HEADER_SCAN_COLUMNS):
            value = grid[row0][col0].value
            if isinstance(value, str) and value and len(value) <= _MAX_LABEL and value.lstrip()[:1] in _LABEL_STARTS:
                key = normalize_text(value).replace(" ", "").replace("\n", "")
                positions.setdefault(key, []).append(col0)
        if positions:
            index.append((row0, positions))
    return index


def _nearest_missing(labels: dict) -> str:
    """What the row most like a 実績報告 or a 調査票 header lacks (whichever it is nearer to)."""
    found = [_missing_labels(RETURN_TABLE, labels, (OUTCOME_TABLE, SURVEY_TABLE)),
             _missing_labels(SURVEY_TABLE, labels, (OUTCOME_TABLE, RETURN_TABLE))]
    best = max(found, key=lambda f: f[0])
    return best[1]


def _missing_labels(spec: TableSpec, labels: dict, others: tuple[TableSpec, ...]) -> tuple[float, str]:
    """What the row most like ``spec``'s header lacks, as the department reads it: 「実績報告」シートの6行目の
    見出しに「年度」がありません。 "" when no row of the scan area holds even two of its labels, or the best
    rows are other tables' headers (the 取組実績 sheet shares 単位・年度・時点)."""
    keys = spec.keys
    best = None
    for name, index in labels.items():
        taken = {row0 for other in others for row0, _ in _find_headers(index, other)}
        for row0, positions in index:
            present = sum(key in positions for key in keys)
            if row0 not in taken and present >= 2 and (best is None or present > best[0]):
                best = (present, name, row0, [label for label, key in zip(spec.header, keys) if key not in positions])
    if best is None:
        return 0.0, ""
    present, name, row0, missing = best
    return (present / len(keys), f"「{name}」シートの{row0 + 1}行目の見出しに" + "".join(f"「{m}」" for m in missing)
            + "がありません。")


def _find_headers(index: list[tuple[int, dict[str, list[int]]]], spec: TableSpec) -> list[tuple[int, dict[str, int]]]:
    """Rows holding all of a table's header labels, with their columns (a row twice if the labels repeat)."""
    keys = spec.keys
    found = []
    for row0, positions in index:
        if all(key in positions for key in keys):
            copies = max(len(positions[key]) for key in keys)
            cols = {label: positions[key][0] for label, key in zip(spec.header, keys)}
            cols.update({label: positions[normalize_text(label)][0] for label in spec.optional
                         if normalize_text(label) in positions})
            found.extend([(row0, cols)] * copies)
    return found
