"""The evidence pack's own PDFs: the index (证据目录) and the tables of each item, A4 landscape.

Pure rendering, like the letters (notices/pdf.py): a `Document` of plain strings in, PDF bytes out.
The letters' CJK font is cut down to the characters the document prints and embedded, and the
creation date is the pack's date at 00:00 Shanghai time, so the same document gives the same
bytes: two packs of one case and one date are byte-identical.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from arrears.notices.pdf_fonts import Face, face_for, letter_fonts

SHANGHAI = ZoneInfo("Asia/Shanghai")
FAMILY = "pack"
MARGIN = 12.0
GREY = (105, 105, 105)
RULE = (150, 150, 150)
HEADING_FILL = (238, 238, 238)
PAGE = "第 {page} 页，共 {pages} 页"
NOTHING = "（无）"


@dataclass(frozen=True)
class Table:
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # relative: the table fills the page width
    bold_last: bool = False  # a totals row


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...] = ()
    table: Table | None = None


@dataclass(frozen=True)
class Document:
    title: str
    facts: tuple[str, ...]  # the lines under the title: case, community, unit, owner, date
    as_of: date
    sections: tuple[Section, ...]
    footer: str


def render(document: Document) -> bytes:
    """The document as an A4 landscape PDF; the same document gives byte-identical output."""
    return render_all([document])[0]


def render_all(documents: list[Document]) -> list[bytes]:
    """Each document as a PDF, the font cut once for them all (each PDF embeds only the glyphs it uses)."""
    face = face_for(letter_fonts().regular)  # one face: headings are set larger, not bold
    chars = frozenset("".join(_strings(document) for document in documents)) | {chr(code) for code in range(0x20, 0x7F)}
    out = []
    with tempfile.TemporaryDirectory(prefix="arrears-pack-") as tmp:
        path = os.path.join(tmp, "pack.ttf")
        with open(path, "wb") as file:
            file.write(face.font_bytes(chars))
        for document in documents:
            pdf = _PackPDF(document)
            pdf.add_font(FAMILY, "", path)
            for font in pdf.fonts.values():
                font.ttfont.recalcBBoxes = False  # our small font carries its bounding boxes
            _compose(pdf, document)
            out.append(bytes(pdf.output()))
    return out


def _strings(document: Document) -> str:
    parts = [document.title, document.footer, PAGE, NOTHING, *document.facts]
    for section in document.sections:
        parts.append(section.heading)
        parts.extend(section.paragraphs)
        if section.table:
            parts.extend(section.table.headings)
            parts.extend(cell for row in section.table.rows for cell in row)
    return "".join(parts)


class _PackPDF(FPDF):
    def __init__(self, document: Document):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.document = document
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=16)
        self.set_title(document.title)
        self.set_creator("Arrears 物业费催收系统")
        self.set_lang("zh-CN")
        self.set_creation_date(datetime.combine(document.as_of, time(0, 0), tzinfo=SHANGHAI))

    def font(self, size: float, *, bold: bool = False, color: tuple[int, int, int] | int = 0) -> None:
        self.set_font(FAMILY, "", size + (0.5 if bold else 0))
        if isinstance(color, tuple):
            self.set_text_color(*color)
        else:
            self.set_text_color(color)

    def footer(self) -> None:
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(MARGIN, self.h - 12, self.w - MARGIN, self.h - 12)
        self.font(8, color=GREY)
        self.set_xy(MARGIN, self.h - 11)
        self.cell(self.epw * 0.7, 4, self.document.footer)
        self.cell(self.epw * 0.3, 4, PAGE.format(page=self.page_no(), pages="{nb}"), align="R")


def _compose(pdf: _PackPDF, document: Document) -> None:
    pdf.add_page()
    pdf.font(16, bold=True)
    pdf.cell(0, 9, document.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(9.5)
    for fact in document.facts:
        pdf.multi_cell(0, 5, fact, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for section in document.sections:
        if pdf.will_page_break(20):
            pdf.add_page()
        pdf.ln(3)
        pdf.font(11.5, bold=True)
        pdf.multi_cell(0, 6.5, section.heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.font(9.5)
        for paragraph in section.paragraphs:
            pdf.multi_cell(0, 5, paragraph, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if section.table is not None:
            _table(pdf, section.table)


TABLE_PT = 8.5
LINE = 4.2  # mm per table line
PAD_X, PAD_Y = 1.2, 0.9


def _table(pdf: _PackPDF, table: Table) -> None:
    """Draw the table with plain cells: fpdf2's table() lays out every cell through multi_cell,
    ten times slower, and a pack of a busy case has thousands of cells."""
    if not table.rows:
        pdf.font(9.5, color=GREY)
        pdf.cell(0, 5, NOTHING, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.font(9.5)
        return
    total = sum(table.widths)
    widths = [pdf.epw * weight / total for weight in table.widths]
    pdf.font(TABLE_PT)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    widths_of: dict[str, float] = {}
    heading = [_wrap(pdf, text, width - 2 * PAD_X, widths_of) for text, width in zip(table.headings, widths, strict=True)]
    _row(pdf, heading, widths, fill=True)
    for number, cells in enumerate(table.rows, start=1):
        lines = [_wrap(pdf, text, width - 2 * PAD_X, widths_of) for text, width in zip(cells, widths, strict=True)]
        fill = table.bold_last and number == len(table.rows)
        while True:
            # A row taller than what is left of the page goes on to the next page, its lines split:
            # nothing is cut off (a long note in a narrow column can run for pages).
            room = int((pdf.page_break_trigger - pdf.get_y() - 2 * PAD_Y) // LINE)
            height = max(len(cell) for cell in lines)
            if height <= room:
                _row(pdf, lines, widths, fill=fill)
                break
            if room >= min(height, 3):
                _row(pdf, [cell[:room] for cell in lines], widths, fill=fill)
                lines = [cell[room:] or [""] for cell in lines]
            pdf.add_page()
            pdf.font(TABLE_PT)
            _row(pdf, heading, widths, fill=True)
    pdf.set_x(pdf.l_margin)
    pdf.ln(1)


def _row(pdf: _PackPDF, cells: list[list[str]], widths: list[float], *, fill: bool) -> None:
    top, x = pdf.get_y(), pdf.l_margin
    height = max(len(lines) for lines in cells) * LINE + 2 * PAD_Y
    if fill:
        pdf.set_fill_color(*HEADING_FILL)
    for lines, width in zip(cells, widths, strict=True):
        pdf.rect(x, top, width, height, style="DF" if fill else "D")
        for number, line in enumerate(lines):
            # the baseline sits at four fifths of the line: CJK glyphs fill the em box
            pdf.text(x + PAD_X, top + PAD_Y + number * LINE + LINE * 0.78, line)
        x += width
    pdf.set_xy(pdf.l_margin, top + height)


def _wrap(pdf: _PackPDF, text: str, width: float, widths_of: dict[str, float]) -> list[str]:
    """Lines no wider than `width`: between CJK characters, at spaces, inside a Latin word only when
    the word is wider than the line (a SHA-256, a long file name)."""
    def measure(piece: str) -> float:
        size = widths_of.get(piece)
        if size is None:
            size = widths_of[piece] = pdf.get_string_width(piece)
        return size

    lines: list[str] = []
    for hard in (text or "").split("\n"):
        line, used = "", 0.0
        for atom in _ATOM.findall(hard):
            size = sum(measure(char) for char in atom)
            if used + size <= width + 1e-6:
                line, used = line + atom, used + size
                continue
            if atom.isspace():
                continue
            if line.strip():
                lines.append(line.rstrip())
            line, used = "", 0.0
            for char in atom:  # a word wider than the line: broken anywhere
                if line and used + measure(char) > width + 1e-6:
                    lines.append(line)
                    line, used = "", 0.0
                line, used = line + char, used + measure(char)
        lines.append(line.rstrip())
    return lines or [""]


# One CJK character, a run of other non-space characters (a number, a word, a path), or spaces.
_ATOM = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef][，。；：、）」》]?|[^\s\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+|\s+")


def face_ready() -> Face:
    """Open the font once (the first pack of a process pays for it): a missing font fails before any file is written."""
    return face_for(letter_fonts().regular)
