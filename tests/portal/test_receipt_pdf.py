"""Receipt PDFs: rendered for real with the machine's CJK font, read back with pypdf or poppler."""

import io
import shutil
import subprocess
from datetime import date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from arrears.core.errors import DomainError
from arrears.notices.pdf import sha256
from arrears.portal import cashier, receipt_pdf, receipts
from arrears.portal.models import Receipt
from arrears.portal.receipt_pdf import render_receipt
from tests.notices.test_pdf import text_of
from tests.staff import conftest as staff

today, estate, finance = staff.today, staff.estate, staff.finance

ISSUED = datetime(2026, 5, 10, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def content(**changes) -> dict:
    values = {
        "company": "示范物业服务有限公司", "company_phone": "0571-88881234", "community": "阳光花园", "unit": "3栋1单元1201",
        "owner": "王小明", "amount": "1234.50", "paid_on": "2026-05-10", "method": "银行转账", "channel": "前台收银",
        "reference": "ICBC-20260510-0042",
        "lines": [
            {"charge_type": "物业费", "period": "2026-02-01–2026-02-28", "component": "违约金", "amount": "9.40"},
            {"charge_type": "物业费", "period": "2026-02-01–2026-02-28", "component": "本金", "amount": "200.00"},
            {"charge_type": "车位管理费", "period": "2026-01-01–2026-03-31", "component": "本金", "amount": "900.00"},
        ],
        "credit": "125.10", "operator": "收银员李娜",
    }
    values.update(changes)
    return values


def test_it_prints_the_number_payer_lines_and_the_amount_in_figures_and_capitals():
    data = render_receipt(number="SJ2026-000042", issued_at=ISSUED, content=content(), voided=False)

    assert data.startswith(b"%PDF-")
    text = text_of(data)
    for expected in ("收款收据", "示范物业服务有限公司", "SJ2026-000042", "2026年5月10日", "王小明", "阳光花园3栋1单元1201",
                     "车位管理费", "2026-01-01–2026-03-31", "违约金", "9.40", "900.00", "1,234.50",
                     "壹仟贰佰叁拾肆元伍角整", "银行转账（前台收银）", "ICBC-20260510-0042", "125.10", "收银员李娜",
                     "0571-88881234"):
        assert expected in text, expected
    assert "作废" not in text
    page = PdfReader(io.BytesIO(data)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 420)  # A5 landscape


def test_a_voided_receipt_says_so():
    data = render_receipt(number="SJ2026-000042", issued_at=ISSUED, content=content(), voided=True)

    text = text_of(data)
    assert "作废" in text and "VOID" in text and "SJ2026-000042" in text


def test_it_embeds_a_subset_cid_font():
    if not shutil.which("pdffonts"):
        pytest.skip("pdffonts (poppler-utils) is not installed")
    data = render_receipt(number="SJ2026-000042", issued_at=ISSUED, content=content(), voided=True)

    rows = subprocess.run(["pdffonts", "-"], input=data, capture_output=True, check=True).stdout.decode().splitlines()[2:]

    assert rows
    for row in rows:
        assert "CID" in row and " yes yes yes " in row, row


def test_the_font_is_a_small_embedded_subset():
    """Without poppler: the font file is in the PDF and is a subset, not the 20 MB collection."""
    reader = PdfReader(io.BytesIO(render_receipt(number="SJ2026-000042", issued_at=ISSUED, content=content(), voided=False)))

    fonts = [font.get_object() for font in reader.pages[0]["/Resources"]["/Font"].values()]
    descendants = [font["/DescendantFonts"][0].get_object() for font in fonts]
    files = [d["/FontDescriptor"]["/FontFile2"].get_object() for d in descendants]
    assert files and all(len(f.get_data()) < 200_000 for f in files)
    assert all(d["/BaseFont"][7] == "+" for d in descendants)  # ABCDEF+Name: a subset


def test_the_same_receipt_renders_to_the_same_bytes():
    first = render_receipt(number="SJ2026-000042", issued_at=ISSUED, content=content(), voided=False)
    second = render_receipt(number="SJ2026-000042", issued_at=ISSUED, content=content(), voided=False)

    assert first == second
    assert render_receipt(number="SJ2026-000043", issued_at=ISSUED, content=content(), voided=False) != first


def test_it_refuses_a_receipt_whose_lines_do_not_make_its_amount():
    with pytest.raises(DomainError) as refused:
        render_receipt(number="SJ2026-000042", issued_at=ISSUED, content=content(credit="125.00"), voided=False)

    assert refused.value.code == "receipt_total"


def test_a_long_receipt_runs_over_pages_with_its_number_on_each():
    lines = [{"charge_type": "物业费", "period": f"2024-{month:02d}", "component": "本金", "amount": "10.00"}
             for month in range(1, 13)] * 4

    data = render_receipt(number="SJ2026-000042", issued_at=ISSUED, content=content(lines=lines, amount="480.00", credit="0.00"),
                          voided=True)

    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    for page in reader.pages:
        assert "SJ2026-000042" in page.extract_text()
    assert "肆佰捌拾元整" in text_of(data)


def test_the_stored_receipt_pdf_is_rendered_once_and_kept_with_its_hash(estate, finance, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    payment = cashier.take_payment(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=D("300.00"),
                                   method="cash", paid_on=staff.TODAY, reference="", operator=finance)
    receipt = Receipt.objects.get(payment=payment)

    data = receipts.receipt_pdf(receipt)

    receipt.refresh_from_db()
    assert receipt.pdf and receipt.pdf_sha256 == sha256(data)
    assert receipts.receipt_pdf(receipt) == data
    receipts.void_receipt(payment, at=ISSUED)
    receipt.refresh_from_db()
    voided = receipts.receipt_pdf(receipt)
    assert "作废" in text_of(voided) and not receipt.pdf


def monthly(count: int, *, principal="200.00", late_fee="9.40") -> list[dict]:
    """One line per charge, as receipts are issued now: `count` months of 2025."""
    amount = str(D(principal) + D(late_fee))
    return [{"charge_type": "物业费", "period": f"2025-{month:02d}-01–2025-{month:02d}-28", "principal": principal,
             "late_fee": late_fee, "amount": amount, "designated": month == 1} for month in range(1, count + 1)]


def test_an_ordinary_payment_fits_one_a5_page_with_one_line_per_charge():
    # given ten months paid with their late fees, a designation, a reference and credit left over:
    # 10 × (200.00 + 9.40) = 2,094.00, plus 125.10 credit = 2,219.10
    data = render_receipt(number="SJ2026-000042", issued_at=ISSUED,
                          content=content(lines=monthly(10), amount="2219.10", credit="125.10"), voided=False)

    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = text_of(data)
    assert text.count("209.40") == 10 and "2,000.00" in text and "94.00" in text and "2,219.10" in text
    assert "第 1 页" not in text  # a one-page receipt carries no page number


def test_old_receipts_frozen_a_line_per_component_print_one_line_per_charge():
    # content() is the old form: February's 违约金 9.40 and 本金 200.00 on two lines
    merged = receipt_pdf.per_charge(content()["lines"])

    assert [(line["period"][:7], line["principal"], line["late_fee"], line["amount"]) for line in merged] == [
        ("2026-02", "200.00", "9.40", "209.40"), ("2026-01", "900.00", "0.00", "900.00")]


def test_a_line_whose_principal_and_late_fee_do_not_make_its_amount_is_refused():
    lines = monthly(1)
    lines[0]["late_fee"] = "9.41"

    with pytest.raises(DomainError) as refused:
        render_receipt(number="SJ2026-000042", issued_at=ISSUED, content=content(lines=lines, amount="209.40", credit="0"),
                       voided=False)

    assert refused.value.code == "receipt_total"


def test_a_long_payment_numbers_its_pages_and_repeats_the_heading():
    # 40 charges of 209.40 = 8,376.00
    lines = [{**line, "charge_type": "车位管理费" if index % 2 else "物业费"}  # no two in a row are one fee's run
             for index, line in enumerate(monthly(12) * 3 + monthly(4))]
    data = render_receipt(number="SJ2026-000042", issued_at=ISSUED,
                          content=content(lines=lines, amount="8376.00", credit="0.00"), voided=False)

    pages = PdfReader(io.BytesIO(data)).pages
    assert len(pages) == 3
    for number, page in enumerate(pages, start=1):
        text = page.extract_text()
        assert f"第 {number} 页，共 3 页" in text and "SJ2026-000042" in text
    continued = pages[1].extract_text()
    assert "（续）" in continued and "收费项目" in continued  # the table's heading again
    assert "捌仟叁佰柒拾陆元整" in text_of(data)


def test_the_receipt_of_a_payment_over_many_late_fees_has_a_line_per_charge_that_adds_up_to_the_payment(estate, finance):
    # given 王小明's four open months (January's late fee only): 1.50 + 209.40 + 206.60 + 203.50 = 621.00
    payment = cashier.take_payment(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=D("621.00"),
                                   method="cash", paid_on=staff.TODAY, reference="", operator=finance)
    receipt = Receipt.objects.get(payment=payment)

    lines = receipt.content["lines"]
    assert len(lines) == 4
    assert sum((D(line["amount"]) for line in lines), D("0")) + D(receipt.content["credit"]) == payment.amount
    assert all(D(line["principal"]) + D(line["late_fee"]) == D(line["amount"]) for line in lines)
    assert len(PdfReader(io.BytesIO(receipts.receipt_pdf(receipt))).pages) == 1


def test_a_payment_over_more_charges_than_a_page_holds_prints_each_fees_year_as_one_row():
    # given 26 months of parking (2024-09 … 2026-10, ¥200.00 + ¥10.00 late fee each) and 9 quarters of property fee
    # (¥1,000.00 + ¥50.00 each): 26 × 210.00 + 9 × 1,050.00 = 5,460.00 + 9,450.00 = 14,910.00
    def month(year, number):
        start = date(year, number, 1)
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return f"{start:%Y-%m-%d}–{end:%Y-%m-%d}"

    parking = [{"charge_type": "车位管理费", "period": month(2024 + (8 + i) // 12, (8 + i) % 12 + 1), "principal": "200.00",
                "late_fee": "10.00", "amount": "210.00"} for i in range(26)]
    quarters = [(2024, 10), (2025, 1), (2025, 4), (2025, 7), (2025, 10), (2026, 1), (2026, 4), (2026, 7), (2026, 10)]
    property_fee = [{"charge_type": "物业费", "period": f"{month(y, m)[:10]}–{month(y, m + 2)[11:]}", "principal": "1000.00",
                     "late_fee": "50.00", "amount": "1050.00"} for y, m in quarters]
    lines = sorted(parking + property_fee, key=lambda line: line["period"])

    data = render_receipt(number="SJ2026-000042", issued_at=ISSUED,
                          content=content(lines=lines, amount="14910.00", credit="0.00"), voided=False)

    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    rows = receipt_pdf.runs(lines)
    assert [(row["charge_type"], row["period"], row["amount"]) for row in rows] == [
        ("车位管理费（4 期）", "2024-09-01–2024-12-31", "840.00"),
        ("物业费", "2024-10-01–2024-12-31", "1050.00"),
        ("车位管理费（12 期）", "2025-01-01–2025-12-31", "2520.00"),
        ("物业费（4 期）", "2025-01-01–2025-12-31", "4200.00"),
        ("车位管理费（10 期）", "2026-01-01–2026-10-31", "2100.00"),
        ("物业费（4 期）", "2026-01-01–2026-12-31", "4200.00"),
    ]
    assert sum((D(row["amount"]) for row in rows), D("0")) == D("14910.00")
    assert all(D(row["principal"]) + D(row["late_fee"]) == D(row["amount"]) for row in rows)
    text = text_of(data)
    assert "14,910.00" in text and "壹万肆仟玖佰壹拾元整" in text
