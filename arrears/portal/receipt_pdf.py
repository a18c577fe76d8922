"""The receipt (收款收据) as an A5-landscape PDF, drawn from the content frozen when the money was taken.

Pure rendering, like the letters: the caller passes the frozen content and gets PDF bytes back. The
font is the letters' CJK font, cut down to the characters this receipt can print and embedded, and
the creation date is the issue time, so the same receipt always gives the same bytes: a reprint is
the same document, and its SHA-256 kept with the receipt proves it.

One line per charge: the principal and the late fee (summed over its months) this payment put on
it, so an ordinary payment fits one page. A payment over more charges than a page holds prints each
fee's consecutive periods within a year as one row (车位管理费（12 期）), still exact to the fen; what
is longer still runs on to continuation pages that repeat the table heading and the receipt number,
each page numbered "第 n 页，共 N 页".

A line the payer designated (民法典第560条) is marked 指定, with a note saying what that means.

A voided receipt (its payment was reversed) is drawn with a red 作废 VOID stamp over it and says so
beside its number, so a copy printed after the reversal cannot pass for a valid one. A re-entry of
a reversed payment names the receipt it replaces, and the voided receipt names its replacement.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal

from fpdf import FPDF, FontFace
from fpdf.enums import XPos, YPos

from arrears.core.errors import DomainError
from arrears.core.money import ZERO, to_money
from arrears.notices.pdf import format_date, format_money, rmb_upper
from arrears.notices.pdf_fonts import Face, face_for, letter_fonts

TITLE = "收款收据"
TEXT = {  # every fixed string the receipt prints: its font is cut from these and the content
    "number": "收据号：{number}",
    "issued": "开具日期：{date}",
    "void_note": "（本收据已作废 VOID）",
    "replaced_by": "本收据的缴费已冲正，已由收据 {number} 更正。",
    "replaces": "本收据更正并取代收据 {number}（该笔缴费已冲正，原收据作废），两张收据只代表一笔缴费。",
    "payer": "交款人：{owner}",
    "unit": "房屋：{community} {unit}",
    "paid_on": "缴费日期：{date}",
    "method": "缴费方式：{method}",
    "reference": "交易参考号：{reference}",
    "headings": "收费项目|账期|本金|违约金|小计（元）",
    "credit_line": "预存款（未冲抵）",
    "total": "合计",
    "in_words": "人民币（大写）：{upper}　　（小写）¥{amount}",
    "credit_note": "其中预存余额 ¥{credit}，将自动冲抵以后的应缴费用；异议处理中的费用不会被自动冲抵。",
    "designated_mark": "（指定）",
    "designated_note": "标“指定”的款项按缴款人的指定冲抵（《民法典》第五百六十条），其余按物业服务合同约定的顺序冲抵。",
    "discount": "优惠减免：{programme}（{kind}）{charge_type} {period} {component} -¥{amount}",
    "discount_note": "优惠减免按小区优惠活动由系统批准，不是缴款，不计入合计。",
    "payee": "收款单位（盖章）：{company}",
    "operator": "经办人：{operator}",
    "phone": "客服电话：{phone}",
    "keep": "请妥善保管本收据。如有疑问，请凭收据号向物业服务中心查询。",
    "stamp": "作废 VOID",
    "continued": "（续）",
    "periods": "（{count} 期）",
    "page": "第 {page} 页，共 {pages} 页",
    "numerals": "0123456789.,-¥" + "零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整负年月日",
}
BOLD_TEXT = ("headings", "total", "stamp", "numerals")

# Layout, in millimetres (A5 landscape: 210 × 148).
MARGIN = 12.0
TOP = 10.0
BOTTOM = 10.0
RED = (190, 30, 30)
GREY = (105, 105, 105)
RULE = (150, 150, 150)
HEADING_FILL = (238, 238, 238)
FAMILY = "receipt"
ROWS_ON_ONE_PAGE = 10  # charge lines that fit the first page beside the heading, credit, notes and signature
PRINCIPAL_LABELS = ("本金", "Principal")  # how a legacy line named its component (in the language of the request)


def render_receipt(*, number: str, issued_at: datetime, content: Mapping, voided: bool, replaced_by: str = "") -> bytes:
    """The receipt as a PDF; the same arguments give byte-identical output."""
    if replaced_by:
        content = {**content, "replaced_by": replaced_by}
    content = {**content, "lines": per_charge(content.get("lines", ()))}
    figures = _figures(content)
    fonts = letter_fonts()
    regular = face_for(fonts.regular)
    faces = {"": regular, "B": face_for(fonts.bold, bold=True) if fonts.bold else regular}
    chars = _chars(number, content)
    data, unforeseen = _render(number, issued_at, content, figures, voided, faces, chars)
    if data is None:  # a string _chars did not foresee: cut the fonts again with its characters
        chars = {style: chars[style] | unforeseen[style] for style in chars}
        data, _ = _render(number, issued_at, content, figures, voided, faces, chars, final=True)
    return data


def per_charge(lines) -> list[dict]:
    """Receipt lines one per charge. Receipts issued before this layout froze a line per component
    (本金 / 违约金, in charge order): adjacent lines of the same charge become one, to the fen."""
    merged: list[dict] = []
    for line in lines:
        if "component" not in line:
            merged.append(dict(line))
            continue
        principal = line["component"] in PRINCIPAL_LABELS
        amount = to_money(line["amount"])
        last = merged[-1] if merged else None
        if last is not None and last.get("legacy") and (last["charge_type"], last["period"]) == (line["charge_type"], line["period"]):
            key = "principal" if principal else "late_fee"
            last[key] = str(to_money(last[key]) + amount)
            last["amount"] = str(to_money(last["amount"]) + amount)
            last["designated"] = last["designated"] or bool(line.get("designated"))
            continue
        merged.append({"charge_type": line["charge_type"], "period": line["period"], "legacy": True,
                       "principal": str(amount if principal else ZERO), "late_fee": str(ZERO if principal else amount),
                       "amount": str(amount), "designated": bool(line.get("designated"))})
    return merged


def _period(text: str) -> tuple[date, date] | None:
    start, sep, end = text.partition("–")
    try:
        return date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        return None


def runs(lines) -> list[dict]:
    """Too many charges for one page: consecutive periods of one fee in one year print as one row
    (车位管理费（12 期）, 2025-01-01–2025-12-31, their principal and late fee summed to the fen), in
    the order of each run's first charge; a gap in the periods starts a new row."""
    if len(lines) <= ROWS_ON_ONE_PAGE:
        return [dict(line) for line in lines]
    rows: list[dict] = []
    open_runs: dict[tuple, dict] = {}  # (fee, designated, year) -> its run still open for the next period
    for line in lines:
        period = _period(line["period"])
        designated = bool(line.get("designated"))
        key = (line["charge_type"], designated, period[0].year) if period else None
        run = open_runs.get(key) if key else None
        if run is not None and period[0] == run["_end"] + timedelta(days=1):
            run["_count"] += 1
            run["_end"] = period[1]
            for field in ("principal", "late_fee", "amount"):
                run[field] = str(to_money(run[field]) + to_money(line[field]))
            continue
        row = {**line, "designated": designated, "_count": 1,
               "_start": period[0] if period else None, "_end": period[1] if period else None}
        rows.append(row)
        if key:
            open_runs[key] = row
    for row in rows:
        if row["_count"] > 1:
            row["period"] = f"{row['_start']:%Y-%m-%d}–{row['_end']:%Y-%m-%d}"
            row["charge_type"] += TEXT["periods"].format(count=row["_count"])
    return [{key: value for key, value in row.items() if not key.startswith("_")} for row in rows]


def _figures(content: Mapping) -> dict[str, Decimal]:
    """The amounts as exact money; refuses a receipt whose lines and credit do not make its amount,
    because a receipt is evidence and must add up to the fen."""
    amount = to_money(content["amount"])
    for line in content.get("lines", ()):
        if to_money(line["principal"]) + to_money(line["late_fee"]) != to_money(line["amount"]):
            raise DomainError(
                f"收据明细 {line['charge_type']} {line['period']} 的本金加违约金不等于其小计，不能出具。",
                f"a receipt line's principal and late fee do not make its amount ({line['charge_type']} {line['period']})",
                code="receipt_total",
            )
    allocated = sum((to_money(line["amount"]) for line in content.get("lines", ())), ZERO)
    credit = to_money(content.get("credit") or "0")
    if allocated + credit != amount:
        raise DomainError(
            f"收据明细合计 {allocated} 加预存 {credit} 不等于收款金额 {amount}，不能出具。",
            f"receipt lines {allocated} plus credit {credit} do not make the amount {amount}",
            code="receipt_total",
        )
    return {"amount": amount, "credit": credit}


def _strings(value) -> list[str]:
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


def _chars(number: str, content: Mapping) -> dict[str, frozenset[str]]:
    """What each style ("" regular, "B" bold) can print: fixed text, content, ASCII."""
    regular = set("".join(TEXT.values()) + TITLE + number + "".join(_strings(content)))
    regular |= {chr(code) for code in range(0x20, 0x7F)} | {"　", "–", "—"}
    bold = set("".join(TEXT[key] for key in BOLD_TEXT) + TITLE + " " + str(content.get("company", "")))
    return {"": frozenset(regular), "B": frozenset(bold)}


def _render(number, issued_at, content, figures, voided, faces: dict[str, Face], chars: dict[str, frozenset[str]], *,
            final: bool = False) -> tuple[bytes | None, dict[str, frozenset[str]]]:
    with tempfile.TemporaryDirectory(prefix="arrears-receipt-") as tmp:
        pdf = _ReceiptPDF(number, issued_at, content)
        for style, face in faces.items():
            path = os.path.join(tmp, f"receipt{style}.ttf")
            with open(path, "wb") as file:
                file.write(face.font_bytes(chars[style]))
            pdf.add_font(FAMILY, style, path)
        for font in pdf.fonts.values():
            font.ttfont.recalcBBoxes = False  # as the letters: small fonts carry their boxes
        _compose(pdf, number, issued_at, content, figures, voided)
        unforeseen = {
            style: frozenset(chr(code) for code in pdf.fonts[FAMILY + style].missing_glyphs) - chars[style]
            for style in faces
        }
        if any(unforeseen.values()) and not final:
            return None, unforeseen
        return bytes(pdf.output()), unforeseen


class _ReceiptPDF(FPDF):
    def __init__(self, number: str, issued_at: datetime, content: Mapping):
        super().__init__(orientation="L", unit="mm", format=(148, 210))  # A5 landscape
        self.number = number
        self.set_margins(MARGIN, TOP, MARGIN)
        self.c_margin = 0
        self.set_auto_page_break(True, margin=BOTTOM)
        self.set_display_mode(zoom="fullpage")
        self.set_title(f"{TITLE}　{number}")
        self.set_author(str(content.get("company", "")))
        self.set_subject(number)
        self.set_creator("Arrears 物业费催收系统")
        self.set_lang("zh-CN")
        self.set_creation_date(issued_at)

    def font(self, size: float, *, bold: bool = False, color: tuple[int, int, int] | int = 0) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        if isinstance(color, tuple):
            self.set_text_color(*color)
        else:
            self.set_text_color(color)

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.font(8, color=GREY)
        self.set_xy(MARGIN, 5)
        self.cell(0, 4, f"{TITLE}{TEXT['continued']}　{TEXT['number'].format(number=self.number)}", align="R")
        self.set_xy(MARGIN, TOP)


def _compose(pdf: _ReceiptPDF, number: str, issued_at: datetime, content: Mapping, figures: dict[str, Decimal],
             voided: bool) -> None:
    pdf.add_page()
    pdf.font(12, bold=True)
    pdf.cell(0, 6, str(content.get("company", "")), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(17, bold=True, color=RED if voided else 0)
    pdf.set_char_spacing(8)
    pdf.set_x(MARGIN + 8 / pdf.k / 2)  # spacing also follows the last character: keep the title centred
    pdf.cell(0, 9, TITLE, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_char_spacing(0)

    half = pdf.epw / 2
    pdf.font(10)
    number_text = TEXT["number"].format(number=number)
    pdf.cell(half, 5.5, number_text)
    pdf.cell(half, 5.5, TEXT["issued"].format(date=format_date(issued_at.date())), align="R",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if voided:
        pdf.font(10, bold=True, color=RED)
        pdf.cell(0, 5, TEXT["void_note"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if content.get("replaced_by"):
            pdf.multi_cell(0, 5, TEXT["replaced_by"].format(number=content["replaced_by"]),
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if content.get("replaces"):
        pdf.font(10, bold=True)
        pdf.multi_cell(0, 5, TEXT["replaces"].format(number=content["replaces"]), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.3)
    pdf.line(MARGIN, pdf.get_y() + 0.8, pdf.w - MARGIN, pdf.get_y() + 0.8)
    pdf.ln(1.8)

    method = str(content.get("method", ""))
    if content.get("channel"):
        method += f"（{content['channel']}）"
    facts = [
        (TEXT["payer"].format(owner=content.get("owner", "")),
         TEXT["unit"].format(community=content.get("community", ""), unit=content.get("unit", ""))),
        (TEXT["paid_on"].format(date=format_date(date.fromisoformat(content["paid_on"]))),
         TEXT["method"].format(method=method)),
    ]
    if content.get("reference"):
        facts.append((TEXT["reference"].format(reference=content["reference"]), ""))
    pdf.font(10)
    for left, right in facts:
        pdf.cell(half, 5.2, left)
        pdf.cell(half, 5.2, right, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.2)

    _table(pdf, content, figures)
    if any(line.get("designated") for line in content.get("lines", ())):
        pdf.font(8, color=GREY)
        pdf.multi_cell(0, 4, TEXT["designated_note"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if content.get("discounts"):  # seed 000's incentives: named with their programme, outside the total
        pdf.font(9)
        for discount in content["discounts"]:
            pdf.multi_cell(0, 4.5, TEXT["discount"].format(**{k: discount.get(k, "") for k in (
                "programme", "kind", "charge_type", "period", "component", "amount")}), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.font(8, color=GREY)
        pdf.multi_cell(0, 4, TEXT["discount_note"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.ln(1.2)
    pdf.font(10.5, bold=True)
    pdf.multi_cell(0, 5.5, TEXT["in_words"].format(upper=rmb_upper(figures["amount"]), amount=format_money(figures["amount"])),
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if figures["credit"] > ZERO:
        pdf.font(9)
        pdf.cell(0, 5, TEXT["credit_note"].format(credit=format_money(figures["credit"])),
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.ln(2)
    if pdf.will_page_break(10):
        pdf.add_page()
    third = pdf.epw / 3
    pdf.font(10)
    pdf.cell(third * 1.4, 5.5, TEXT["payee"].format(company=content.get("company", "")))
    pdf.cell(third * 0.8, 5.5, TEXT["operator"].format(operator=content.get("operator") or "—"))
    phone = content.get("company_phone") or ""
    pdf.cell(third * 0.8, 5.5, TEXT["phone"].format(phone=phone) if phone else "", align="R",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(8, color=GREY)
    pdf.cell(0, 4.5, TEXT["keep"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    _number_pages(pdf)
    if voided:
        last = pdf.page
        for page in range(1, last + 1):
            pdf.page = page
            _forget_state(pdf)
            _stamp(pdf)
        pdf.page = last


def _table(pdf: _ReceiptPDF, content: Mapping, figures: dict[str, Decimal]) -> None:
    headings = TEXT["headings"].split("|")
    widths = tuple(pdf.epw * share for share in (0.25, 0.31, 0.15, 0.13, 0.16))
    lines = runs(content.get("lines", ()))
    rows = [(line["charge_type"] + (TEXT["designated_mark"] if line.get("designated") else ""), line["period"],
             format_money(to_money(line["principal"])), format_money(to_money(line["late_fee"])),
             format_money(to_money(line["amount"])))
            for line in lines]
    if figures["credit"] > ZERO:
        rows.append((TEXT["credit_line"], "", "", "", format_money(figures["credit"])))
    principal = sum((to_money(line["principal"]) for line in lines), ZERO)
    late_fee = sum((to_money(line["late_fee"]) for line in lines), ZERO)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    pdf.font(9)
    with pdf.table(
        col_widths=widths,
        width=pdf.epw,
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
        line_height=4.0,
        padding=(0.3, 1.6),
        repeat_headings=1,
    ) as table:
        row = table.row()
        for heading in headings:
            row.cell(heading, align="CENTER")
        for cells in rows:
            row = table.row()
            for text in cells:
                row.cell(text)
        row = table.row(style=FontFace(emphasis="BOLD"))
        row.cell(TEXT["total"], colspan=2, align="CENTER")
        row.cell(format_money(principal))
        row.cell(format_money(late_fee))
        row.cell(format_money(figures["amount"]))


def _forget_state(pdf: _ReceiptPDF) -> None:
    """Back on an earlier page, fpdf2 would skip a font, colour or line width it believes is current,
    and the page's own stream would draw with whatever it last set: make the next setters write."""
    pdf.font_family = ""
    pdf.draw_color = None
    pdf.line_width = -1


def _number_pages(pdf: _ReceiptPDF) -> None:
    """第 n 页，共 N 页 at the foot of every page, once the count is known (only when there is more than one)."""
    pages = pdf.pages_count
    if pages < 2:
        return
    last = pdf.page
    auto = pdf.auto_page_break
    pdf.set_auto_page_break(False)
    for page in range(1, pages + 1):
        pdf.page = page
        _forget_state(pdf)
        pdf.font(8, color=GREY)
        pdf.set_xy(MARGIN, pdf.h - BOTTOM + 2.5)
        pdf.cell(0, 4, TEXT["page"].format(page=page, pages=pages), align="C")
    pdf.set_auto_page_break(auto, margin=BOTTOM)
    pdf.page = last


def _stamp(pdf: _ReceiptPDF) -> None:
    """A red rubber stamp across the middle of the page, tilted as a hand stamp is."""
    cx, cy = pdf.w / 2, pdf.h / 2 + 6
    width, height = 92.0, 26.0
    with pdf.rotation(angle=18, x=cx, y=cy):
        pdf.set_draw_color(*RED)
        pdf.set_line_width(1.4)
        pdf.rect(cx - width / 2, cy - height / 2, width, height)
        pdf.set_line_width(0.5)
        pdf.rect(cx - width / 2 + 1.8, cy - height / 2 + 1.8, width - 3.6, height - 3.6)
        pdf.font(30, bold=True, color=RED)
        pdf.set_xy(cx - width / 2, cy - height / 2)
        pdf.cell(width, height, TEXT["stamp"], align="C")
