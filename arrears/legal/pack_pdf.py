"""The evidence pack's own PDFs: the index (证据目录) and the tables of each item, A4 landscape.

Pure rendering, like the letters (notices/pdf.py): a `Document` of plain strings in, PDF bytes out.
The letters' CJK font is cut down to the characters the document prints and embedded, and the
creation date is the pack's date at 00:00 Shanghai time, so the same document gives the same
bytes: two packs of one case and one date are byte-identical.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from fpdf import FPDF, FontFace
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
    fonts = letter_fonts()
    regular = face_for(fonts.regular)
    faces = {"": regular, "B": face_for(fonts.bold, bold=True) if fonts.bold else regular}
    chars = frozenset(_strings(document)) | {chr(code) for code in range(0x20, 0x7F)}
    with tempfile.TemporaryDirectory(prefix="arrears-pack-") as tmp:
        pdf = _PackPDF(document)
        for style, face in faces.items():
            path = os.path.join(tmp, f"pack{style}.ttf")
            with open(path, "wb") as file:
                file.write(face.font_bytes(chars))
            pdf.add_font(FAMILY, style, path)
        for font in pdf.fonts.values():
            font.ttfont.recalcBBoxes = False  # our small fonts carry their bounding boxes
        _compose(pdf, document)
        return bytes(pdf.output())


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
        self.set_font(FAMILY, "B" if bold else "", size)
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


def _table(pdf: _PackPDF, table: Table) -> None:
    if not table.rows:
        pdf.font(9.5, color=GREY)
        pdf.cell(0, 5, NOTHING, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.font(9.5)
        return
    pdf.font(8.5)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    total = sum(table.widths)
    widths = tuple(pdf.epw * weight / total for weight in table.widths)
    with pdf.table(col_widths=widths, width=pdf.epw, line_height=4.4, padding=(0.9, 1.2), text_align="LEFT",
                   headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL), repeat_headings=1) as grid:
        row = grid.row()
        for heading in table.headings:
            row.cell(heading, align="CENTER")
        for number, cells in enumerate(table.rows, start=1):
            bold = table.bold_last and number == len(table.rows)
            row = grid.row(style=FontFace(emphasis="BOLD") if bold else None)
            for cell in cells:
                row.cell(cell)
    pdf.ln(1)


def face_ready() -> Face:
    """Open the font once (the first pack of a process pays for it): a missing font fails before any file is written."""
    return face_for(letter_fonts().regular)
