"""Drafts of court documents as PDF: 民事起诉状, 支付令申请书 and 证据清单 of one matter.

The text is a template with {placeholders} (default_templates.py; a company may keep its own as a
DocumentTemplate). `PLACEHOLDERS` is the one list of what a template may use; a template naming
anything else is refused when it is saved, and again when it is rendered, so no "{name}" ever
reaches a court. The figures are legal.claims' (the ledger's charges with their contract late fee
as of the claim date), the demands are the letters whose delivery is on record, and the PDF is set
with the letters' font and layout (notices.pdf): the same matter, date and text give the same bytes.

These are drafts for the lawyer: the owner's identity number and the company's legal
representative are left blank to be filled in by hand, never taken from the owner's record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from fpdf.enums import XPos, YPos

from arrears.collection.models import ContactAttempt
from arrears.collection.scripts import placeholders_in, render_script
from arrears.core.errors import DomainError
from arrears.core.money import ZERO, format_yuan
from arrears.estate.models import Company, OwnerKind, Ownership, ServiceTicket
from arrears.ledger.models import Payment
from arrears.notices import pdf
from arrears.notices.models import Letter, LetterStatus
from arrears.notices.pdf_fonts import face_for, letter_fonts

from . import claims
from .default_templates import DEFAULTS
from .models import CommunityDocument, DocumentKind, DocumentTemplate, Matter, TemplateKind

# name → (Chinese, English) description, shown on the template page.
PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "company_name": ("物业公司名称（原告／申请人）", "the property company (plaintiff / applicant)"),
    "company_address": ("物业公司地址", "the company's address"),
    "company_phone": ("物业公司电话", "the company's phone"),
    "legal_representative": ("法定代表人（留空，由律师填写）", "legal representative (a blank for the lawyer)"),
    "owner_name": ("业主姓名或名称（被告／被申请人）", "the owner (defendant / respondent)"),
    "owner_id_label": ("证件名称：公民身份号码或统一社会信用代码", "ID label: citizen ID or unified social credit code"),
    "owner_id_number": ("证件号码（留空，由律师填写）", "ID number (a blank for the lawyer)"),
    "community": ("小区名称", "the community"),
    "unit": ("房号，如 3栋1单元1201室", "the unit, e.g. 3栋1单元1201室"),
    "unit_address": ("房屋地址：小区地址、小区名称和房号", "the unit's address: community address, name and unit"),
    "contract": ("物业服务合同名称及编号", "the property service contract's title and number"),
    "court": ("受诉法院（未填时留空）", "the court (a blank when not set)"),
    "court_case_number": ("案号（未填时留空）", "the case number (a blank when not set)"),
    "claim_date": ("诉请计算日", "the claim date"),
    "claim_date_next": ("诉请计算日的次日", "the day after the claim date"),
    "date": ("文书日期", "the document's date"),
    "period_from": ("欠费最早账期起始日", "start of the earliest unpaid period"),
    "period_to": ("欠费最晚账期终止日", "end of the latest unpaid period"),
    "charge_types": ("欠费项目，如 物业服务费、停车费", "the kinds of charge, e.g. 物业服务费、停车费"),
    "principal": ("欠费本金，如 ¥1,234.56", "principal, e.g. ¥1,234.56"),
    "principal_upper": ("欠费本金大写", "principal in Chinese capitals"),
    "late_fee": ("违约金", "late fee"),
    "late_fee_upper": ("违约金大写", "late fee in Chinese capitals"),
    "total": ("本金与违约金合计", "principal and late fee together"),
    "total_upper": ("合计大写", "the total in Chinese capitals"),
    "costs": ("诉请的其他费用", "other costs claimed"),
    "daily_rate": ("合同约定的违约金日率，如 万分之五", "the contract's daily late-fee rate, e.g. 万分之五"),
    "grace_days": ("宽限天数", "grace days"),
    "late_fee_cap": ("违约金上限（占欠费的比例），如 30%", "the late-fee cap as a share of the charge, e.g. 30%"),
    "demands": ("已送达的书面催缴（日期、函号）；无送达记录时为空", "written demands delivered (dates, numbers); empty when none"),
    "charges_table": ("欠费及违约金计算明细表（单独一行）", "table of charges and late fees (on a line of its own)"),
    "evidence_items": ("证据目录，逐项编号（单独一行）", "numbered list of the evidence (on a line of its own)"),
    "evidence_table": ("证据清单表：序号、名称、来源、证明内容、页码（单独一行）",
                       "evidence table: number, name, source, what it proves, pages (on a line of its own)"),
}
BLOCKS = frozenset({"charges_table", "evidence_items", "evidence_table"})
BLANK = "__________________"  # a line the lawyer fills in by hand
TITLE_MAX = 100
BODY_MAX = 20000

_BRACE = re.compile(r"[{}｛｝]")
_INDENT = re.compile(r"^[　 ]*")


# -- templates ----------------------------------------------------------------------------------


def check_template(*, kind: str, title: str, body: str) -> None:
    """Refuse a template that could not be rendered as written: every brace must be a known placeholder."""
    if kind not in TemplateKind.values:
        raise DomainError(f"未知的文书类型：{kind}", f"unknown document kind: {kind}", code="template_kind")
    if not title.strip() or len(title) > TITLE_MAX:
        raise DomainError(f"标题不能为空，且不超过 {TITLE_MAX} 个字", f"a title is required, at most {TITLE_MAX} characters",
                          code="template_title")
    if not body.strip() or len(body) > BODY_MAX:
        raise DomainError(f"正文不能为空，且不超过 {BODY_MAX} 个字", f"a body is required, at most {BODY_MAX} characters",
                          code="template_body")
    for text in (title, body):
        unknown = [name for name in placeholders_in(text) if name not in PLACEHOLDERS]
        if unknown:
            found = "、".join("{" + name + "}" for name in unknown)
            raise DomainError(f"模板含未知占位符：{found}。可用的占位符见本页列表。",
                              f"unknown placeholders in the template: {found.replace('、', ', ')}; the page lists those allowed",
                              code="template_placeholder")
        stray = _BRACE.search(_without_placeholders(text))
        if stray:
            raise DomainError(f"模板含不成对或无效的花括号“{stray.group(0)}”：占位符写作 {{名称}}，名称见本页列表。",
                              f"a stray or invalid brace \"{stray.group(0)}\": a placeholder is written {{name}}, "
                              "with a name from the list on this page", code="template_placeholder")
    if any(name in BLOCKS for name in placeholders_in(title)):
        raise DomainError("标题中不能使用表格或目录占位符", "a title cannot hold a table or list placeholder",
                          code="template_placeholder")
    for line in body.splitlines():
        inline = [name for name in placeholders_in(line) if name in BLOCKS]
        if inline and line.strip() != "{" + inline[0] + "}":
            raise DomainError(f"{{{inline[0]}}} 必须单独占一行", f"{{{inline[0]}}} must stand alone on its line",
                              code="template_placeholder")


def _without_placeholders(text: str) -> str:
    return re.sub(r"\{[A-Za-z_][A-Za-z0-9_]*\}", "", text)


def save_template(*, company: Company, kind: str, title: str, body: str, staff) -> DocumentTemplate:
    """Create or replace the company's own text of a document after checking it."""
    check_template(kind=kind, title=title, body=body)
    check_glyphs(title + body)
    with transaction.atomic():
        template, _ = DocumentTemplate.objects.update_or_create(
            company=company, kind=kind, defaults={"title": title, "body": body, "updated_by": staff})
    return template


def check_glyphs(text) -> None:
    """Refuse characters the PDF font cannot draw: fpdf2 would leave them out, and a court would read a
    name or figure with a character missing (an emoji, a rare character beyond the font)."""
    face = face_for(letter_fonts().regular)
    missing = sorted({char for char in text if not char.isspace() and not face.has(char)})
    if missing:
        found = "、".join(missing[:10])
        raise DomainError(f"文书含字体中没有的字符：{found}。请改用其他写法，或配置包含这些字的字体（ARREARS_PDF_FONT）。",
                          f"the text holds characters the PDF font lacks: {found.replace('、', ' ')}; write them otherwise "
                          "or configure a font that has them (ARREARS_PDF_FONT)", code="pdf_missing_glyph")


def built_in(kind: str) -> tuple[str, str]:
    """(title, body) of the text shipped with the system."""
    if kind not in DEFAULTS:
        raise DomainError(f"未知的文书类型：{kind}", f"unknown document kind: {kind}", code="template_kind")
    return DEFAULTS[kind]


def template_for(kind: str, company_id: int | None) -> tuple[str, str, DocumentTemplate | None]:
    """(title, body, the row it came from): the company's own, else a saved default, else the built-in text."""
    built_in(kind)
    row = DocumentTemplate.objects.filter(kind=kind, company_id=company_id).first() if company_id else None
    row = row or DocumentTemplate.objects.filter(kind=kind, company__isnull=True).first()
    if row is not None:
        return row.title, row.body, row
    return (*DEFAULTS[kind], None)


# -- what a document states ---------------------------------------------------------------------


PIECEWISE = "分段"


@dataclass(frozen=True)
class ChargeRow:
    charge_type: str
    period: str
    due: date
    outstanding: Decimal
    days: int | str  # "分段": partly paid or waived, the fee ran on what remained each day
    late_fee: Decimal


@dataclass(frozen=True)
class EvidenceItem:
    name: str
    source: str
    proves: str
    pages: str = ""


@dataclass(frozen=True)
class DocumentData:
    """Everything a document states, formatted: the placeholders' values, the charges and the evidence."""

    values: dict[str, str]
    charges: tuple[ChargeRow, ...]
    evidence: tuple[EvidenceItem, ...]
    issued_on: date
    author: str
    subject: str
    principal: Decimal = ZERO
    late_fee: Decimal = ZERO


def money(value: Decimal) -> str:
    """¥1,234.56: the figure as a court document writes it beside its capitals."""
    return "¥" + format_yuan(value, sign=False)


def upper(value: Decimal) -> str:
    return "人民币" + pdf.rmb_upper(value)


_SMALL = "零一二三四五六七八九"


def _small_number(number: int) -> str:
    """1–99 in Chinese numerals: 五, 十五, 二十."""
    tens, ones = divmod(number, 10)
    text = ("" if tens == 1 else _SMALL[tens]) + "十" if tens else ""
    return text + (_SMALL[ones] if ones else "")


def daily_rate_text(rate: Decimal) -> str:
    """0.0005 → 万分之五 (as contracts write it); a rate that is no whole 万分之 → 0.035%."""
    per_ten_thousand = rate * 10000
    if per_ten_thousand == per_ten_thousand.to_integral_value() and 1 <= per_ten_thousand <= 99:
        return "万分之" + _small_number(int(per_ten_thousand))
    return _percent(rate)


def _percent(value: Decimal) -> str:
    text = format(value * 100, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + "%"


def _joined(values) -> str:
    return "、".join(dict.fromkeys(values))


def _unit_text(matter: Matter) -> str:
    label = matter.unit.label
    return label + "室" if label[-1:].isdigit() else label


def document_data(matter: Matter, as_of: date) -> DocumentData:
    """The matter's claim, parties, demands and evidence as the documents state them on `as_of`."""
    claim_date = matter.claim_as_of or as_of
    if claim_date > as_of:
        raise DomainError("诉请计算日晚于文书日期", "the claim date falls after the document's date", code="claim_date")
    the_claim = claims.claim(unit_id=matter.unit_id, owner_id=matter.owner_id, as_of=claim_date,
                             charge_ids=matter.claim_charges or None)
    if not the_claim.lines:
        raise DomainError("该业主在该房屋没有可主张的欠费，不能生成文书。",
                          "the owner owes nothing on this unit to claim: no document can be drawn up",
                          code="claim_empty")
    if matter.claim_charges and (the_claim.principal, the_claim.late_fee) != (matter.claim_principal, matter.claim_late_fee):
        raise DomainError(
            f"案件登记的诉请（本金{money(matter.claim_principal)}、违约金{money(matter.claim_late_fee)}）与账目"
            f"（本金{money(the_claim.principal)}、违约金{money(the_claim.late_fee)}）不一致，请先核对诉请。",
            f"the claim on the matter (principal {money(matter.claim_principal)}, late fee "
            f"{money(matter.claim_late_fee)}) differs from the ledger (principal {money(the_claim.principal)}, late fee "
            f"{money(the_claim.late_fee)}): check the claim first", code="claim_mismatch")
    community, owner = matter.community, matter.owner
    company = community.company
    unit_text = _unit_text(matter)
    unit_address = f"{community.address}{community.name}{unit_text}"
    contract = _contract(matter)
    letters = list(Letter.objects.filter(unit_id=matter.unit_id, owner_id=matter.owner_id, status=LetterStatus.DELIVERED,
                                         delivered_on__isnull=False, delivered_on__lte=as_of)
                   .order_by("delivered_on", "id"))
    lines = the_claim.lines
    values = {
        "company_name": company.name, "company_address": company.address or BLANK, "company_phone": company.phone or BLANK,
        "legal_representative": BLANK,
        "owner_name": owner.name,
        "owner_id_label": "统一社会信用代码" if owner.kind == OwnerKind.ORGANISATION else "公民身份号码",
        "owner_id_number": BLANK,
        "community": community.name, "unit": unit_text, "unit_address": unit_address, "contract": contract,
        "court": matter.court or BLANK + "人民法院", "court_case_number": matter.court_case_number or BLANK,
        "claim_date": pdf.format_date(claim_date), "claim_date_next": pdf.format_date(claim_date + timedelta(days=1)),
        "date": pdf.format_date(as_of),
        "period_from": pdf.format_date(min(line.period_start for line in lines)),
        "period_to": pdf.format_date(max(line.period_end for line in lines)),
        "charge_types": _joined(line.charge_type for line in lines),
        "principal": money(the_claim.principal), "principal_upper": upper(the_claim.principal),
        "late_fee": money(the_claim.late_fee), "late_fee_upper": upper(the_claim.late_fee),
        "total": money(the_claim.total), "total_upper": upper(the_claim.total),
        "costs": money(matter.claim_costs),
        "daily_rate": _joined(daily_rate_text(line.daily_rate) for line in lines),
        "grace_days": _joined(str(line.grace_days) for line in lines),
        "late_fee_cap": _joined(_percent(line.cap) for line in lines),
        "demands": _demands(letters),
    }
    charges = tuple(ChargeRow(line.charge_type, f"{line.period_start.isoformat()}至{line.period_end.isoformat()}", line.due,
                              line.outstanding, PIECEWISE if line.piecewise else line.late_fee_days, line.late_fee)
                    for line in lines)
    evidence = _evidence(matter, as_of, values, contract, letters)
    return DocumentData(values=values, charges=charges, evidence=evidence, issued_on=as_of, author=company.name,
                        subject=f"{community.name}{unit_text} {owner.name}", principal=the_claim.principal,
                        late_fee=the_claim.late_fee)


def _contract(matter: Matter) -> str:
    document = (CommunityDocument.objects.filter(community_id=matter.community_id, kind=DocumentKind.CONTRACT)
                .order_by("-uploaded_at", "-id").first())
    title = document.title.strip("《》") if document else "物业服务合同"
    number = matter.community.contract_number
    return f"《{title}》" + (f"（编号：{number}）" if number else "")


def _demands(letters: list[Letter]) -> str:
    """The written demands on record, as the complaint states them; nothing when none was delivered."""
    if not letters:
        return ""
    parts = [f"{pdf.format_date(letter.delivered_on)}（{letter.get_kind_display()}，编号{letter.number}）" for letter in letters]
    return (f"原告{'分别' if len(letters) > 1 else ''}于{'、'.join(parts)}向被告送达书面催缴函件，催告被告在合理期限内"
            "缴纳欠费，被告在合理期限届满后仍未缴纳。")


def _evidence(matter: Matter, as_of: date, values: dict[str, str], contract: str,
              letters: list[Letter]) -> tuple[EvidenceItem, ...]:
    """The evidence pack's categories, in the order a court reads them: the basis, the owner, the debt, the demands."""
    ownership = (Ownership.objects.filter(unit_id=matter.unit_id, owner_id=matter.owner_id, start__lte=as_of)
                 .order_by("-start").first())
    attempts = ContactAttempt.objects.filter(unit_id=matter.unit_id, owner_id=matter.owner_id, at__date__lte=as_of).count()
    payments = Payment.objects.filter(unit_id=matter.unit_id, owner_id=matter.owner_id, paid_on__lte=as_of).count()
    tickets = ServiceTicket.objects.filter(unit_id=matter.unit_id, opened_on__lte=as_of).count()

    def counted(name: str, count: int, measure: str) -> str:
        return f"{name}（{count}{measure}）" if count else name

    since = f"，自{pdf.format_date(ownership.start)}起" if ownership else ""
    delivered = "、".join(pdf.format_date(letter.delivered_on) for letter in letters)
    return (
        EvidenceItem(f"{contract}及收费标准依据", "原告", f"原告系{values['community']}的物业服务人；物业费收费标准及逾期付款违约金的约定"),
        EvidenceItem("房屋权属登记记录", "不动产登记机构／原告物业档案", f"被告系{values['unit_address']}房屋的业主{since}"),
        EvidenceItem("欠费明细表", "原告",
                     f"被告欠缴{values['period_from']}至{values['period_to']}期间{values['charge_types']}{values['principal']}，"
                     f"截至{values['claim_date']}的违约金{values['late_fee']}及其计算"),
        EvidenceItem(counted("催缴函件及送达凭证", len(letters), "份"), "原告、邮政或送达机构",
                     f"原告已书面催告被告在合理期限内缴纳（送达日期：{delivered}）" if letters else "原告书面催告被告缴纳的情况"),
        EvidenceItem(counted("催缴联系记录", attempts, "次"), "原告", "原告催告被告缴纳的经过"),
        EvidenceItem(counted("缴费记录", payments, "笔"), "原告", "被告的缴费情况及欠费起始期间"),
        EvidenceItem(counted("投诉及报修处理记录", tickets, "件"), "原告", "原告已按约定提供物业服务，并处理业主的投诉和报修"),
    )


# -- rendering ----------------------------------------------------------------------------------


def render(kind: str, matter: Matter, as_of: date, *, company_template: DocumentTemplate | None = None) -> bytes:
    """The document of `kind` for the matter as an A4 PDF: the company's template if it has one, else the default."""
    if company_template is not None:
        if company_template.kind != kind:
            raise DomainError("模板类型与文书类型不符", "the template is of another kind of document", code="template_kind")
        title, body = company_template.title, company_template.body
    else:
        title, body, _ = template_for(kind, matter.community.company_id)
    return render_text(kind, title, body, document_data(matter, as_of))


def render_text(kind: str, title: str, body: str, data: DocumentData) -> bytes:
    """The PDF of a template's text filled from `data`; a template that does not check is refused, never half-filled."""
    check_template(kind=kind, title=title, body=body)
    title = render_script(title, data.values)
    lines = [(line, _block(line)) for line in body.splitlines()]
    filled = [(line if block else render_script(line, data.values), block) for line, block in lines]
    chars = _chars(title, filled, data)
    check_glyphs(chars[""])

    def compose(document: pdf.DocumentPDF) -> None:
        _compose(document, title, filled, data)

    return pdf.render_with_fonts(lambda: _CourtPDF(title=title, author=data.author, subject=data.subject,
                                                   issued_on=data.issued_on), compose, chars)


def _block(line: str) -> str:
    name = line.strip()[1:-1] if line.strip().startswith("{") and line.strip().endswith("}") else ""
    return name if name in BLOCKS else ""


CHARGE_HEADINGS = ("收费项目", "所属期间", "应缴日期", "欠缴本金", "计费天数", "违约金")
EVIDENCE_HEADINGS = ("序号", "证据名称", "证据来源", "证明内容", "页码")
TOTAL = "合计"
TABLE_NOTE = "金额单位：元；违约金按合同约定的日率、宽限天数和上限计算至{date}"


def _chars(title: str, filled: list[tuple[str, str]], data: DocumentData) -> dict[str, frozenset[str]]:
    """The characters each style may print; anything missed is caught by notices.pdf and cut again."""
    texts = [title, *(line for line, _ in filled), *CHARGE_HEADINGS, *EVIDENCE_HEADINGS, TOTAL, TABLE_NOTE,
             pdf.TEXT["page"], *data.values.values()]
    for row in data.evidence:
        texts.extend((row.name, row.source, row.proves, row.pages))
    for row in data.charges:
        texts.extend((row.charge_type, row.period))
    regular = set("".join(texts)) | {chr(code) for code in range(0x20, 0x7F)} | {"　", "¥"}
    bold = set(title + "".join(line for line, _ in filled if line.startswith("## ")) + "".join(CHARGE_HEADINGS)
               + "".join(EVIDENCE_HEADINGS) + TOTAL + "0123456789.,¥ ")
    return {"": frozenset(regular), "B": frozenset(bold)}


class _CourtPDF(pdf.DocumentPDF):
    def footer(self) -> None:
        self.font(8, color=pdf.GREY)
        self.set_xy(pdf.MARGIN, self.h - 15.5)
        # "{nb}" is fpdf2's alias for the page count, replaced on output.
        self.cell(self.epw, 4, pdf.TEXT["page"].format(page=self.page_no(), pages="{nb}"), align="C")


def _compose(document: pdf.DocumentPDF, title: str, filled: list[tuple[str, str]], data: DocumentData) -> None:
    document.add_page()
    document.font(22, bold=True)
    document.set_char_spacing(8)
    document.set_x(pdf.MARGIN + 8 / document.k / 2)  # char spacing also follows the last character
    document.cell(0, 12, title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    document.set_char_spacing(0)
    document.ln(4)
    signature: list[str] = []
    for line, block in filled:
        if line.startswith("> "):
            signature.append(line[2:].strip())
            continue
        if signature:
            _signature(document, signature)
            signature = []
        if block == "charges_table":
            _charges(document, data)
        elif block == "evidence_table":
            _evidence_table(document, data)
        elif block == "evidence_items":
            pdf.numbered(document, [f"{item.name}：证明{item.proves}。" for item in data.evidence], size=pdf.BODY_PT,
                         leading=pdf.BODY_LEADING)
        elif line.startswith("## "):
            pdf.heading(document, line[3:].strip())
        elif not line.strip():
            document.ln(pdf.BODY_LEADING / 2)
        else:
            indent = len(_INDENT.match(line).group(0).replace(" ", ""))
            pdf.paragraph(document, line.strip(" 　"), size=pdf.BODY_PT, leading=pdf.BODY_LEADING, indent=indent)
    if signature:
        _signature(document, signature)


def _signature(document: pdf.DocumentPDF, lines: list[str]) -> None:
    """The signer and date as a block on the right, kept on one page."""
    if document.will_page_break(8 + len(lines) * pdf.BODY_LEADING):
        document.add_page()
    document.ln(6)
    document.font(pdf.BODY_PT)
    block = min(max(max(document.width(text) for text in lines) + 6, 62.0), document.epw)
    for text in lines:
        document.set_x(document.w - pdf.MARGIN - block)
        document.cell(block, pdf.BODY_LEADING, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _table_caption(document: pdf.DocumentPDF, text: str, rows: int) -> None:
    document.ln(2)
    if document.will_page_break(pdf.BODY_LEADING + (rows + 1) * 6.5):
        document.add_page()
    document.font(9, color=pdf.GREY)
    document.cell(0, pdf.BODY_LEADING, text, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _charges(document: pdf.DocumentPDF, data: DocumentData) -> None:
    _table_caption(document, TABLE_NOTE.format(date=data.values["claim_date"]), min(len(data.charges), 2))
    rows = [[row.charge_type, row.period, row.due.isoformat(), pdf.format_money(row.outstanding), str(row.days),
             pdf.format_money(row.late_fee)] for row in data.charges]
    totals = [pdf.format_money(data.principal), "", pdf.format_money(data.late_fee)]
    document.font(pdf.TABLE_PT, bold=True)
    date_width = document.width("2026-12-31") + pdf.CELL_PAD + 1
    money_width = max(18.0, *(document.width(text) + pdf.CELL_PAD for row in rows for text in (row[3], row[5])),
                      *(document.width(text) + pdf.CELL_PAD for text in totals))
    days_width = document.width(CHARGE_HEADINGS[4]) + pdf.CELL_PAD + 1
    period_width = document.width("2026-12-31至2026-12-31") + pdf.CELL_PAD + 1
    type_width = document.epw - date_width - 2 * money_width - days_width - period_width
    widths = (type_width, period_width, date_width, money_width, days_width, money_width)
    document.font(pdf.TABLE_PT)
    rows = [[pdf.wrap_cell(document, row[0], widths[0]), pdf.wrap_cell(document, row[1], widths[1]), *row[2:]] for row in rows]
    pdf.grid(document, widths=widths, align=("LEFT", "CENTER", "CENTER", "RIGHT", "RIGHT", "RIGHT"),
             headings=CHARGE_HEADINGS, rows=rows,
             total=[(TOTAL, 3, "CENTER"), (totals[0], 1, None), (totals[1], 1, None), (totals[2], 1, None)])
    document.ln(2)


def _evidence_table(document: pdf.DocumentPDF, data: DocumentData) -> None:
    _table_caption(document, "", 2)
    document.font(pdf.TABLE_PT, bold=True)
    number_width = document.width(EVIDENCE_HEADINGS[0]) + pdf.CELL_PAD + 1
    pages_width = number_width
    rest = document.epw - number_width - pages_width
    widths = (number_width, rest * 0.34, rest * 0.22, rest * 0.44, pages_width)
    document.font(pdf.TABLE_PT)
    rows = [[str(number), pdf.wrap_cell(document, item.name, widths[1]), pdf.wrap_cell(document, item.source, widths[2]),
             pdf.wrap_cell(document, item.proves, widths[3]), item.pages]
            for number, item in enumerate(data.evidence, start=1)]
    pdf.grid(document, widths=widths, align=("CENTER", "LEFT", "LEFT", "LEFT", "CENTER"), headings=EVIDENCE_HEADINGS,
             rows=rows)
    document.ln(2)


# -- a sample, for the template page's preview ---------------------------------------------------


def example_data(company: Company, as_of: date) -> DocumentData:
    """Made-up figures for previewing a template: two monthly charges of ¥300.00 and their late fees."""
    principal, late_fee = Decimal("600.00"), Decimal("43.65")
    charges = (
        ChargeRow("物业服务费", "2025-01-01至2025-01-31", date(2025, 1, 5), Decimal("300.00"), 161, Decimal("24.15")),
        ChargeRow("物业服务费", "2025-02-01至2025-02-28", date(2025, 2, 5), Decimal("300.00"), 130, Decimal("19.50")),
    )
    values = {
        "company_name": company.name, "company_address": company.address or BLANK, "company_phone": company.phone or BLANK,
        "legal_representative": BLANK, "owner_name": "张三", "owner_id_label": "公民身份号码", "owner_id_number": BLANK,
        "community": "示例小区", "unit": "1栋1单元101室", "unit_address": "示例市示例路1号示例小区1栋1单元101室",
        "contract": "《物业服务合同》（编号：示例-001）", "court": "示例市示例区人民法院", "court_case_number": BLANK,
        "claim_date": "2025年6月30日", "claim_date_next": "2025年7月1日", "date": pdf.format_date(as_of),
        "period_from": "2025年1月1日", "period_to": "2025年2月28日", "charge_types": "物业服务费",
        "principal": money(principal), "principal_upper": upper(principal), "late_fee": money(late_fee),
        "late_fee_upper": upper(late_fee), "total": money(principal + late_fee), "total_upper": upper(principal + late_fee),
        "costs": money(ZERO), "daily_rate": "万分之五", "grace_days": "15", "late_fee_cap": "30%",
        "demands": "原告于2025年3月10日（催费函，编号示例-0001）向被告送达书面催缴函件，催告被告在合理期限内缴纳欠费，"
                   "被告在合理期限届满后仍未缴纳。",
    }
    evidence = (
        EvidenceItem("《物业服务合同》（编号：示例-001）及收费标准依据", "原告", "原告系示例小区的物业服务人；物业费收费标准及逾期付款违约金的约定"),
        EvidenceItem("房屋权属登记记录", "不动产登记机构／原告物业档案", "被告系示例小区1栋1单元101室房屋的业主"),
        EvidenceItem("欠费明细表", "原告", "被告欠缴的物业服务费及违约金的计算"),
        EvidenceItem("催缴函件及送达凭证（1份）", "原告、邮政或送达机构", "原告已书面催告被告在合理期限内缴纳"),
    )
    return DocumentData(values=values, charges=charges, evidence=evidence, issued_on=as_of, author=company.name,
                        subject="示例", principal=principal, late_fee=late_fee)
