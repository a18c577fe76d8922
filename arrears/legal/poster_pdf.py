"""The public arrears notice (欠费公示) as an A4 poster PDF.

Pure rendering, like the letters: the caller builds a `PosterContent` and gets PDF bytes back, the
same bytes for the same content (fixed creation date, fonts cut from the letters' CJK font to the
characters printed), so the SHA-256 kept with the notice proves which poster was approved.

The content has no field for a person: no owner's name, phone or id can reach the poster. Rooms come
masked (legal.masking), or only counts per building.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from decimal import Decimal

from fpdf import FontFace
from fpdf.enums import XPos, YPos

from arrears.core.money import ZERO
from arrears.notices import pdf as document_pdf
from arrears.notices.pdf import _wrap, format_date, format_money

TITLE = "欠费公示"
TEXT = {  # every fixed string the poster prints: its font is cut from these and the content
    "scope": "{scope}　截至{date}",
    "as_of": "截至{date}",
    "rooms": "逾期未缴物业服务费用的房屋",
    "counts": "逾期未缴物业服务费用的户数",
    "unit_note": "（金额单位：元）",
    "masked_note": "房号部分隐去，不列业主姓名及联系方式。",
    "count_headings": "楼栋|欠费户数",
    "amount_heading": "欠费金额合计（元）",
    "room_heading": "房号",
    "money_heading": "欠费金额",
    "total": "合计 {count} 户",
    "total_amount": "合计 {count} 户，欠费金额 {amount} 元",
    "other_buildings": "其他楼栋",
    "notes": "说明",
    "legal": "依据",
    "phone": "咨询电话：{phone}",
    "page": "第 {page} 页 / 共 {pages} 页",
    "numerals": "0123456789.,-*年月日",
}
BOLD_TEXT = ("rooms", "counts", "count_headings", "amount_heading", "room_heading", "money_heading", "total",
             "total_amount", "notes", "legal", "phone", "numerals")

MARGIN = 18.0
TOP = 16.0
BOTTOM = 20.0
RED = (168, 28, 28)
GREY = (105, 105, 105)
RULE = (150, 150, 150)
HEADING_FILL = (238, 238, 238)
BODY_PT, BODY_LEADING = 12.5, 7.6
SMALL_PT, SMALL_LEADING = 10.5, 6.0
ROOM_COLUMNS = 5  # labels per row without amounts
PAIR_COLUMNS = 3  # label + amount pairs per row


@dataclass(frozen=True)
class PosterRow:
    label: str  # a masked room ("3栋**01") or a building in the counts mode
    amount: Decimal | None = None
    count: int = 1


@dataclass(frozen=True)
class PosterContent:
    company: str
    community: str
    scope: str  # "阳光花园" or "阳光花园 3栋"
    as_of: date
    mode: str  # "masked_rooms" or "counts"
    show_amounts: bool
    rows: tuple[PosterRow, ...]
    paragraphs: tuple[str, ...]  # the body: what is listed and why, how to be taken off
    legal_basis: tuple[str, ...]
    office_phone: str
    dated: date  # the day printed under the company's name


def total_count(content: PosterContent) -> int:
    return sum(row.count for row in content.rows)


def total_amount(content: PosterContent) -> Decimal:
    return sum((row.amount or ZERO for row in content.rows), ZERO)


def render_poster(content: PosterContent) -> bytes:
    """The poster as an A4 PDF; the same content gives byte-identical output."""
    return document_pdf.render_with_fonts(lambda: _PosterPDF(content), lambda pdf: _compose(pdf, content), _chars(content))


def _strings(value) -> list[str]:
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif is_dataclass(item):
            stack.extend(getattr(item, field.name) for field in fields(item))
        elif isinstance(item, tuple):
            stack.extend(item)
    return found


def _chars(content: PosterContent) -> dict[str, frozenset[str]]:
    regular = set("".join(TEXT.values()) + TITLE + "".join(_strings(content)))
    regular |= {chr(code) for code in range(0x20, 0x7F)} | {"　", "—"}
    bold = set("".join(TEXT[key] for key in BOLD_TEXT) + TITLE + content.company + content.office_phone + " ")
    bold |= set("".join(row.label for row in content.rows))
    return {"": frozenset(regular), "B": frozenset(bold)}


class _PosterPDF(document_pdf.DocumentPDF):
    """The letters' page, font and width helpers, in the poster's own margins."""

    def __init__(self, content: PosterContent):
        super().__init__(title=f"{TITLE}　{content.scope}", author=content.company, subject=content.scope,
                         issued_on=content.as_of)
        self.content = content
        self.set_margins(MARGIN, TOP, MARGIN)
        self.set_auto_page_break(True, margin=BOTTOM)

    def footer(self) -> None:
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(MARGIN, self.h - 14, self.w - MARGIN, self.h - 14)
        self.font(8.5, color=GREY)
        self.set_xy(MARGIN, self.h - 12.5)
        self.cell(self.epw / 2, 4, f"{self.content.company}　{TITLE}")
        self.cell(self.epw / 2, 4, TEXT["page"].format(page=self.page_no(), pages="{nb}"), align="R")


def _compose(pdf: _PosterPDF, content: PosterContent) -> None:
    pdf.add_page()
    pdf.font(15, bold=True, color=GREY)
    pdf.cell(0, 8, content.community, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(34, bold=True, color=RED)
    pdf.set_char_spacing(14)
    pdf.set_x(MARGIN + 14 / pdf.k / 2)  # char spacing follows the last character too: stay centred
    pdf.cell(0, 17, TITLE, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_char_spacing(0)
    y = pdf.get_y() + 1.5
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.9)
    pdf.line(MARGIN, y, pdf.w - MARGIN, y)
    pdf.set_line_width(0.3)
    pdf.line(MARGIN, y + 1.3, pdf.w - MARGIN, y + 1.3)
    pdf.set_y(y + 4)
    pdf.font(11.5, color=GREY)
    # The community heads the poster already: the line under the title names a building only.
    subtitle = (TEXT["as_of"].format(date=format_date(content.as_of)) if content.scope == content.community
                else TEXT["scope"].format(scope=content.scope, date=format_date(content.as_of)))
    pdf.cell(0, 6.5, subtitle, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    if content.paragraphs:
        _paragraph(pdf, content.paragraphs[0], size=BODY_PT, leading=BODY_LEADING)
    pdf.ln(2)
    if content.mode == "counts":
        _counts(pdf, content)
    else:
        _rooms(pdf, content)
    _heading(pdf, TEXT["notes"])
    for text in content.paragraphs[1:]:
        _paragraph(pdf, text, size=BODY_PT - 0.5, leading=BODY_LEADING - 0.4)
    pdf.ln(1)
    pdf.font(15, bold=True)
    pdf.cell(0, 9, TEXT["phone"].format(phone=content.office_phone), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if content.legal_basis:
        _heading(pdf, TEXT["legal"])
        for number, text in enumerate(content.legal_basis, start=1):
            _paragraph(pdf, f"{number}. {text}", size=SMALL_PT, leading=SMALL_LEADING, indent=0)
    if pdf.will_page_break(26):
        pdf.add_page()
    pdf.ln(8)
    for text, bold in ((content.company, True), (format_date(content.dated), False)):
        pdf.font(BODY_PT, bold=bold)
        pdf.cell(0, BODY_LEADING, text, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _heading(pdf: _PosterPDF, text: str) -> None:
    pdf.ln(3)
    if pdf.will_page_break(BODY_LEADING * 3):
        pdf.add_page()
    pdf.font(BODY_PT + 0.5, bold=True)
    pdf.cell(0, BODY_LEADING, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _caption(pdf: _PosterPDF, text: str, content: PosterContent) -> None:
    if pdf.will_page_break(BODY_LEADING + 3 * 8):
        pdf.add_page()
    pdf.font(BODY_PT + 0.5, bold=True)
    pdf.cell(pdf.width(text) + 3, BODY_LEADING, text)
    pdf.font(9.5, color=GREY)
    note = TEXT["masked_note"] if content.mode != "counts" else ""
    if content.show_amounts:
        note = TEXT["unit_note"] + note
    pdf.cell(0, BODY_LEADING, note, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _total_line(content: PosterContent) -> str:
    if content.show_amounts:
        return TEXT["total_amount"].format(count=total_count(content), amount=format_money(total_amount(content)))
    return TEXT["total"].format(count=total_count(content))


def _table(pdf: _PosterPDF, widths, aligns, headings, rows, *, size: float) -> None:
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    pdf.font(size)
    with pdf.table(col_widths=widths, width=pdf.epw, text_align=aligns, line_height=6.2, padding=(1.2, 1.6),
                   headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL), repeat_headings=1,
                   first_row_as_headings=bool(headings)) as table:
        if headings:
            row = table.row()
            for heading in headings:
                row.cell(heading, align="CENTER")
        for cells in rows:
            row = table.row()
            for text in cells:
                row.cell(text)


def _rooms(pdf: _PosterPDF, content: PosterContent) -> None:
    _caption(pdf, TEXT["rooms"], content)
    if content.show_amounts:
        per_row = PAIR_COLUMNS
        flat = [(row.label, format_money(row.amount or ZERO)) for row in content.rows]
        rows = []
        for start in range(0, len(flat), per_row):
            chunk = flat[start:start + per_row]
            cells = [text for pair in chunk for text in pair]
            rows.append(cells + [""] * (2 * per_row - len(cells)))
        headings = [TEXT["room_heading"], TEXT["money_heading"]] * per_row
        _table(pdf, [1.0, 1.0] * per_row, ("CENTER", "RIGHT") * per_row, headings, rows, size=11.5)
    else:
        labels = [row.label for row in content.rows]
        rows = [labels[start:start + ROOM_COLUMNS] + [""] * (ROOM_COLUMNS - len(labels[start:start + ROOM_COLUMNS]))
                for start in range(0, len(labels), ROOM_COLUMNS)]
        _table(pdf, [1.0] * ROOM_COLUMNS, ("CENTER",) * ROOM_COLUMNS, [], rows, size=13)
    pdf.ln(1.5)
    pdf.font(BODY_PT, bold=True)
    pdf.cell(0, BODY_LEADING, _total_line(content), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _counts(pdf: _PosterPDF, content: PosterContent) -> None:
    _caption(pdf, TEXT["counts"], content)
    headings = TEXT["count_headings"].split("|")
    rows = []
    for row in content.rows:
        cells = [row.label, str(row.count)]
        if content.show_amounts:
            cells.append(format_money(row.amount or ZERO))
        rows.append(cells)
    if content.show_amounts:
        headings.append(TEXT["amount_heading"])
    aligns = ("CENTER", "CENTER", "RIGHT")[:len(headings)]
    _table(pdf, [1.0] * len(headings), aligns, headings, rows, size=12)
    pdf.ln(1.5)
    pdf.font(BODY_PT, bold=True)
    pdf.cell(0, BODY_LEADING, _total_line(content), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _paragraph(pdf: _PosterPDF, text: str, *, size: float, leading: float, indent: int = 2, bold: bool = False) -> None:
    """Chinese text broken by the letters' rules (kinsoku), the first line indented `indent` characters."""
    pdf.font(size, bold=bold)
    em = size / pdf.k
    for hard_line in text.split("\n"):
        first = indent * em
        for number, line in enumerate(_wrap(pdf, hard_line, pdf.epw, first)):
            offset = first if number == 0 else 0.0
            if pdf.will_page_break(leading):
                pdf.add_page()
                pdf.font(size, bold=bold)
            pdf.set_x(MARGIN + offset)
            pdf.cell(pdf.epw - offset, leading, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
