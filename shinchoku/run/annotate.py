"""The annotated copy, written by editing the workbook's XML parts directly.

Loading and saving a workbook with openpyxl costs about 45 ms; this costs
about 3 ms and leaves every part it does not need to touch byte for byte as
the department saved it. It highlights each problem cell (a cloned cell style
with a fill), adds a comment with the message (a comments part and its VML
shapes), and puts a sheet 「エラー一覧」 first and active, written with inline
strings, which can never turn into formulas, each cell reference a link to the
cell. The openpyxl path (``feedback.annotate_workbook``) gives the same copy; a
test compares the two. Workbooks whose problem sheets already carry
comments or drawings of their own go to the openpyxl path instead
(:func:`annotate_package` returns False), and only when they are small
(``feedback.OPENPYXL_MAX_BYTES``). Only the parts it edits are held in memory;
every other part is copied through in chunks, so the copy of a large package
costs little more than its edited parts. A package without a styles part (some
writers leave it out) gets a minimal one.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from posixpath import basename, dirname, join, normpath
from xml.sax.saxutils import escape

from ..workbook.messages import ERROR, ERROR_HEADER, ERROR_SHEET, ERROR_WIDTHS, Issue, error_link, error_row
from ..workbook.ooxml import external_formula
from ..workbook.text import writable

ERROR_FILL = "FFFFC7CE"
WARNING_FILL = "FFFFEB9C"
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_WORKSHEET = NS_REL + "/worksheet"
REL_COMMENTS = NS_REL + "/comments"
REL_VML = NS_REL + "/vmlDrawing"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
REL_STYLES = NS_REL + "/styles"
# The least a styles part holds: one font, the two fills every package has, one border, one cell style.
MINIMAL_STYLES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="{NS_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>').encode()
# Elements that must come after <legacyDrawing> in a worksheet (CT_Worksheet's sequence).
_AFTER_LEGACY = (b"<legacyDrawingHF", b"<drawingHF", b"<picture", b"<oleObjects", b"<controls",
                 b"<webPublishItems", b"<tableParts", b"<extLst", b"</worksheet>")
_XF = re.compile(rb"<xf\b[^>]*?/>|<xf\b[^>]*?>.*?</xf>", re.DOTALL)
_SHEET = re.compile(rb'<sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"[^>]*/>')
_SHEET_ID = re.compile(rb'\bsheetId="(\d+)"')
_REL = re.compile(rb'<Relationship\b[^>]*?/>')
_ATTR = r'\b{name}="([^"]*)"'


class Unsupported(Exception):
    """The package has a shape this fast path does not edit; openpyxl takes over."""


@dataclass
class _Comment:
    height: float = 120
    width: float = 320


def _attr(tag: bytes, name: str) -> str | None:
    m = re.search(_ATTR.format(name=name).encode(), tag)
    return m.group(1).decode() if m else None


def _set_attr(tag: bytes, name: str, value: str) -> bytes:
    pattern = re.compile(_ATTR.format(name=name).encode())
    if pattern.search(tag):
        return pattern.sub(f'{name}="{value}"'.encode(), tag, count=1)
    end = -2 if tag.endswith(b"/>") else -1
    return tag[:end] + f' {name}="{value}"'.encode() + tag[end:]


def _column_number(ref: str) -> int:
    n = 0
    for ch in ref:
        if ch.isalpha():
            n = n * 26 + ord(ch.upper()) - 64
    return n


def _split_ref(ref: str) -> tuple[str, int]:
    m = re.fullmatch(r"([A-Z]{1,3})(\d+)", ref)
    if not m:
        raise Unsupported(ref)
    return m.group(1), int(m.group(2))


def _rels_path(part: str) -> str:
    return join(dirname(part), "_rels", basename(part) + ".rels")


def _targets(rels: bytes, base: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, resolved part path)."""
    out = {}
    for rel in _REL.findall(rels):
        target = _attr(rel, "Target") or ""
        path = target.lstrip("/") if target.startswith("/") else normpath(join(base, target))
        out[_attr(rel, "Id") or ""] = (_attr(rel, "Type") or "", path)
    return out


def _add_rels(rels: bytes | None, new: list[tuple[str, str, str]]) -> bytes:
    entries = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{escape(target)}"/>' for i, t, target in new).encode()
    if rels is None:
        return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                + entries + b"</Relationships>")
    if b"</Relationships>" not in rels:
        raise Unsupported("relationships")
    return rels.replace(b"</Relationships>", entries + b"</Relationships>", 1)


def _add_styles(styles: bytes, originals: set[int]) -> tuple[bytes, dict[tuple[int, str], int]]:
    """Append two fills and, for each original cell style, clones carrying them."""
    fills = re.search(rb'<fills\b[^>]*>(.*?)</fills>', styles, re.DOTALL)
    xfs = re.search(rb'<cellXfs\b[^>]*>(.*?)</cellXfs>', styles, re.DOTALL)
    if not fills or not xfs:
        raise Unsupported("styles")
    fill_count = len(re.findall(rb"<fill\b", fills.group(1)))
    new_fills = b"".join(f'<fill><patternFill patternType="solid"><fgColor rgb="{c}"/><bgColor indexed="64"/>'
                         f"</patternFill></fill>".encode() for c in (ERROR_FILL, WARNING_FILL))
    fill_ids = {ERROR: fill_count, "warning": fill_count + 1}
    existing = _XF.findall(xfs.group(1))
    clones, mapping = [], {}
    for original in sorted(originals):
        base = existing[original] if original < len(existing) else b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        head = re.match(rb"<xf\b[^>]*?(/?)>", base)
        for severity, fill_id in fill_ids.items():
            tag = _set_attr(_set_attr(head.group(0), "fillId", str(fill_id)), "applyFill", "1")
            mapping[(original, severity)] = len(existing) + len(clones)
            clones.append(tag + base[len(head.group(0)):])
    start, end = fills.span()
    fills_new = re.sub(rb'count="\d+"', f'count="{fill_count + 2}"'.encode(),
                       styles[start:fills.start(1)], count=1) + fills.group(1) + new_fills + b"</fills>"
    styles = styles[:start] + fills_new + styles[end:]
    xfs = re.search(rb'<cellXfs\b[^>]*>(.*?)</cellXfs>', styles, re.DOTALL)
    start, end = xfs.span()
    head = re.sub(rb'count="\d+"', f'count="{len(existing) + len(clones)}"'.encode(), styles[start:xfs.start(1)], count=1)
    styles = styles[:start] + head + xfs.group(1) + b"".join(clones) + b"</cellXfs>" + styles[end:]
    return styles, mapping


_CELL_TAG = re.compile(rb"<c\b[^>]*>")
_ROW_TAG = re.compile(rb"<row\b[^>]*>")
_R_ATTR = re.compile(rb'\br="([^"]*)"')


def _cell_tags(xml: bytes, refs: set[str]) -> dict[str, re.Match]:
    """The start tag of each referenced cell that has one (the first, as a reader takes it), in one pass."""
    wanted, found = {ref.encode(): ref for ref in refs}, {}
    for m in _CELL_TAG.finditer(xml):
        r = _R_ATTR.search(m.group(0))
        ref = wanted.get(r.group(1)) if r else None
        if ref is not None and ref not in found:
            found[ref] = m
            if len(found) == len(wanted):
                break
    return found


def _cell_styles(xml: bytes, refs: set[str]) -> dict[str, int]:
    """The current style index of each referenced cell (0 where the cell or its s is absent)."""
    tags = _cell_tags(xml, refs)
    return {ref: int(_attr(tags[ref].group(0), "s") or 0) if ref in tags else 0 for ref in refs}


def _restyle(xml: bytes, styles: dict[str, int]) -> bytes:
    """Each referenced cell given its new style, in one pass over the sheet whatever the number of cells.

    A cell without an element of its own gets an empty one, in column order within its row;
    with no such row, the cell stays unstyled (its comment still shows).
    """
    tags = _cell_tags(xml, set(styles))
    edits = [(m.start(), m.end(), _set_attr(m.group(0), "s", str(styles[ref]))) for ref, m in tags.items()]
    absent: dict[int, list[tuple[int, str]]] = {}
    for ref in styles.keys() - tags.keys():
        letters, row = _split_ref(ref)
        absent.setdefault(row, []).append((_column_number(letters), ref))
    for m in _ROW_TAG.finditer(xml) if absent else ():
        r = _R_ATTR.search(m.group(0))
        cells = absent.pop(int(r.group(1)), None) if r and r.group(1).isdigit() else None
        if not cells:
            continue
        cells.sort()
        new = [f'<c r="{ref}" s="{styles[ref]}"/>'.encode() for _, ref in cells]
        if m.group(0).endswith(b"/>"):
            edits.append((m.start(), m.end(), m.group(0)[:-2] + b">" + b"".join(new) + b"</row>"))
        else:
            close = xml.index(b"</row>", m.end())
            existing = [(_column_number(c.group(1).decode()), m.end() + c.start())
                        for c in re.finditer(rb'<c\b[^>]*?\br="([A-Z]+)\d+"', xml[m.end():close])]
            for (column, _), cell in zip(cells, new):
                at = next((position for col, position in existing if col > column), close)
                edits.append((at, at, cell))
        if not absent:
            break
    out, done = [], 0
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1])):
        out += [xml[done:start], replacement]
        done = end
    return b"".join(out) + xml[done:]


def _comments_xml(items: list[tuple[str, str]]) -> bytes:
    body = "".join(f'<comment ref="{ref}" authorId="0"><text><t xml:space="preserve">{escape(writable(text))}</t></text></comment>'
                   for ref, text in items)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><comments xmlns="{NS_MAIN}">'
            f"<authors><author>shinchoku</author></authors><commentList>{body}</commentList></comments>").encode("utf-8")


def _vml(items: list[tuple[str, str]]) -> bytes:
    from openpyxl.comments.shape_writer import ShapeWriter

    return ShapeWriter([(ref, _Comment()) for ref, _ in items]).write(None)


def _error_sheet(issues: list[Issue], sheets: dict[str, str], bold: int, link: int) -> bytes:
    """「エラー一覧」: the selected sheet, one row per problem, its セル a link to the cell."""
    def row(n: int, values, style: int | None = None, link_col: int | None = None) -> str:
        cells = "".join(
            f'<c r="{chr(65 + i)}{n}" t="inlineStr"{_style(link if i == link_col else style)}>'
            f'<is><t xml:space="preserve">{escape(writable(str(v)))}</t></is></c>'
            for i, v in enumerate(values) if v not in (None, ""))
        return f'<row r="{n}">{cells}</row>'

    linked = {n: issue for n, issue in enumerate(issues, start=2) if issue.sheet in sheets and issue.cell}
    rows = [row(1, ERROR_HEADER, bold)] + [row(n, error_row(issue), link_col=1 if n in linked else None)
                                           for n, issue in enumerate(issues, start=2)]
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                   for i, w in enumerate(ERROR_WIDTHS, start=1))
    links = "".join(f'<hyperlink ref="B{n}" location="{escape(error_link(i), {chr(34): "&quot;"})}" display="{escape(i.cell)}"/>'
                    for n, i in linked.items())
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{NS_MAIN}">'
            f'<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews><cols>{cols}</cols>'
            f"<sheetData>{''.join(rows)}</sheetData>"
            + (f"<hyperlinks>{links}</hyperlinks>" if links else "") + "</worksheet>").encode("utf-8")


def _style(index: int | None) -> str:
    return f' s="{index}"' if index else ""


def _add_fonts(styles: bytes) -> tuple[bytes, int, int]:
    """Append a bold font and a link font (blue, underlined), and a cell style for each; return their indices."""
    fonts = re.search(rb'<fonts\b[^>]*>(.*?)</fonts>', styles, re.DOTALL)
    xfs = re.search(rb'<cellXfs\b[^>]*>(.*?)</cellXfs>', styles, re.DOTALL)
    if not fonts or not xfs:
        raise Unsupported("styles")
    font_count = len(re.findall(rb"<font\b", fonts.group(1)))
    new_fonts = b'<font><b/><sz val="11"/></font><font><u/><sz val="11"/><color rgb="FF0563C1"/></font>'
    start, end = fonts.span()
    head = re.sub(rb'count="\d+"', f'count="{font_count + 2}"'.encode(), styles[start:fonts.start(1)], count=1)
    styles = styles[:start] + head + fonts.group(1) + new_fonts + b"</fonts>" + styles[end:]
    xfs = re.search(rb'<cellXfs\b[^>]*>(.*?)</cellXfs>', styles, re.DOTALL)
    count = len(_XF.findall(xfs.group(1)))
    new_xfs = "".join(f'<xf numFmtId="0" fontId="{font_count + k}" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
                      for k in (0, 1)).encode()
    start, end = xfs.span()
    head = re.sub(rb'count="\d+"', f'count="{count + 2}"'.encode(), styles[start:xfs.start(1)], count=1)
    styles = styles[:start] + head + xfs.group(1) + new_xfs + b"</cellXfs>" + styles[end:]
    return styles, count, count + 1


def _first_and_active(workbook: bytes, entry: bytes) -> bytes:
    """Put the new sheet first and make it the active tab; sheet-scoped names keep their sheets."""
    opened = re.search(rb"<sheets\b[^>]*>", workbook)
    if not opened:
        raise Unsupported("workbook")
    workbook = workbook[:opened.end()] + entry + workbook[opened.end():]
    workbook = re.sub(rb'localSheetId="(\d+)"', lambda m: f'localSheetId="{int(m.group(1)) + 1}"'.encode(), workbook)
    view = re.search(rb"<workbookView\b[^>]*?/?>", workbook)
    if view:
        tag = _set_attr(view.group(0), "activeTab", "0")
        tag = _set_attr(tag, "firstSheet", "0") if b"firstSheet=" in tag else tag
        return workbook[:view.start()] + tag + workbook[view.end():]
    return workbook[:opened.start()] + b'<bookViews><workbookView activeTab="0"/></bookViews>' + workbook[opened.start():]


class _Parts(dict):
    """The package's parts by name, each read from the source the first time it is asked for.

    What was never asked for (images, themes, sheets without a problem) stays in the source
    and is copied through in chunks when the copy is written.
    """

    def __init__(self, source: zipfile.ZipFile):
        super().__init__()
        self.source, self.names = source, set(source.NameToInfo)
        self.deselected: set[str] = set()  # sheets copied through with their tab unselected

    def __missing__(self, name: str) -> bytes:
        if name not in self.names:
            raise KeyError(name)
        data = self[name] = self.source.read(name)
        return data

    def __contains__(self, name) -> bool:
        return name in self.names

    def __setitem__(self, name: str, data: bytes) -> None:
        self.names.add(name)
        super().__setitem__(name, data)

    def __delitem__(self, name: str) -> None:
        self.names.discard(name)
        self.pop(name, None)

    def get(self, name, default=None):
        return self[name] if name in self.names else default

    def loaded(self, name: str) -> bool:
        return dict.__contains__(self, name)


def annotate_package(source: Path, issues: list[Issue], target: Path) -> bool:
    """Write the annotated copy by editing XML; False when the package needs the openpyxl path."""
    with zipfile.ZipFile(source) as z:
        parts, order = _Parts(z), [i.filename for i in z.infolist()]
        try:
            _annotate(parts, order, issues)
        except (Unsupported, KeyError, ValueError, IndexError, AttributeError, zipfile.BadZipFile):
            return False
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
            for name in order:
                if parts.loaded(name):
                    out.writestr(name, parts[name])
                else:
                    with z.open(name) as part, out.open(name, "w") as copy:
                        if name in parts.deselected:
                            _deselect_head(part, copy)
                        shutil.copyfileobj(part, copy, 1 << 20)
    return True


def _deselect_head(part, copy) -> None:
    """Copy a sheet's head, up to its cells, with its tab unselected (a sheetView comes before sheetData)."""
    head = b""
    while chunk := part.read(1 << 20):
        head += chunk
        if b"sheetData" in head:
            break
    copy.write(head.replace(b'tabSelected="1"', b'tabSelected="0"'))


def _ensure_styles(parts: _Parts, order: list[str]) -> None:
    """A package without xl/styles.xml gets the minimal one, with its relationship and content type."""
    if "xl/styles.xml" in parts:
        return
    parts["xl/styles.xml"] = MINIMAL_STYLES
    order.append("xl/styles.xml")
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = _add_rels(parts[rels], [("rIdShinchokuStyles", REL_STYLES, "styles.xml")])
    types = parts["[Content_Types].xml"]
    if b"</Types>" not in types:
        raise Unsupported("content types")
    parts["[Content_Types].xml"] = types.replace(
        b"</Types>", f'<Override PartName="/xl/styles.xml" ContentType="{CT_STYLES}"/></Types>'.encode(), 1)


_MACRO_PARTS = ("xl/vbaProject.bin", "xl/vbaProjectSignature.bin", "xl/vbaProjectSignatureAgile.bin")


def _strip_macros(parts: _Parts, order: list[str]) -> None:
    """The copy goes back as .xlsx: drop the VBA project, its relationships and content types."""
    for name in [n for n in order if n in _MACRO_PARTS or n.startswith("xl/_rels/vbaProject")]:
        order.remove(name)
        del parts[name]
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = re.sub(rb'<Relationship\b[^>]*?Target="[^"]*vbaProject[^"]*"[^>]*/>', b"", parts[rels])
    types = parts["[Content_Types].xml"]
    types = re.sub(rb'<Override\b[^>]*?PartName="/xl/vbaProject[^"]*"[^>]*/>', b"", types)
    parts["[Content_Types].xml"] = types.replace(b"sheet.macroEnabled.main+xml", b"sheet.main+xml")


# What ties a copy to anything outside it: links to other workbooks (and DDE links), data connections and
# web queries, embedded or linked OLE objects. The annotated copy goes back self-contained, without them.
_LINKED_PARTS = ("xl/externalLinks/", "xl/connections.xml", "xl/queryTables/", "xl/embeddings/")
_LINKED_TYPES = ("/externalLink", "/externalLinkPath", "/connections", "/queryTable", "/oleObject", "/package")
_P = rb"(?:[A-Za-z_][\w.-]*:)?"  # any namespace prefix
_EXTERNAL_REFERENCES = re.compile(rb"<" + _P + rb"externalReferences\b.*?</" + _P + rb"externalReferences>|<"
                                  + _P + rb"externalReferences\b[^>]*/>", re.DOTALL)
_OLE_OBJECTS = re.compile(rb"<" + _P + rb"oleObjects\b.*?</" + _P + rb"oleObjects>|<" + _P + rb"oleObjects\b[^>]*/>",
                          re.DOTALL)
_DEFINED_NAME = re.compile(rb"<(" + _P + rb")definedName\b[^>]*>([^<]*)</\1definedName>")
_CELL_WITH_FORMULA = re.compile(rb"<(" + _P + rb")c\b[^>]*[^/]>(?:(?!</\1c>).)*?</\1c>", re.DOTALL)
_FORMULA = re.compile(rb"<(" + _P + rb")f\b([^>]*?)(?:/>|>([^<]*)</\1f>)")


def make_self_contained(parts: dict[str, bytes], order: list[str]) -> None:
    """Drop external links (DDE links among them), connections, query tables and OLE objects, with their
    relationships and content types; a formula into another workbook leaves its saved value behind."""
    dropped = {name for name in order if name.startswith(_LINKED_PARTS) or name == "xl/connections.xml"}
    # a sheet's OLE objects have relationships: only the small .rels parts are read to find them
    has_ole = any(b"oleObject" in parts[n] for n in order if n.startswith("xl/worksheets/_rels/"))
    if not dropped and not has_ole:
        return
    for name in dropped:
        order.remove(name)
        del parts[name]
    for name in [n for n in order if n.endswith(".rels")]:
        base = dirname(dirname(name))
        targets = _targets(parts[name], base)

        def keep(rel: re.Match) -> bytes:
            kind, target = targets.get(_attr(rel.group(0), "Id") or "", ("", ""))
            linked = kind.endswith(_LINKED_TYPES) or target in dropped
            return b"" if linked else rel.group(0)

        parts[name] = _REL.sub(keep, parts[name])
    types = parts.get("[Content_Types].xml", b"")
    parts["[Content_Types].xml"] = re.sub(
        rb'<Override\b[^>]*?PartName="/?([^"]*)"[^>]*/>',
        lambda m: b"" if m.group(1).decode("utf-8", "replace") in dropped else m.group(0), types)
    if not any(name.endswith(".bin") for name in order):  # the embeddings' default content type
        parts["[Content_Types].xml"] = re.sub(rb'<Default\b[^>]*?ContentType="[^"]*oleObject"[^>]*/>', b"",
                                              parts["[Content_Types].xml"])
    if "xl/workbook.xml" in parts:
        workbook = _EXTERNAL_REFERENCES.sub(b"", parts["xl/workbook.xml"])
        workbook = _DEFINED_NAME.sub(
            lambda m: b"" if external_formula(_unescape(m.group(2).decode("utf-8", "replace"))) else m.group(0), workbook)
        parts["xl/workbook.xml"] = re.sub(rb"<(" + _P + rb")definedNames\b[^>]*>\s*</\1definedNames>", b"", workbook)
    for name in order:
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):  # only here: a copy with links to drop
            parts[name] = _saved_values_only(_OLE_OBJECTS.sub(b"", parts[name]), external_formula)
        elif name.startswith("xl/tables/") and name.endswith(".xml") and dropped:
            parts[name] = re.sub(rb'\s(?:tableType="queryTable"|queryTableFieldId="\d+")', b"", parts[name])


def _saved_values_only(xml: bytes, external_formula) -> bytes:
    """A sheet whose formulas into other workbooks are gone, each cell keeping the value it had saved
    (a shared formula's other cells too)."""
    if b"[" not in xml and b"|" not in xml:
        return xml
    linked: set[bytes] = set()

    def formula(m: re.Match) -> bytes:
        attrs, text = m.group(2), m.group(3)
        si = re.search(rb'\bsi="(\d+)"', attrs)
        shared = b't="shared"' in attrs
        if text is not None and external_formula(_unescape(text.decode("utf-8", "replace"))):
            if shared and si:
                linked.add(si.group(1))
            return b""
        if shared and si and si.group(1) in linked and not text:
            return b""
        return m.group(0)

    return _CELL_WITH_FORMULA.sub(lambda c: _FORMULA.sub(formula, c.group(0)), xml)


def _annotate(parts: _Parts, order: list[str], issues: list[Issue]) -> None:
    make_self_contained(parts, order)
    _ensure_styles(parts, order)
    if any(name in parts for name in _MACRO_PARTS) or b"macroEnabled" in parts["[Content_Types].xml"]:
        _strip_macros(parts, order)
    workbook = parts["xl/workbook.xml"]
    wb_rels_name = "xl/_rels/workbook.xml.rels"
    rel_targets = _targets(parts[wb_rels_name], "xl")
    sheets = {}
    for name, rid in _SHEET.findall(workbook):
        kind, path = rel_targets.get(rid.decode(), ("", ""))
        if kind.endswith("/worksheet"):
            sheets[_unescape(name.decode())] = path
    if ERROR_SHEET in sheets:
        raise Unsupported("error sheet exists")
    types = parts["[Content_Types].xml"]
    new_types = []

    located: dict[str, list[Issue]] = {}
    for issue in issues:
        if issue.cell and issue.sheet in sheets:
            located.setdefault(issue.sheet, []).append(issue)
    if located:
        wanted: dict[str, dict[str, int]] = {}
        originals = set()
        for sheet, found in located.items():
            part = sheets[sheet]
            xml = parts[part]
            rels = parts.get(_rels_path(part))
            if b"<legacyDrawing" in xml or (rels and REL_COMMENTS.encode() in rels):
                raise Unsupported("sheet already has comments")
            wanted[sheet] = _cell_styles(xml, {i.cell for i in found})
            originals |= set(wanted[sheet].values())
        parts["xl/styles.xml"], mapping = _add_styles(parts["xl/styles.xml"], originals)
        for n, (sheet, found) in enumerate(located.items(), start=1):
            part = sheets[sheet]
            xml = parts[part]
            by_cell: dict[str, list[Issue]] = {}
            for issue in found:
                by_cell.setdefault(issue.cell, []).append(issue)
            restyled = {}
            for ref, cell_issues in by_cell.items():
                severity = ERROR if any(i.severity == ERROR for i in cell_issues) else "warning"
                restyled[ref] = mapping[(wanted[sheet][ref], severity)]
            xml = _restyle(xml, restyled)
            items = [(ref, "\n".join(f"{i.message}\n→ {i.fix}" for i in cell_issues)) for ref, cell_issues in by_cell.items()]
            comments_name = f"xl/comments_shinchoku{n}.xml"
            vml_name = f"xl/drawings/vmlDrawing_shinchoku{n}.vml"
            parts[comments_name], parts[vml_name] = _comments_xml(items), _vml(items)
            order += [comments_name, vml_name]
            rels_name = _rels_path(part)
            if rels_name not in parts:
                order.append(rels_name)
            parts[rels_name] = _add_rels(parts.get(rels_name), [
                ("rIdShinchokuComments", REL_COMMENTS, "/" + comments_name),
                ("rIdShinchokuVml", REL_VML, "/" + vml_name)])
            legacy = f'<legacyDrawing xmlns:r="{NS_REL}" r:id="rIdShinchokuVml"/>'.encode()
            at = min(i for i in (xml.find(tag) for tag in _AFTER_LEGACY) if i >= 0)
            parts[part] = xml[:at] + legacy + xml[at:]
            new_types.append(f'<Override PartName="/{comments_name}" ContentType="{CT_COMMENTS}"/>')
        if b'Extension="vml"' not in types:
            new_types.append(f'<Default Extension="vml" ContentType="{CT_VML}"/>')

    parts["xl/styles.xml"], bold, link = _add_fonts(parts["xl/styles.xml"])
    for part in sheets.values():  # only the error list is selected
        if parts.loaded(part):
            parts[part] = parts[part].replace(b'tabSelected="1"', b'tabSelected="0"')
        else:
            parts.deselected.add(part)  # done on the way through, in the part's head
    sheet_name = "xl/worksheets/sheet_shinchoku_errors.xml"
    parts[sheet_name] = _error_sheet(issues, sheets, bold, link)
    order.append(sheet_name)
    sheet_id = max((int(i) for i in _SHEET_ID.findall(workbook)), default=0) + 1
    entry = f'<sheet name="{ERROR_SHEET}" sheetId="{sheet_id}" r:id="rIdShinchokuErrors"/>'.encode()
    parts["xl/workbook.xml"] = _first_and_active(workbook, entry)
    parts[wb_rels_name] = _add_rels(parts[wb_rels_name], [("rIdShinchokuErrors", REL_WORKSHEET,
                                                            "worksheets/sheet_shinchoku_errors.xml")])
    new_types.append(f'<Override PartName="/{sheet_name}" ContentType="{CT_WORKSHEET}"/>')
    if b"</Types>" not in types:
        raise Unsupported("content types")
    parts["[Content_Types].xml"] = types.replace(b"</Types>", "".join(new_types).encode() + b"</Types>", 1)


def _unescape(text: str) -> str:
    from xml.sax.saxutils import unescape

    return unescape(text, {"&quot;": '"', "&apos;": "'"})

