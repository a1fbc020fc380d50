"""SpreadsheetML parts, read as the standard allows any conforming writer to write them.

One namespace-aware pass per part (ElementTree's C parser, streamed for parts
over 1 MB, after a guard that refuses DTDs) yields cells as a spreadsheet
application shows them: shared and inline strings
without their phonetic (furigana) runs, numbers with their number format,
dates in either date system, error values, and formulas no application has
saved. The namespace prefix, if any, does not matter (``<c>``, ``<x:c>``), nor
do missing ``r`` attributes or a missing or wrong ``<dimension>``. The size
limits are enforced while streaming, so nothing over a limit is held in memory:
bytes per part, XML depth and elements per part, non-empty cells per workbook,
and the seconds one workbook may take (checked every few thousand elements).
"""

from __future__ import annotations

import datetime as dt
import re
import time
import zipfile
from contextlib import contextmanager
from contextvars import ContextVar
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from posixpath import join, normpath
from typing import NamedTuple
from xml.parsers import expat

from . import numfmt
from ..config import Limits
from .messages import Issue, column_letter

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CHUNK = 1 << 20
_FEED = 1 << 16  # bytes handed to the parser at a time: a hostile part trips a limit within this much
_CLOCK_EVERY = 4096  # elements between two looks at the clock


class Rejection(Exception):
    """The workbook cannot be read at all; carries the issue to report."""

    def __init__(self, code: str, detail: str = "", **params):
        super().__init__(code, detail)
        self.issue = Issue(code, params={"detail": detail, **params})


@dataclass(frozen=True)
class CellError:
    """An error value a formula left in a cell (#DIV/0!, #REF!, #N/A...)."""

    text: str

    def __str__(self) -> str:
        return self.text


class Cell(NamedTuple):
    """One cell as read: its value, its number format code, and whether a formula made it.

    ``value`` is text, a float, a bool, a datetime (a number in a date format),
    a :class:`CellError`, or None for a formula with no saved result.
    """

    value: object
    fmt: str = "General"
    formula: bool = False
    external: bool = False  # the formula refers to another workbook ([1]Sheet1!A1) or is a DDE link (App|'topic'!item)

    @property
    def unsaved(self) -> bool:
        """A formula no application has calculated and saved: there is no value to read."""
        return self.formula and self.value is None

    @property
    def percent(self) -> bool:
        """A number shown as a percentage, so the stored 0.482 reads as 48.2."""
        return isinstance(self.value, float) and numfmt.kind(self.fmt, self.value) == numfmt.PERCENT

    def shown(self) -> str:
        """The cell as the department saw it in their spreadsheet application."""
        if isinstance(self.value, CellError):
            return self.value.text
        return numfmt.display(self.value, self.fmt)


Grid = dict[int, dict[int, Cell]]  # row0 -> col0 -> cell; empty cells are absent


def _forbid(*_args) -> None:
    raise Rejection("unsafe_xml")


class _RootSeen(Exception):
    """The guard reached the root element: no DTD can follow."""


def _root_seen(*_args) -> None:
    raise _RootSeen


def _chunks(zf: zipfile.ZipFile, name: str, limits: Limits):
    """A part's bytes in chunks, refused once they pass the per-part size limit.

    Worksheets are streamed even when declared larger than the limit, so that a sheet
    of a million rows is refused for its rows, the reason a department can act on.
    """
    info = zf.getinfo(name)
    if info.file_size > limits.max_part_bytes and not name.startswith("xl/worksheets/"):
        raise Rejection("zip_bomb", f"{name} が展開後 {info.file_size / 2**20:,.0f}MB、上限{limits.max_part_bytes // 2**20}MB")
    seen = 0
    with zf.open(info) as f:  # zipfile stops at the declared size and checks the CRC
        while chunk := f.read(_CHUNK):
            seen += len(chunk)
            if seen > limits.max_part_bytes:
                raise Rejection("zip_bomb", f"{name} が展開後 {limits.max_part_bytes // 2**20}MBを超えます")
            yield chunk


class _Guard:
    """Reads a part's prolog and refuses any DTD, the only place entities can be declared.

    Billion laughs and external entities both need one; the guard stops at the root element.
    """

    def __init__(self, name: str):
        self.name, self.done = name, False
        self.parser = expat.ParserCreate()
        self.parser.StartDoctypeDeclHandler = _forbid
        self.parser.StartElementHandler = _root_seen

    def feed(self, chunk: bytes) -> None:
        if not self.done:
            try:
                self.parser.Parse(chunk, False)
            except _RootSeen:
                self.done = True

    def close(self) -> None:
        if not self.done:
            raise Rejection("corrupt_file", f"{self.name} に要素がありません")


class Budget:
    """What one workbook may still spend: its deadline, and the non-empty cells it may still hold."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.deadline = time.monotonic() + limits.max_seconds_per_file
        self.cells = 0

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise Rejection("too_slow", f"{self.limits.max_seconds_per_file:g}秒で読み終わりません")

    def add_cells(self, count: int) -> None:
        self.cells += count
        if self.cells > self.limits.max_cells:
            raise Rejection("too_many_cells", f"{self.limits.max_cells:,}セルを超えています")


_budget: ContextVar[Budget | None] = ContextVar("shinchoku_budget", default=None)


@contextmanager
def budget(limits: Limits):
    """One workbook's budget (deadline, cells) for everything read inside; an enclosing one is kept."""
    if _budget.get() is not None:
        yield _budget.get()
        return
    token = _budget.set(Budget(limits))
    try:
        yield _budget.get()
    finally:
        _budget.reset(token)


def _current(limits: Limits) -> Budget:
    """The workbook's budget; outside :func:`budget` (a part read on its own), a fresh one."""
    return _budget.get() or Budget(limits)


def _events(zf: zipfile.ZipFile, name: str, limits: Limits, tag: str | None = None):
    """A part's elements as the pull parser finishes them, after the guard, within the depth, element and time limits.

    With ``tag``, yields each finished element named ``tag`` ({namespace}local) and lets go of every
    other finished element outside one, so memory stays flat whatever a part holds between them;
    without, yields only the root, the whole tree kept (for small parts). Limits trip while parsing,
    a feed of 64 KB at a time, before anything over them is built.
    """
    guard, pull = _Guard(name), ET.XMLPullParser(events=("start", "end"))
    clock = _current(limits)
    max_depth, max_elements = limits.max_xml_depth, limits.max_xml_elements
    stack: list[ET.Element] = []  # the open elements, root first
    inside = count = 0  # open elements named tag; elements started

    def drain():
        nonlocal inside, count
        for event, element in pull.read_events():
            if event == "start":
                stack.append(element)
                count += 1
                if len(stack) > max_depth:
                    raise Rejection("xml_too_deep", f"{name} の入れ子が{max_depth}段を超えています")
                if count > max_elements:
                    raise Rejection("too_complex", f"{name} の要素が{max_elements:,}個を超えています")
                if not count % _CLOCK_EVERY:
                    clock.check_time()
                if element.tag == tag:
                    inside += 1
                continue
            stack.pop()
            if tag is None:
                if not stack:
                    yield element
                continue
            if element.tag == tag:
                inside -= 1
                yield element
            if not inside and stack:
                # Every finished child of the parent has been seen; one not yet seen (queued in the
                # same feed) is still reachable through the parser's events, and its end comes later.
                del stack[-1][:]

    for chunk in _chunks(zf, name, limits):
        guard.feed(chunk)
        for start in range(0, len(chunk), _FEED):
            pull.feed(chunk[start:start + _FEED])
            yield from drain()
    guard.close()
    pull.close()
    yield from drain()


def parse_part(zf: zipfile.ZipFile, name: str, limits: Limits) -> ET.Element:
    """A whole part as a tree (ElementTree's C parser), guarded and within the limits: for small parts."""
    root = None
    for root in _events(zf, name, limits):  # the root, once it ends; the part is then read to its end
        pass
    if root is None:
        raise Rejection("corrupt_file", f"{name} に要素がありません")
    return root


def elements(zf: zipfile.ZipFile, name: str, tag: str, limits: Limits):
    """A part's elements named ``tag`` ({namespace}local, whatever prefix the writer used), in order.

    A part of up to one chunk is parsed whole, the common case; a larger one is streamed
    with the pull parser, each element let go once the caller has it, so memory stays flat.
    zipfile never returns more than a part's declared size, so the choice cannot be lied into.
    """
    if zf.getinfo(name).file_size <= _CHUNK:
        yield from parse_part(zf, name, limits).iter(tag)
        return
    yield from _events(zf, name, limits, tag)


# Returns made from one template share their small parts (workbook, styles, properties)
# byte for byte: what is derived from one is kept per exact content, never per checksum,
# so a collision can never lend one workbook another's formats.
_MEMO_BYTES = 1 << 16
_memo: dict[tuple, object] = {}


def _derived(build, zf: zipfile.ZipFile, names: tuple[str, ...], limits: Limits):
    """``build(zf, limits)`` for these parts, reused while the parts' bytes are the same."""
    infos = [zf.NameToInfo.get(n) for n in names]
    if any(i is not None and i.file_size > _MEMO_BYTES for i in infos):
        return build(zf, limits)
    key = (build, *(zf.read(i) if i is not None else None for i in infos))
    found = _memo.get(key)
    if found is None:
        found = _memo[key] = build(zf, limits)
        if len(_memo) > 256:
            _memo.pop(next(iter(_memo)))
    return found


@dataclass
class Workbook:
    """The workbook part: its worksheets in order and its date system."""

    sheets: list[tuple[str, str]]  # (sheet name, part path)
    date1904: bool


def read_workbook_part(zf: zipfile.ZipFile, limits: Limits) -> Workbook:
    """Sheets (name, part) in workbook order, and the date system; Strict Open XML is refused."""
    book = _derived(_read_workbook_part, zf, ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"), limits)
    present = [(name, part) for name, part in book.sheets if part in zf.NameToInfo]  # this package's own parts
    return book if len(present) == len(book.sheets) else Workbook(present, book.date1904)


def _read_workbook_part(zf: zipfile.ZipFile, limits: Limits) -> Workbook:
    root = parse_part(zf, "xl/workbook.xml", limits)
    namespace = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    if namespace == STRICT:
        raise Rejection("strict_ooxml")
    if namespace != MAIN:
        raise Rejection("not_xlsx", "ブック部品の名前空間が不明です")
    targets = {}
    rels_name = "xl/_rels/workbook.xml.rels"
    names = zf.NameToInfo
    if rels_name in names:
        for rel in parse_part(zf, rels_name, limits).iter(f"{{{PKG_REL}}}Relationship"):
            target = rel.get("Target", "")
            targets[rel.get("Id")] = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
    sheets = []
    for sheet in root.iter(f"{{{MAIN}}}sheet"):
        part = targets.get(sheet.get(f"{{{REL}}}id"))
        if part and "worksheets/" in part:
            sheets.append((sheet.get("name", ""), part))
    date1904 = any(pr.get("date1904", "").lower() in ("1", "true") for pr in root.iter(f"{{{MAIN}}}workbookPr"))
    return Workbook(sheets, date1904)


def read_styles(zf: zipfile.ZipFile, limits: Limits) -> tuple[str, ...]:
    """The number format code of every cell style (cellXfs), by style index."""
    return _derived(_read_styles, zf, ("xl/styles.xml",), limits)


def _read_styles(zf: zipfile.ZipFile, limits: Limits) -> tuple[str, ...]:
    if "xl/styles.xml" not in zf.NameToInfo:
        return ()
    root = parse_part(zf, "xl/styles.xml", limits)
    codes = dict(numfmt.BUILTIN)
    for fmt in root.iter(f"{{{MAIN}}}numFmt"):
        try:
            codes[int(fmt.get("numFmtId", ""))] = fmt.get("formatCode", "General")
        except ValueError:
            continue
    xfs = root.find(f"{{{MAIN}}}cellXfs")
    found = []
    for xf in xfs.iter(f"{{{MAIN}}}xf") if xfs is not None else ():
        try:
            found.append(codes.get(int(xf.get("numFmtId", "0")), "General"))
        except ValueError:
            found.append("General")
    return tuple(found)


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_T, _R, _SI, _ROW, _C, _V, _F, _IS = (f"{{{MAIN}}}{x}" for x in ("t", "r", "si", "row", "c", "v", "f", "is"))


def _string_item(item: ET.Element, limits: Limits) -> str:
    """The text of a string item (<si> or <is>): its <t> runs, never the furigana in <rPh>.

    OOXML's _xHHHH_ escapes are undone (Excel writes a carriage return as _x000D_).
    """
    parts = []
    for child in item:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag == _R:
            for t in child.iter(_T):
                parts.append(t.text or "")
    text = "".join(parts)
    if "_x" in text:
        text = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)
    if len(text) > limits.max_cell_chars:
        raise Rejection("cell_too_long", f"{len(text):,}文字、上限{limits.max_cell_chars:,}文字")
    return text


def read_shared_strings(zf: zipfile.ZipFile, limits: Limits) -> list[str]:
    """Every shared string's text, furigana left out: 総務部, never 総務部ソウムブ."""
    name = "xl/sharedStrings.xml"
    if name not in zf.NameToInfo:
        return []
    return [_string_item(si, limits) for si in elements(zf, name, _SI, limits)]


_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})$")
_refs: dict[str, tuple[int, int]] = {}


def _ref(ref: str) -> tuple[int, int] | None:
    """(row0, col0) of an A1 reference; None if it is not one."""
    found = _refs.get(ref)
    if found is None:
        match = _REF.match(ref)
        if not match:
            return None
        col = 0
        for ch in match.group(1):
            col = col * 26 + ord(ch) - 64
        found = (int(match.group(2)) - 1, col - 1)
        if len(_refs) < 100_000:
            _refs[ref] = found
    return found


def read_sheet(zf: zipfile.ZipFile, part: str, shared: list[str], styles: list[str], date1904: bool,
               limits: Limits) -> Grid:
    """One worksheet's non-empty cells, streamed within the row, column, text and size limits.

    Rows and cells without an ``r`` attribute follow the previous one, as the standard says.
    """
    grid: Grid = {}
    rows, row0 = 0, -1
    linked: set[str] = set()  # shared formulas whose master refers to another workbook
    cells = _current(limits)
    for element in elements(zf, part, _ROW, limits):
        rows += 1
        if rows > limits.max_rows:
            raise Rejection("too_many_rows", f"{limits.max_rows:,}行を超えています")
        r = element.get("r")
        row0 = int(r) - 1 if r and r.isdigit() else row0 + 1
        col0 = -1
        line = {}
        for c in element:
            if c.tag != _C:
                continue
            ref = c.get("r")
            at = _ref(ref) if ref else None
            col0 = at[1] if at else col0 + 1
            if col0 >= limits.max_columns:
                raise Rejection("too_many_columns", f"{column_letter(col0)}列まで、上限{limits.max_columns}列")
            cell = _cell(c, shared, styles, date1904, limits, linked)
            if cell is not None:
                line[col0] = cell
        if line:
            cells.add_cells(len(line))
            grid[row0] = line
    return grid


# A reference into another workbook: its index in brackets before a '!' ([1]Sheet1!A1, '[1]Sheet 1'!A1,
# [1]!Name), or a DDE link (Excel|'topic'!item); string literals are left out before looking.
_EXTERNAL = re.compile(r"\[\d+\][^!,;()=+\-*/&<>^\[\]]*!|[A-Za-z_][\w.]*\|")
_LITERAL = re.compile(r'"[^"]*"')


def external_formula(text: str | None) -> bool:
    """Whether a formula's text takes its value from another workbook or by DDE."""
    return bool(text) and bool(_EXTERNAL.search(_LITERAL.sub("", text)))


def _cell(c: ET.Element, shared: list[str], styles: list[str], date1904: bool, limits: Limits,
          linked: set | None = None) -> Cell | None:
    """``linked``: the shared-formula indices (si) of this sheet whose master formula is external."""
    style = c.get("s")
    fmt = "General"
    if style is not None and style != "0":
        index = int(style)
        fmt = styles[index] if 0 <= index < len(styles) else "General"
    raw, formula, external = None, False, False
    for child in c:
        tag = child.tag
        if tag == _V:
            raw = child.text or None  # an empty <v/> holds no value
        elif tag == _F:
            formula = True
            external = external_formula(child.text)
            si = child.get("si")
            if linked is not None and si is not None and child.get("t") == "shared":
                if external:
                    linked.add(si)
                elif si in linked:
                    external = True
        elif tag == _IS:
            return Cell(_string_item(child, limits), fmt, formula, external)
    cell = _value(raw, c.get("t", "n"), fmt, formula, shared, date1904, limits)
    return cell._replace(external=True) if external and cell is not None else cell


def _value(raw: str | None, kind: str, fmt: str, formula: bool, shared: list[str], date1904: bool,
           limits: Limits) -> Cell | None:
    if raw is None:
        return Cell(None, fmt, True) if formula else None  # an unsaved formula, or a styled empty cell
    if len(raw) > limits.max_cell_chars:
        raise Rejection("cell_too_long", f"{len(raw):,}文字、上限{limits.max_cell_chars:,}文字")
    if kind == "s":
        return Cell(shared[int(raw)], fmt, formula)
    if kind == "str" or kind == "inlineStr":
        return Cell(raw, fmt, formula)
    if kind == "e":
        return Cell(CellError(raw.strip()), fmt, formula)
    if kind == "b":
        return Cell(raw.strip() in ("1", "true"), fmt, formula)
    if kind == "d":
        return Cell(_iso_datetime(raw), fmt, formula)
    number = float(raw)
    if fmt != "General" and numfmt.kind(fmt, number) == numfmt.DATE:
        date = numfmt.serial_to_datetime(number, date1904)
        if date is not None:
            return Cell(date, fmt, formula)
    return Cell(number, fmt, formula)


def _iso_datetime(text: str) -> dt.datetime | str:
    try:
        return dt.datetime.fromisoformat(text.strip().rstrip("Z"))
    except ValueError:
        return text
