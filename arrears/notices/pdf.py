"""Letter PDFs — 催费函 (collection letter, technique ⑧) and 律师函 (lawyer letter, ⑨).

Pure rendering: the caller builds a `LetterContent` from the database and gets PDF bytes back.
The same content always gives the same bytes (fixed creation date, fixed font bytes), so a letter
can be re-rendered later and checked against the hash kept as evidence.

Chinese text is broken into lines here rather than by fpdf2, which breaks only at spaces and would
otherwise split "12,345.67" or a closing "。" onto the next line; lines are justified the way
Chinese letters are, by spacing the characters.

The wording stays lawful (民法典第944条): the owner is asked to pay under the contract, and told the
company may sue or apply for arbitration; nothing threatens to cut water, power, heating or gas.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from fpdf import FPDF, FontFace
from fpdf.enums import XPos, YPos

from arrears.core.errors import DomainError
from arrears.core.money import ZERO, format_yuan, to_money

from .pdf_fonts import Face, face_for, letter_fonts

KINDS = {"collection": "催费函", "lawyer": "律师函"}


@dataclass(frozen=True)
class Letterhead:
    company: str
    address: str = ""
    phone: str = ""
    service_phone: str = ""
    bank_name: str = ""
    bank_account: str = ""
    account_name: str = ""
    seal_text: str = ""  # printed where the seal goes, e.g. "（盖章）"


@dataclass(frozen=True)
class LawFirm:
    name: str
    address: str = ""
    phone: str = ""
    lawyer: str = ""
    licence_no: str = ""


@dataclass(frozen=True)
class LetterLine:
    period: str
    item: str
    due_on: date
    amount: Decimal
    paid: Decimal
    outstanding: Decimal
    late_fee: Decimal


@dataclass(frozen=True)
class LetterContent:
    kind: str  # "collection" (催费函) or "lawyer" (律师函)
    number: str  # e.g. "YG-CF-2026-000123"
    issued_on: date
    deadline: date
    addressee: str  # "张先生": the salutation; owner_name is the full name
    owner_name: str
    community: str
    unit: str  # "3栋2单元1201室"
    lines: tuple[LetterLine, ...]
    as_of: date  # the amounts are as of this date
    paragraphs: tuple[str, ...]  # the body, rendered from the community's letter template
    payment_methods: tuple[str, ...]
    letterhead: Letterhead
    payment_link: str = ""
    online_payment: bool = True  # False: the link shows the statement and how to pay, it takes no money
    legal_basis: tuple[str, ...] = ()
    law_firm: LawFirm | None = None  # required when kind == "lawyer"
    signatory: str = ""  # e.g. "阳光花园物业服务中心"
    # Whom the owner rings about this letter: the case's collector by real name and extension;
    # blank name (and the letterhead's service phone) when the case has no collector.
    contact_name: str = ""
    contact_phone: str = ""


@dataclass(frozen=True)
class Totals:
    amount: Decimal
    paid: Decimal
    outstanding: Decimal
    late_fee: Decimal

    @property
    def due(self) -> Decimal:
        """What the letter asks for: the outstanding charges and the contract's late fee."""
        return self.outstanding + self.late_fee


def totals(lines: Iterable[LetterLine]) -> Totals:
    """Column sums of the table, in exact Decimal (floats are refused by to_money)."""
    sums = {"amount": ZERO, "paid": ZERO, "outstanding": ZERO, "late_fee": ZERO}
    for line in lines:
        for name in sums:
            sums[name] += to_money(getattr(line, name))
    return Totals(**sums)


def format_money(value: Decimal) -> str:
    """Grouped yuan with 分: Decimal("1234.5") → "1,234.50"."""
    return format_yuan(value, sign=False)


def format_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def rmb_upper(value: Decimal) -> str:
    """The amount in capital numerals (大写金额), as cheques and receipts write it: 壹仟零伍元陆角整."""
    amount = to_money(value)
    if amount < 0:
        return "负" + rmb_upper(-amount)
    yuan, cents = divmod(int(amount * 100), 100)
    jiao, fen = divmod(cents, 10)
    if not yuan and not cents:
        return "零元整"
    text = _integer_upper(yuan) + "元" if yuan else ""
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif fen and yuan:
        text += "零"
    return text + (_DIGITS[fen] + "分" if fen else "整")


def _integer_upper(number: int) -> str:
    groups = []
    while number:
        number, group = divmod(number, 10000)
        groups.append(group)
    text, zero_pending = "", False
    for position in reversed(range(len(groups))):
        group = groups[position]
        if not group:
            zero_pending = bool(text)
            continue
        if text and (zero_pending or group < 1000):
            text += "零"
        text += _group_upper(group) + ("", "万", "亿", "万亿")[position]
        zero_pending = False
    return text


def _group_upper(group: int) -> str:
    text, zero_pending = "", False
    for power, unit in ((3, "仟"), (2, "佰"), (1, "拾"), (0, "")):
        digit = group // 10**power % 10
        if not digit:
            zero_pending = bool(text)
            continue
        if zero_pending:
            text += "零"
            zero_pending = False
        text += _DIGITS[digit] + unit
    return text


# -- law ----------------------------------------------------------------------------------------
# Verbatim text of the articles. The Supreme People's Court's interpretation on property-service
# disputes is not cited: its 2009 article on written demand (书面催交) was deleted in the 2020
# revision (法释〔2020〕17号), the demand and reasonable period now stand in 民法典第944条第二款.

_ART_937 = (
    "《中华人民共和国民法典》第九百三十七条第一款：物业服务合同是物业服务人在物业服务区域内，为业主提供建筑物及其"
    "附属设施的维修养护、环境卫生和相关秩序的管理维护等物业服务，业主支付物业费的合同。"
)
_ART_939 = (
    "《中华人民共和国民法典》第九百三十九条：建设单位依法与物业服务人订立的前期物业服务合同，以及业主委员会与业主"
    "大会依法选聘的物业服务人订立的物业服务合同，对业主具有法律约束力。"
)
_ART_944 = (
    "《中华人民共和国民法典》第九百四十四条第一款、第二款：业主应当按照约定向物业服务人支付物业费。物业服务人已经"
    "按照约定和有关规定提供服务的，业主不得以未接受或者无需接受相关物业服务为由拒绝支付物业费。业主违反约定逾期"
    "不支付物业费的，物业服务人可以催告其在合理期限内支付；合理期限届满仍不支付的，物业服务人可以提起诉讼或者"
    "申请仲裁。"
)
_ART_188 = "《中华人民共和国民法典》第一百八十八条第一款：向人民法院请求保护民事权利的诉讼时效期间为三年。法律另有规定的，依照其规定。"
_ART_195 = (
    "《中华人民共和国民法典》第一百九十五条：有下列情形之一的，诉讼时效中断，从中断、有关程序终结时起，诉讼时效"
    "期间重新计算：（一）权利人向义务人提出履行请求；（二）义务人同意履行义务；（三）权利人提起诉讼或者申请仲裁；"
    "（四）与提起诉讼或者申请仲裁具有同等效力的其他情形。"
)


def default_legal_basis(kind: str) -> tuple[str, ...]:
    """The articles a letter of this kind cites: the duty to pay, the demand, and limitation."""
    _check_kind(kind)
    if kind == "collection":
        return (_ART_944, _ART_939, _ART_195)
    return (_ART_937, _ART_939, _ART_944, _ART_188, _ART_195)


# -- rendering ----------------------------------------------------------------------------------

TEXT = {  # every fixed string the letter prints: the font of a letter is cut from these and the content
    "to": "致：{owner}（{community}{unit}业主）",
    "salutation": "尊敬的{addressee}：",
    "number": "编号：{number}",
    "date": "日期：{date}",
    "entrusted": "受{company}委托",
    "lines": "欠费明细",
    "lines_note": "截至{date}　金额单位：元",
    "headings": "期间|收费项目|应缴日期|应收金额|已缴金额|欠缴金额|违约金",
    "total": "合计",
    "summary": "截至{date}，您尚欠费用人民币{outstanding}元",
    "summary_late": "，按合同约定计算的违约金人民币{late_fee}元，两项共计人民币{due}元",
    "summary_end": "（大写：{upper}）。",
    "deadline_collection": (
        "请您于{deadline}前缴清上述费用。如对欠费明细有异议，请在此日期前与我们联系核对{contact}。逾期仍未缴纳的，"
        "我司将依据物业服务合同及《中华人民共和国民法典》第九百四十四条的规定，依法提起诉讼或者申请仲裁。"
    ),
    "deadline_lawyer": (
        "请您于{deadline}前将上述款项缴付委托人。如对欠费金额有异议，请在此期限内与委托人联系核对{contact}。逾期仍未"
        "缴纳的，本所将根据委托人的授权，依法提起诉讼或者申请仲裁。"
    ),
    "contact": "（电话：{phone}）",
    "contact_named": "（联系人：{name}，电话：{phone}）",
    "payment": "缴费方式",
    "bank": "银行转账：户名 {account_name}；开户银行 {bank_name}；账号 {bank_account}（请在附言中注明房号）",
    "link": "在线缴费：{link}",
    "statement_link": "查看账单及缴费方式：{link}",
    "legal": "法律依据",
    "address_phone": "地址：{address}　电话：{phone}",
    "lawyer": "承办律师：{lawyer}",
    "licence": "执业证号：{licence}",
    "page": "第 {page} 页 / 共 {pages} 页",
    "numerals": "0123456789.,-" + _DIGITS + "拾佰仟万亿元角分整负年月日",  # amounts, capital amounts, dates
}

# Layout, in millimetres unless said otherwise.
MARGIN = 25.0
TOP = 22.0
BOTTOM = 24.0
RED = (168, 28, 28)  # letterhead: the red of a Chinese company's header (红头)
GREY = (105, 105, 105)
RULE = (150, 150, 150)
HEADING_FILL = (238, 238, 238)
ROW_FILL = (248, 248, 248)
BODY_PT, BODY_LEADING = 12.0, 7.4
SMALL_PT, SMALL_LEADING = 10.0, 5.8
TABLE_PT = 9.0
FAMILY = "letter"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Kinsoku (避头尾): closing marks never start a line, opening marks never end one.
NO_LINE_START = set("，。、；：？！）》」』】〕〉”’…—·%,.;:?!)]}")
NO_LINE_END = set("（《「『【〔〈“‘([{")
NBSP = "\u00a0"  # joins the groups of a bank account number: it never breaks across lines


def render_letter(content: LetterContent) -> bytes:
    """The letter as an A4 PDF; the same content gives byte-identical output."""
    _check(content)
    return render_with_fonts(lambda: _LetterPDF(content), lambda pdf: _compose(pdf, content), _chars(content))


def render_with_fonts(make_pdf: Callable[[], DocumentPDF], compose: Callable[[DocumentPDF], None],
                      chars: dict[str, frozenset[str]]) -> bytes:
    """Compose a document with the letters' CJK font cut to `chars` ("" regular, "B" bold) and return its bytes.

    Shared by the letters and the legal desk's court documents: same fonts, same layout rules."""
    fonts = letter_fonts()
    regular = face_for(fonts.regular)
    faces = {"": regular, "B": face_for(fonts.bold, bold=True) if fonts.bold else regular}
    pdf_bytes, unforeseen = _render(make_pdf, faces, chars, compose)
    if pdf_bytes is None:  # a string the caller did not foresee: cut the fonts again with its characters
        chars = {style: chars[style] | unforeseen[style] for style in chars}
        pdf_bytes, _ = _render(make_pdf, faces, chars, compose, final=True)
    return pdf_bytes


def _check(content: LetterContent) -> None:
    _check_kind(content.kind)
    if content.kind == "lawyer" and (content.law_firm is None or not content.law_firm.name.strip()):
        raise DomainError(
            "律师函必须注明出具函件的律师事务所（law_firm），请配置 ARREARS_LAW_FIRM。",
            "A lawyer letter needs the law firm that issues it (law_firm): configure ARREARS_LAW_FIRM.",
            code="law_firm_missing",
        )
    if not content.lines:
        raise DomainError("函件没有欠费明细，不能出具。", "A letter with no unpaid charges cannot be issued.",
                          code="letter_without_lines")
    if content.deadline <= content.issued_on:
        raise DomainError("缴费期限必须晚于发函日期。", "The deadline must fall after the issue date.",
                          code="deadline_before_issue")
    totals(content.lines)  # refuses floats and fractions of 分 before anything is drawn


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise DomainError(f"未知的函件类型：{kind}", f"Unknown letter kind: {kind!r}", code="letter_kind")


BOLD_TEXT = ("to", "lines", "headings", "total", "payment", "legal", "numerals")


def _chars(content: LetterContent) -> dict[str, frozenset[str]]:
    """The characters each style ("" regular, "B" bold) can print: the content, the fixed text,
    digits and ASCII. Bold gets only what is set in bold: each glyph costs a conversion once."""
    regular = set("".join(TEXT.values())) | {chr(code) for code in range(0x20, 0x7F)} | {"　", "—", NBSP}
    stack: list[object] = [content]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            regular.update(value)
        elif is_dataclass(value):
            stack.extend(getattr(value, field.name) for field in fields(value))
        elif isinstance(value, tuple):
            stack.extend(value)
    bold = set("".join(TEXT[key] for key in BOLD_TEXT) + "".join(KINDS.values()) + " ")
    for text in (content.owner_name, content.community, content.unit, content.letterhead.company, content.signatory,
                 content.law_firm.name if content.law_firm else ""):
        bold.update(text)
    return {"": frozenset(regular), "B": frozenset(bold)}


def _render(make_pdf: Callable[[], DocumentPDF], faces: dict[str, Face], chars: dict[str, frozenset[str]],
            compose: Callable[[DocumentPDF], None], *, final: bool = False) -> tuple[bytes | None, dict[str, frozenset[str]]]:
    """The PDF, or None and the characters missing from `chars` by style (only when not `final`)."""
    with tempfile.TemporaryDirectory(prefix="arrears-letter-") as tmp:
        pdf = make_pdf()
        for style, face in faces.items():
            path = os.path.join(tmp, f"letter{style}.ttf")
            with open(path, "wb") as file:
                file.write(face.font_bytes(chars[style]))
            pdf.add_font(FAMILY, style, path)
        for font in pdf.fonts.values():
            # Our small fonts carry their bounding boxes: recomputing them costs 0.1 s a letter.
            font.ttfont.recalcBBoxes = False
        compose(pdf)
        unforeseen = {
            style: frozenset(chr(code) for code in pdf.fonts[FAMILY + style].missing_glyphs) - chars[style]
            for style in faces
        }
        if any(unforeseen.values()) and not final:
            return None, unforeseen
        return bytes(pdf.output()), unforeseen


class DocumentPDF(FPDF):
    """An A4 page in the letters' margins and font family; `font` and `width` are what the
    paragraph, list and table helpers below draw with."""

    def __init__(self, *, title: str, author: str, subject: str, issued_on: date):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_margins(MARGIN, TOP, MARGIN)
        self.c_margin = 0  # text lines up with the margins; table cells have their own padding
        self.set_auto_page_break(True, margin=BOTTOM)
        self.set_display_mode(zoom="fullwidth")
        self.set_title(title)
        self.set_author(author)
        self.set_subject(subject)
        self.set_creator("Arrears 物业费催收系统")
        self.set_lang("zh-CN")
        # A fixed creation date: the same content gives the same bytes.
        self.set_creation_date(datetime.combine(issued_on, time(0, 0), tzinfo=SHANGHAI))
        self._widths: dict[tuple[str, float, str], float] = {}

    def font(self, size: float, *, bold: bool = False, color: tuple[int, int, int] | int = 0) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        if isinstance(color, tuple):
            self.set_text_color(*color)
        else:
            self.set_text_color(color)

    def width(self, text: str) -> float:
        key = (self.font_style, self.font_size_pt, text)
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = self.get_string_width(text)
        return width


class _LetterPDF(DocumentPDF):
    def __init__(self, content: LetterContent):
        super().__init__(title=f"{KINDS[content.kind]}　{content.community}{content.unit}",
                         author=content.letterhead.company, subject=content.number, issued_on=content.issued_on)
        self.content = content

    def header(self) -> None:
        if self.page_no() == 1:
            return
        content = self.content
        self.font(8, color=GREY)
        self.set_xy(MARGIN, 11)
        left = content.law_firm.name if content.kind == "lawyer" else content.letterhead.company
        self.cell(self.epw / 2, 4, left)
        self.cell(self.epw / 2, 4, f"{KINDS[content.kind]}　{TEXT['number'].format(number=content.number)}", align="R")
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(MARGIN, 16, self.w - MARGIN, 16)
        self.set_xy(MARGIN, TOP)

    def footer(self) -> None:
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(MARGIN, self.h - 17, self.w - MARGIN, self.h - 17)
        self.font(8, color=GREY)
        self.set_xy(MARGIN, self.h - 15.5)
        self.cell(self.epw / 2, 4, TEXT["number"].format(number=self.content.number))
        # "{nb}" is fpdf2's alias for the page count, replaced on output.
        self.cell(self.epw / 2, 4, TEXT["page"].format(page=self.page_no(), pages="{nb}"), align="R")


def _compose(pdf: _LetterPDF, content: LetterContent) -> None:
    pdf.add_page()
    _letterhead(pdf, content)
    _title(pdf, content)
    _paragraph(pdf, TEXT["to"].format(owner=content.owner_name, community=content.community, unit=content.unit),
               size=BODY_PT, leading=BODY_LEADING, indent=0, bold=True)
    pdf.ln(1.5)
    _paragraph(pdf, TEXT["salutation"].format(addressee=content.addressee), size=BODY_PT, leading=BODY_LEADING,
               indent=0)
    for text in content.paragraphs:
        _paragraph(pdf, text, size=BODY_PT, leading=BODY_LEADING)
    pdf.ln(2)
    _table(pdf, content)
    sums = totals(content.lines)
    summary = TEXT["summary"].format(date=format_date(content.as_of), outstanding=format_money(sums.outstanding))
    if sums.late_fee:
        summary += TEXT["summary_late"].format(late_fee=format_money(sums.late_fee), due=format_money(sums.due))
    summary += TEXT["summary_end"].format(upper=rmb_upper(sums.due))
    pdf.ln(2)
    _paragraph(pdf, summary, size=BODY_PT, leading=BODY_LEADING)
    deadline = TEXT[f"deadline_{content.kind}"].format(deadline=format_date(content.deadline), contact=contact_line(content))
    _paragraph(pdf, deadline, size=BODY_PT, leading=BODY_LEADING)
    _payment(pdf, content)
    legal_basis = content.legal_basis
    if legal_basis:
        _heading(pdf, TEXT["legal"])
        _numbered(pdf, legal_basis, size=SMALL_PT, leading=SMALL_LEADING)
    _signature(pdf, content)


def contact_line(content: LetterContent) -> str:
    """（联系人：李明，电话：0755-88886200 转 8012）, or the service phone alone; "" with no phone at all."""
    phone = content.contact_phone or content.letterhead.service_phone or content.letterhead.phone
    if not phone:
        return ""
    if content.contact_name:
        return TEXT["contact_named"].format(name=content.contact_name, phone=phone)
    return TEXT["contact"].format(phone=phone)


def _letterhead(pdf: _LetterPDF, content: LetterContent) -> None:
    if content.kind == "lawyer":
        name, address, phone = content.law_firm.name, content.law_firm.address, content.law_firm.phone
    else:
        name, address, phone = content.letterhead.company, content.letterhead.address, content.letterhead.phone
    pdf.set_y(16)
    pdf.font(19, bold=True, color=RED)
    pdf.set_char_spacing(1.5)
    pdf.cell(0, 10, name, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_char_spacing(0)
    contact = "　".join(part for part in (address and f"地址：{address}", phone and f"电话：{phone}") if part)
    if contact:
        pdf.font(9, color=GREY)
        pdf.cell(0, 5, contact, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    y = pdf.get_y() + 2
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.8)
    pdf.line(MARGIN, y, pdf.w - MARGIN, y)
    pdf.set_line_width(0.25)
    pdf.line(MARGIN, y + 1.2, pdf.w - MARGIN, y + 1.2)
    pdf.set_y(y + 6)


def _title(pdf: _LetterPDF, content: LetterContent) -> None:
    pdf.font(22, bold=True)
    pdf.set_char_spacing(10)
    title = KINDS[content.kind]
    # Char spacing also follows the last character: shift right by half of it to stay centred.
    pdf.set_x(MARGIN + 10 / pdf.k / 2)
    pdf.cell(0, 11, title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_char_spacing(0)
    if content.kind == "lawyer":
        pdf.font(11, color=GREY)
        pdf.cell(0, 6, f"（{TEXT['entrusted'].format(company=content.letterhead.company)}）", align="C",
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.font(10, color=GREY)
    for text in (TEXT["number"].format(number=content.number), TEXT["date"].format(date=format_date(content.issued_on))):
        pdf.cell(0, 5.2, text, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def _heading(pdf: DocumentPDF, text: str) -> None:
    pdf.ln(2.5)
    if pdf.will_page_break(BODY_LEADING * 3):  # a heading never ends a page alone
        pdf.add_page()
    pdf.font(BODY_PT, bold=True)
    pdf.cell(0, BODY_LEADING, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _table(pdf: _LetterPDF, content: LetterContent) -> None:
    if pdf.will_page_break(BODY_LEADING + 3 * 6.5):  # the caption, the heading row and two lines
        pdf.add_page()
    pdf.font(BODY_PT, bold=True)
    pdf.cell(pdf.width(TEXT["lines"]) + 3, BODY_LEADING, TEXT["lines"])
    pdf.font(9, color=GREY)
    pdf.cell(0, BODY_LEADING, TEXT["lines_note"].format(date=format_date(content.as_of)), align="R",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    sums = totals(content.lines)
    money_rows = [[format_money(getattr(line, name)) for name in ("amount", "paid", "outstanding", "late_fee")]
                  for line in content.lines]
    money_rows.append([format_money(getattr(sums, name)) for name in ("amount", "paid", "outstanding", "late_fee")])
    headings = TEXT["headings"].split("|")
    pdf.font(TABLE_PT, bold=True)
    pad = CELL_PAD
    # Money columns as wide as their widest figure, dates as wide as a date; the text columns share the rest.
    money_width = max(16.0, *(pdf.width(text) + pad for row in money_rows for text in row),
                      *(pdf.width(text) + pad for text in headings[3:]))
    date_width = pdf.width("2026-12-31") + pad + 1
    rest = pdf.epw - date_width - 4 * money_width
    pdf.font(TABLE_PT)
    period_need = max(pdf.width(line.period) for line in content.lines) + pad + 1
    item_need = max(pdf.width(line.item) for line in content.lines) + pad + 1
    if period_need + item_need <= rest:  # both fit on one line: share the surplus
        period_width = period_need + (rest - period_need - item_need) * period_need / (period_need + item_need)
    else:
        period_width = min(period_need, rest * 0.45)
    widths = (period_width, rest - period_width, date_width, *(money_width,) * 4)

    rows = [[wrap_cell(pdf, line.period, widths[0]), wrap_cell(pdf, line.item, widths[1]), line.due_on.isoformat(), *money]
            for line, money in zip(content.lines, money_rows, strict=False)]
    grid(pdf, widths=widths, align=("LEFT", "LEFT", "CENTER", "RIGHT", "RIGHT", "RIGHT", "RIGHT"), headings=headings,
         rows=rows, total=[(TEXT["total"], 3, "CENTER"), *((text, 1, None) for text in money_rows[-1])])


CELL_PAD = 2 * 1.6  # a table cell's left and right padding together


def wrap_cell(pdf: DocumentPDF, text: str, width: float) -> str:
    """A cell's text broken by our rules, not fpdf2's: kinsoku holds in cells too."""
    return "\n".join(_wrap(pdf, text, width - CELL_PAD - 0.6, 0))


def grid(pdf: DocumentPDF, *, widths: Sequence[float], align: Sequence[str], headings: Sequence[str],
         rows: Sequence[Sequence[str]], total: Sequence[tuple[str, int, str | None]] = ()) -> None:
    """A ruled table with a grey heading row repeated on every page, striped rows, and an optional bold
    total row of (text, columns spanned, alignment or None for the column's)."""
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    with pdf.table(
        col_widths=tuple(widths),
        width=pdf.epw,
        text_align=tuple(align),
        headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
        line_height=5.2,
        padding=(1.1, 1.6),
        cell_fill_color=ROW_FILL,
        cell_fill_mode="ROWS",
        repeat_headings=1,
    ) as table:
        row = table.row()
        for heading in headings:
            row.cell(heading, align="CENTER")
        for cells in rows:
            row = table.row()
            for text in cells:
                row.cell(text)
        if total:
            row = table.row(style=FontFace(emphasis="BOLD"))
            for text, span, cell_align in total:
                if cell_align:
                    row.cell(text, colspan=span, align=cell_align)
                else:
                    row.cell(text, colspan=span)


def _payment(pdf: _LetterPDF, content: LetterContent) -> None:
    head = content.letterhead
    items = [*content.payment_methods]
    if head.bank_account:
        items.append(TEXT["bank"].format(account_name=head.account_name or head.company, bank_name=head.bank_name,
                                         bank_account=head.bank_account.replace(" ", NBSP)))
    if content.payment_link:
        items.append(TEXT["link" if content.online_payment else "statement_link"].format(link=content.payment_link))
    if items:
        _heading(pdf, TEXT["payment"])
        _numbered(pdf, items, size=BODY_PT - 1, leading=BODY_LEADING - 0.8)


def _numbered(pdf: DocumentPDF, items: Sequence[str], *, size: float, leading: float) -> None:
    pdf.font(size)
    label_width = pdf.width(f"{len(items)}.") + 2.2
    for number, text in enumerate(items, start=1):
        if pdf.will_page_break(leading):
            pdf.add_page()
        pdf.font(size)
        pdf.set_x(MARGIN + 2 * size / pdf.k)
        y = pdf.get_y()
        pdf.cell(label_width, leading, f"{number}.")
        pdf.set_y(y)
        _paragraph(pdf, text, size=size, leading=leading, indent=0,
                   x=MARGIN + 2 * size / pdf.k + label_width)


def _signature(pdf: _LetterPDF, content: LetterContent) -> None:
    head = content.letterhead
    lines: list[tuple[str, bool, tuple[int, int, int] | int]] = []  # text, bold, colour
    if content.kind == "lawyer":
        firm = content.law_firm
        lines.append((firm.name, True, 0))
        if head.seal_text:
            lines.append((head.seal_text, False, GREY))
        if firm.lawyer:
            lines.append((TEXT["lawyer"].format(lawyer=firm.lawyer), False, 0))
        if firm.licence_no:
            lines.append((TEXT["licence"].format(licence=firm.licence_no), False, 0))
    else:
        lines.append((head.company, True, 0))
        if content.signatory and content.signatory != head.company:
            lines.append((content.signatory, True, 0))
        if head.seal_text:
            lines.append((head.seal_text, False, GREY))
    lines.append((format_date(content.issued_on), False, 0))
    if pdf.will_page_break(12 + len(lines) * BODY_LEADING):  # the signature stays in one piece
        pdf.add_page()
    pdf.ln(10)
    pdf.font(BODY_PT, bold=True)
    block = min(max(max(pdf.width(text) for text, _, _ in lines) + 6, 62.0), pdf.epw)
    for text, bold, colour in lines:
        pdf.font(BODY_PT, bold=bold, color=colour)
        pdf.set_x(pdf.w - MARGIN - block)
        pdf.cell(block, BODY_LEADING, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _paragraph(pdf: DocumentPDF, text: str, *, size: float, leading: float, indent: int = 2, bold: bool = False,
               x: float | None = None) -> None:
    """Justified Chinese text, first line indented `indent` characters (首行缩进)."""
    pdf.font(size, bold=bold)
    left = MARGIN if x is None else x
    width = pdf.w - MARGIN - left
    em = size / pdf.k
    for hard_line in text.split("\n"):
        first = indent * em
        lines = _wrap(pdf, hard_line, width, first)
        for number, line in enumerate(lines):
            offset = first if number == 0 else 0.0
            room = width - offset
            spacing = 0.0
            if number < len(lines) - 1 and len(line) > 1:
                per_gap = (room - pdf.width(line)) / (len(line) - 1)
                if 0 < per_gap <= 0.3 * em:  # wider gaps read as a broken line: leave it ragged
                    spacing = per_gap * pdf.k
            if pdf.will_page_break(leading):
                pdf.add_page()
                pdf.font(size, bold=bold)
            pdf.set_x(left + offset)
            pdf.set_char_spacing(spacing)
            pdf.cell(room, leading, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_char_spacing(0)


def _wrap(pdf: DocumentPDF, text: str, width: float, first_indent: float) -> list[str]:
    """Break text into lines no wider than `width`: between CJK characters, at spaces, never
    inside a Latin word or number unless it is wider than a line, and never against kinsoku."""
    lines: list[str] = []
    line, line_width, room = "", 0.0, width - first_indent
    for atom in _atoms(text):
        atom_width = pdf.width(atom)
        if atom.isspace():
            if line:
                line, line_width = line + atom, line_width + atom_width
            continue
        if line_width + atom_width <= room + 1e-6:
            line, line_width = line + atom, line_width + atom_width
            continue
        if line.strip():
            lines.append(line.rstrip())
            line, line_width, room = "", 0.0, width
        if atom_width <= room:
            line, line_width = atom, atom_width
            continue
        for char in atom:  # a URL or number wider than the line: break it anywhere
            char_width = pdf.width(char)
            if line and line_width + char_width > room + 1e-6:
                lines.append(line)
                line, line_width, room = "", 0.0, width
            line, line_width = line + char, line_width + char_width
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _atoms(text: str) -> list[str]:
    """Unbreakable pieces: one CJK character, a Latin word or number, a run of spaces; closing
    marks joined to what precedes them and opening marks to what follows (kinsoku)."""
    runs: list[list[str]] = []  # [kind, text]
    for char in text:
        kind = "space" if char.isspace() and char != NBSP else "wide" if unicodedata.east_asian_width(char) in ("W", "F") else "narrow"
        if runs and kind != "wide" and runs[-1][0] == kind:
            runs[-1][1] += char
        else:
            runs.append([kind, char])
    atoms: list[list[str]] = []
    for kind, piece in runs:
        if atoms and kind != "space" and atoms[-1][0] != "space" \
                and (piece[0] in NO_LINE_START or atoms[-1][1][-1] in NO_LINE_END):
            atoms[-1][1] += piece
        else:
            atoms.append([kind, piece])
    return [piece for _, piece in atoms]


# The helpers other documents draw with (the legal desk's court documents): the letters' own.
paragraph = _paragraph
numbered = _numbered
heading = _heading


# -- printing and archiving ---------------------------------------------------------------------


def merge(pdfs: Sequence[bytes]) -> bytes:
    """One PDF of all the letters, pages in the order given, for printing in one go."""
    from pypdf import PdfReader, PdfWriter

    if not pdfs:
        raise DomainError("没有要合并的函件。", "No letters to merge.", code="merge_empty")
    writer = PdfWriter()
    for data in pdfs:
        writer.append(PdfReader(io.BytesIO(data)))
    writer.add_metadata({"/Producer": "Arrears 物业费催收系统"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a ZIP can hold: the archive depends on the letters only


def zip_letters(files: Sequence[tuple[str, bytes]]) -> bytes:
    """A ZIP of single letters under the names given, in order, with fixed timestamps."""
    seen: set[str] = set()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            parts = name.replace("\\", "/").split("/")
            if not name or name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                raise DomainError(f"文件名无效：{name}", f"Invalid file name: {name!r}", code="zip_name")
            if name in seen:
                raise DomainError(f"文件名重复：{name}", f"Duplicate file name: {name!r}", code="zip_name")
            seen.add(name)
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
