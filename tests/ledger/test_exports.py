"""The xlsx exports, read back with openpyxl and checked against the JSON and the database."""

import json
from datetime import date, datetime
from decimal import Decimal as D
from io import BytesIO, StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from arrears.ledger import exports, selectors, services
from arrears.ledger.models import Allocation, Charge, Payment, PaymentReversal, Waiver, WaiverStatus
from tests import factories
from tests.spreadsheets import INJECTIONS, as_read, formulas

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


MONEY_HEADERS = {"欠费本金", "违约金", "合计", "预存款", "金额", "已缴", "减免", "未缴本金"}


def cell(value, money: bool):
    """A cell as the JSON writes it: money with two decimals (openpyxl reads 0 back as int), dates ISO, blanks ''."""
    if value is None:
        return ""
    if money and isinstance(value, int | float):
        return f"{D(str(value)):.2f}"
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value


def rows_of(sheet) -> list[list]:
    header = [c.value for c in sheet[1]]
    money = [name in MONEY_HEADERS for name in header]
    return [[cell(v, m) for v, m in zip(row, money, strict=True)] for row in sheet.iter_rows(min_row=2, values_only=True)]


@pytest.fixture
def history():
    """Two units billed Jan–Mar 2026; 101 paid part, had a waiver approved and a payment reversed."""
    community = factories.community()
    first, second = factories.unit(community), factories.unit(community, building="2栋", entrance="", room="301", area="66.67")
    owner_first, owner_second = factories.owner(first), factories.owner(second, "王五")
    factories.tariff(community)
    clerk, manager = factories.user("clerk"), factories.user("manager")
    services.bill(through=date(2026, 3, 1))
    services.record_payment(unit_id=first.pk, owner_id=owner_first.pk, amount="250.00", paid_on=date(2026, 1, 20),
                            method="wechat", receipt_number="R-1")
    wrong = services.record_payment(unit_id=second.pk, owner_id=owner_second.pk, amount="133.34", paid_on=date(2026, 2, 1),
                                    method="pos", receipt_number="R-2")
    services.reverse_payment(payment_id=wrong.pk, reversed_on=date(2026, 2, 10), reason="POS 退单",
                             requested_by=clerk, approved_by=manager)
    february = Charge.objects.get(unit=first, period_start=date(2026, 2, 1))
    waiver = services.request_waiver(charge_id=february.pk, component="principal", amount="30.00", reason="整改补偿",
                                     requested_by=clerk, requested_on=date(2026, 2, 15))
    services.approve_waiver(waiver_id=waiver.pk, approved_by=manager, decided_on=date(2026, 2, 16))
    return community, first, second


def test_it_writes_the_statement_with_the_same_content_as_the_json(history, tmp_path):
    # given
    path = tmp_path / "statement.xlsx"
    out = StringIO()
    call_command("report", "statement", "--date", "2026-04-10", "--format", "json", stdout=out)
    expected = json.loads(out.getvalue())
    # when
    call_command("report", "statement", "--date", "2026-04-10", "--format", "xlsx", "--output", str(path), stdout=StringIO())
    # then
    workbook = load_workbook(path)
    units, charges = workbook["欠费汇总"], workbook["应收明细"]
    keys = ["community", "building", "unit", "room", "owner", "principal", "late_fee", "total", "prepaid", "oldest_due", "days_overdue"]
    charge_keys = ["type", "period_start", "period_end", "due", "amount", "paid", "waived", "outstanding", "late_fee", "days_overdue"]
    assert rows_of(units)[:-1] == [[s[k] for k in keys] for s in expected]
    assert rows_of(charges)[:-1] == [[*(s[k] for k in keys[:5]), *(c[k] for k in charge_keys)] for s in expected for c in s["charges"]]
    # 101: the 250 of 1-20 pays Jan 200 and its late fee 1.50 (15 days), then Feb 48.50 when Feb starts;
    # Feb 200 − 48.50 − 30 waived = 121.50 + Mar 200; late (200×64 − 48.5×64 − 30×53) × .0005 = 4.05, Mar 3.60.
    # 301: its payment reversed; Jan 133.34 × (95 − 68 + 59) × .0005 = 5.73, Feb 4.27, Mar 2.40.
    assert rows_of(units)[-1][:9] == ["合计", "", "", "", "", "721.52", "20.05", "741.57", "0.00"]
    assert units["F2"].number_format == "#,##0.00"
    assert workbook["说明"]["B2"].value == datetime(2026, 4, 10)


def test_it_writes_a_ledger_whose_sheet_totals_equal_the_database(history, tmp_path):
    # given
    path = tmp_path / "ledger.xlsx"
    # when
    call_command("export", "ledger", str(path), stdout=StringIO())
    # then
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["应收", "缴费", "冲抵", "减免", "冲正", "说明"]
    database = {
        "应收": Charge.objects.aggregate(t=Sum("amount"))["t"],
        "缴费": Payment.objects.aggregate(t=Sum("amount"))["t"],
        "冲抵": Allocation.objects.aggregate(t=Sum("amount"))["t"],
        "减免": Waiver.objects.filter(status=WaiverStatus.APPROVED).aggregate(t=Sum("amount"))["t"],
        "冲正": PaymentReversal.objects.aggregate(t=Sum("payment__amount"))["t"],
    }
    money_column = {"应收": 10, "缴费": 7, "冲抵": 12, "减免": 10, "冲正": 10}
    for name, column in money_column.items():
        rows = rows_of(workbook[name])
        listed = sum((D(row[column]) for row in rows[:-1]), D("0"))
        assert (rows[-1][0], D(rows[-1][column])) == ("合计", listed), name
        assert listed == database[name], name
    assert database == {"应收": D("1000.02"), "缴费": D("383.34"), "冲抵": D("250.00"), "减免": D("30.00"), "冲正": D("133.34")}
    allocations = rows_of(workbook["冲抵"])[:-1]
    assert [(row[2], row[11], row[12], row[14]) for row in allocations] == [
        ("R-1", "本金", "200.00", ""), ("R-1", "违约金", "1.50", ""), ("R-1", "本金", "48.50", ""),
        ("R-2", "本金", "133.34", ""), ("R-2", "本金", "-133.34", "是"),
    ]


def test_it_filters_the_ledger_by_community_and_dates(history, tmp_path):
    # given: another community with its own bill
    community, first, _second = history
    other = factories.community("明月小区", company_obj=community.company)
    factories.owner(factories.unit(other), "赵六")
    factories.tariff(other)
    services.bill(through=date(2026, 3, 1))
    path = tmp_path / "ledger.xlsx"
    # when
    call_command("export", "ledger", str(path), "--community", "阳光花园", "--from", "2026-02-01", "--to", "2026-02-28",
                 stdout=StringIO())
    # then
    workbook = load_workbook(path)
    assert [row[1:7] + row[10:] for row in rows_of(workbook["应收"])] == [
        ["阳光花园", "1栋", "1", "101", "张三", "物业费", "200.00", "系统计费"],
        ["阳光花园", "2栋", "", "301", "王五", "物业费", "133.34", "系统计费"],
        ["", "", "", "", "", "", "333.34", ""],  # the totals row (its label sits in column A)
    ]
    assert [row[6:9] for row in rows_of(workbook["缴费"])] == [["2026-02-01", "133.34", "POS"], ["", "133.34", ""]]
    assert [row[9] for row in rows_of(workbook["冲正"])] == ["2026-02-10", ""]
    assert [row[10] for row in rows_of(workbook["减免"])] == ["30.00", "30.00"]


def test_it_exports_with_as_many_queries_for_many_rows_as_for_few():
    # given
    community = factories.community()
    factories.tariff(community)
    owners = [factories.owner(factories.unit(community, room=str(100 + i)), f"业主{i}") for i in range(2)]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            exports.write_ledger_xlsx(BytesIO())
            exports.write_statement_xlsx(selectors.statement(date(2026, 6, 1)), date(2026, 6, 1), BytesIO())
        return len(captured)

    services.bill(through=date(2026, 1, 1))
    services.record_payment(unit_id=owners[0].ownerships.get().unit_id, owner_id=owners[0].pk, amount="1.00",
                            paid_on=date(2026, 1, 9), method="cash")
    few = queries()
    # when
    services.bill(through=date(2026, 5, 1))
    for month in range(2, 6):
        services.record_payment(unit_id=owners[1].ownerships.get().unit_id, owner_id=owners[1].pk, amount="1.00",
                                paid_on=date(2026, month, 9), method="cash")
    many = queries()
    # then
    assert Charge.objects.count() == 10
    assert many == few


@pytest.fixture
def injected():
    """Imported text that a spreadsheet would run: in the community, building, room, owner, reference and reasons."""
    community = factories.community(INJECTIONS[0])
    unit = factories.unit(community, building="@SUM(A1)", room="-1+2")
    owner = factories.owner(unit, "+1")
    factories.tariff(community)
    clerk, manager = factories.user("clerk"), factories.user("manager")
    services.bill(through=date(2026, 2, 1))
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="50.00", paid_on=date(2026, 1, 20),
                            method="wechat", reference="=1+1", receipt_number="-R1")
    wrong = services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="10.00", paid_on=date(2026, 1, 21),
                                    method="pos", receipt_number="@R2")
    services.reverse_payment(payment_id=wrong.pk, reversed_on=date(2026, 1, 22), reason="\r=1",
                             requested_by=clerk, approved_by=manager)
    charge = Charge.objects.filter(unit=unit).earliest("period_start")
    waiver = services.request_waiver(charge_id=charge.pk, component="principal", amount="5.00", reason="\t=1",
                                     requested_by=clerk, requested_on=date(2026, 1, 25))
    services.approve_waiver(waiver_id=waiver.pk, approved_by=manager, decided_on=date(2026, 1, 26))
    return community


def text_cells(data: bytes) -> dict[str, str]:
    """Every string cell of the workbook by its value, with its data type."""
    workbook = load_workbook(BytesIO(data))
    return {c.value: c.data_type for sheet in workbook for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}


def test_it_writes_imported_formulas_in_the_ledger_as_text(injected):
    # given
    buffer = BytesIO()
    # when
    exports.write_ledger_xlsx(buffer)
    # then
    data = buffer.getvalue()
    assert formulas(data) == []
    cells = text_cells(data)
    typed = [injected.name, "@SUM(A1)", "-1+2", "+1", "=1+1", "-R1", "@R2", as_read("\r=1"), "\t=1"]
    assert {text: cells.get(text) for text in typed} == {text: "s" for text in typed}


def test_it_writes_imported_formulas_in_the_statement_as_text(injected, tmp_path):
    # given
    path = tmp_path / "statement.xlsx"
    # when
    call_command("report", "statement", "--date", "2026-04-10", "--format", "xlsx", "--output", str(path), stdout=StringIO())
    # then
    data = path.read_bytes()
    assert formulas(data) == []
    cells = text_cells(data)
    typed = [injected.name, "@SUM(A1)", "-1+2", "+1"]
    assert {text: cells.get(text) for text in typed} == {text: "s" for text in typed}
    assert load_workbook(path)["欠费汇总"]["F2"].number_format == "#,##0.00"
