"""The Excel import: the template, the all-or-nothing check, matching on re-import, the money rules."""

import calendar
import json
from datetime import date
from decimal import Decimal as D
from io import BytesIO, StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook, load_workbook

from arrears.estate.models import AllocationRule, Company, Contact, Owner, Ownership, Unit
from arrears.ledger import importers, selectors, services
from arrears.ledger.importers import RowError, run_import
from arrears.ledger.models import Allocation, Charge, ChargeOrigin, Payment, Tariff
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


def xlsx(sheets: dict[str, list[list]]) -> BytesIO:
    """A workbook with the template's headers and the given rows."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        sheet.append(importers.SHEETS[name])
        for row in rows:
            sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def template() -> BytesIO:
    buffer = BytesIO()
    importers.write_template(buffer)
    buffer.seek(0)
    return buffer


def snapshot() -> dict:
    """Everything an import may write, to prove a refused or dry-run import wrote nothing."""
    return {
        "companies": list(Company.objects.values_list("name", flat=True)),
        "units": list(Unit.objects.order_by("pk").values_list("pk", "floor_area", "status")),
        "owners": Owner.objects.count(),
        "ownerships": list(Ownership.objects.order_by("pk").values_list("pk", "end")),
        "contacts": Contact.objects.count(),
        "tariffs": Tariff.objects.count(),
        "charges": Charge.objects.count(),
        "payments": list(Payment.objects.order_by("pk").values_list("pk", "unallocated")),
        "allocations": Allocation.objects.count(),
    }


HOUSE = ["阳光花园", "1栋", "1", "101", 100, "自住"]
OWNER = ["阳光花园", "1栋", "1", "101", "张三", "13800138000", "", "2020-01-01"]
TARIFF = ["阳光花园", "物业费", "按面积", 2, 1, 5, 0.0005, 0, 1, "2026-01-01", None]


def charge_row(month: int, amount=200, unit=("阳光花园", "1栋", "1", "101")):
    return [*unit, "物业费", date(2026, month, 1), _month_end(month), amount, date(2026, month, 5)]


def _month_end(month: int) -> date:
    return date(2026, month, calendar.monthrange(2026, month)[1])


# ----------------------------------------------------------------------------- template


def test_it_writes_the_template_with_the_documented_sheets_and_headers(tmp_path):
    # given
    path = tmp_path / "template.xlsx"
    # when
    call_command("template", str(path), stdout=StringIO())
    # then
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["说明", "房屋", "业主", "收费标准", "应收", "缴费"]
    headers = {name: [c.value for c in workbook[name][1]] for name in workbook.sheetnames[1:]}
    assert headers == {
        "房屋": ["小区", "楼栋", "单元", "房号", "建筑面积", "状态"],
        "业主": ["小区", "楼栋", "单元", "房号", "业主姓名", "手机", "证件号", "起始日期"],
        "收费标准": ["小区", "收费项目", "计费方式", "单价", "计费周期(月)", "缴费日", "违约金日率", "宽限天数",
                 "违约金上限比例", "生效日期", "失效日期"],
        "应收": ["小区", "楼栋", "单元", "房号", "收费项目", "账期起", "账期止", "金额", "到期日"],
        "缴费": ["小区", "楼栋", "单元", "房号", "缴费日期", "金额", "方式", "票据号"],
    }
    assert workbook["房屋"]["A1"].font.bold is True
    assert workbook["房屋"].column_dimensions["A"].width >= 10
    assert workbook["房屋"].max_row == 4


def test_it_imports_the_template_examples_cleanly():
    # when
    report = run_import(template(), dry_run=False)
    # then
    assert report.ok, report.errors
    assert report.counts == {
        "物业公司": 1, "小区": 1, "楼栋": 2, "房屋": 3, "房屋（更新）": 0, "业主": 3, "产权": 3, "联系方式": 2,
        "收费标准": 2, "应收": 3, "缴费": 2, "已存在（跳过）": 0, "冲抵": 2,
    }
    assert Company.objects.get().name == "物业公司"
    assert set(Unit.objects.values_list("entrance", "room")) == {("1", "101"), ("1", "102"), ("", "301")}
    assert set(Charge.objects.values_list("origin", flat=True)) == {ChargeOrigin.IMPORTED}


def test_it_changes_nothing_when_the_same_file_is_imported_twice():
    # given
    run_import(template(), dry_run=False)
    before = snapshot()
    # when
    report = run_import(template(), dry_run=False)
    # then
    assert report.ok
    assert report.counts == {
        "小区": 0, "楼栋": 0, "房屋": 0, "房屋（更新）": 0, "业主": 0, "产权": 0, "联系方式": 0, "收费标准": 0,
        "应收": 0, "缴费": 0, "已存在（跳过）": 13, "冲抵": 0,
    }
    assert snapshot() == before


def test_it_reports_the_hand_computed_statement_after_importing_the_template():
    # given
    run_import(template(), dry_run=False)
    out = StringIO()
    # when
    call_command("report", "statement", "--date", "2026-11-23", "--format", "json", stdout=out)
    # then: tariff 万分之五 a day after 15 grace days, so from the 20th.
    rows = {(r["building"], r["unit"], r["room"]): r for r in json.loads(out.getvalue())}
    assert set(rows) == {("1栋", "1", "101"), ("2栋", "", "301")}
    # 101: Sept paid in full on 9-20 (the first late day adds nothing); Oct 223.75 × 34 days × .0005 = 3.80375
    r101 = rows[("1栋", "1", "101")]
    assert (r101["principal"], r101["late_fee"], r101["total"], r101["oldest_due"], r101["days_overdue"]) == (
        "223.75", "3.80", "227.55", "2026-10-05", 49,
    )
    # 301: 75.25 m² × 2.50 = 188.125 → 188.13; (188.13 × 64 − 100 × 46) × .0005 = 3.72016
    r301 = rows[("2栋", "", "301")]
    assert (r301["principal"], r301["late_fee"], r301["owner"], r301["days_overdue"]) == ("88.13", "3.72", "王芳", 79)
    assert r301["charges"][0]["paid"] == "100.00"


# ----------------------------------------------------------------------------- bad rows


BAD_ROWS = [
    ("unknown unit", {"应收": [charge_row(1, unit=("阳光花园", "9栋", "1", "101"))]}, ("应收", 2, "房号"), "房屋“阳光花园 9栋1单元101”不存在"),
    ("unknown community", {"缴费": [["明月小区", "1栋", "1", "101", "2026-01-05", 10, "现金", "R1"]]}, ("缴费", 2, "小区"), "unknown community"),
    ("negative amount", {"应收": [charge_row(1, amount=-5)]}, ("应收", 2, "金额"), "金额必须大于零"),
    ("non-numeric amount", {"应收": [charge_row(1, amount="二百")]}, ("应收", 2, "金额"), "不是数字"),
    ("three decimals", {"缴费": [["阳光花园", "1栋", "1", "101", "2026-01-05", 100.123, "现金", "R1"]]}, ("缴费", 2, "金额"), "最多2位小数"),
    ("area zero", {"房屋": [["阳光花园", "1栋", "1", "102", 0, "自住"]]}, ("房屋", 2, "建筑面积"), "建筑面积必须大于零"),
    ("impossible date", {"业主": [[*OWNER[:7], "2026-02-30"]]}, ("业主", 2, "起始日期"), "日期不存在"),
    ("future payment", {"缴费": [["阳光花园", "1栋", "1", "101", "2026-11-24", 10, "现金", "R1"]]}, ("缴费", 2, "缴费日期"), "payment date is in the future"),
    ("missing cell", {"应收": [[*charge_row(1)[:7], None, date(2026, 1, 5)]]}, ("应收", 2, "金额"), "必填"),
    ("unknown charge type", {"应收": [[*charge_row(1)[:4], "停车费", *charge_row(1)[5:]]]}, ("应收", 2, "收费项目"), "unknown charge type"),
    ("unknown method", {"缴费": [["阳光花园", "1栋", "1", "101", "2026-01-05", 10, "刷脸", "R1"]]}, ("缴费", 2, "方式"), "unknown payment method"),
    ("unknown status", {"房屋": [["阳光花园", "1栋", "1", "102", 90, "闲置"]]}, ("房屋", 2, "状态"), "unknown status"),
    ("unknown basis", {"收费标准": [[*TARIFF[:2], "按户", *TARIFF[3:]]]}, ("收费标准", 2, "计费方式"), "unknown basis"),
    ("receipt in database", {"缴费": [["阳光花园", "1栋", "1", "101", "2026-02-01", 50, "现金", "DB-1"]]}, ("缴费", 2, "票据号"), "is already used by another payment"),
    ("overlapping database tariff", {"收费标准": [[*TARIFF[:9], "2026-06-01", None]]}, ("收费标准", 2, "生效日期"), "overlaps an existing tariff"),
    ("a text date in a wrong shape", {"缴费": [["阳光花园", "1栋", "1", "101", "5.1.2026", 10, "现金", "R1"]]}, ("缴费", 2, "缴费日期"), "date must look like"),
]


@pytest.fixture
def estate():
    """阳光花园 1栋1单元101 owned by 张三, a tariff from 2026-01-01 and one payment with receipt DB-1."""
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    factories.tariff(community)
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="10.00", paid_on=date(2026, 1, 2), method="cash",
                            receipt_number="DB-1")
    return community, unit, owner


@pytest.mark.parametrize(("sheets", "where", "reason"), [case[1:] for case in BAD_ROWS], ids=[case[0] for case in BAD_ROWS])
def test_it_refuses_a_bad_row_and_says_where_and_why(estate, sheets, where, reason):
    # given
    before = snapshot()
    # when
    report = run_import(xlsx(sheets), dry_run=False)
    # then
    assert not report.ok
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [where]
    with translation.override("en"):  # the reason is kept as a msgid: it reads in either language
        english = report.errors[0].text
    assert reason in report.errors[0].text or reason in english
    assert snapshot() == before


def test_it_lists_every_bad_row_of_a_file_and_writes_nothing(estate):
    # given: good rows mixed with bad ones in every sheet
    before = snapshot()
    sheets = {
        "房屋": [["阳光花园", "1栋", "1", "102", 90, "出租"], ["阳光花园", "1栋", "1", "103", -1, "自住"]],
        "业主": [["阳光花园", "1栋", "1", "102", "李四", "13900139000", "", "2024-03-01"], ["阳光花园", "1栋", "1", "102", None, "", "", "2024-03-01"]],
        "收费标准": [
            ["阳光花园", "公摊水电费", "固定", 20, 3, 10, 0.0003, 0, 0.2, "2026-01-01", "2026-12-31"],
            ["阳光花园", "公摊水电费", "固定", 25, 3, 10, 0.0003, 0, 0.2, "2026-07-01", None],
        ],
        "应收": [charge_row(1), charge_row(2, amount=200.5), charge_row(2)],
        "缴费": [
            ["阳光花园", "1栋", "1", "102", "2026-03-01", 90, "微信", "R-9"],
            ["阳光花园", "1栋", "1", "101", "2026-03-02", 90, "微信", "R-9"],
            ["阳光花园", "1栋", "1", "101", "2026/3/5", 50, "支付宝", ""],
        ],
    }
    # when
    report = run_import(xlsx(sheets), dry_run=False)
    # then
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [
        ("房屋", 3, "建筑面积"),
        ("业主", 3, "业主姓名"),
        ("收费标准", 3, "生效日期"),
        ("应收", 4, "账期起"),
        ("缴费", 3, "票据号"),
    ]
    assert report.errors[2].text == "与本文件第2行的收费标准日期重叠"
    assert report.errors[3].text == "与本文件第3行的账期重叠"
    assert report.errors[4].text == "票据号在文件中重复（第2行）"
    assert str(report.errors[0]) == "房屋 第3行 建筑面积: 建筑面积必须大于零"
    assert snapshot() == before


def test_it_reports_a_missing_column_and_an_unreadable_file():
    # given
    workbook = Workbook()
    workbook.active.title = "房屋"
    workbook.active.append(["小区", "楼栋", "房号", "状态"])
    buffer = BytesIO()
    workbook.save(buffer)
    # when
    missing = run_import(buffer, dry_run=True)
    unreadable = run_import(BytesIO(b"not a workbook"), dry_run=True)
    # then
    assert missing.errors == [RowError("房屋", 1, "建筑面积", "缺少此列")]
    assert [(e.sheet, e.row) for e in unreadable.errors] == [("", 0)]
    assert unreadable.errors[0].text.startswith("文件不是可读取的 Excel 工作簿")


def test_it_exits_non_zero_from_the_command_and_prints_each_error(tmp_path, estate, capsys):
    # given
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx({"应收": [charge_row(1, amount=-1), charge_row(2, amount="x")]}).getvalue())
    err = StringIO()
    # when
    with pytest.raises(CommandError, match="2 处错误"):
        call_command("import", str(path), stderr=err, stdout=StringIO())
    # then
    assert err.getvalue().splitlines() == [
        "应收 第2行 金额: 金额必须大于零",
        "应收 第3行 金额: 不是数字",
    ]
    assert Charge.objects.count() == 0


# ----------------------------------------------------------------------------- writing


def test_it_writes_nothing_on_a_dry_run():
    # given
    before = snapshot()
    # when
    report = run_import(template(), dry_run=True)
    # then
    assert report.ok and report.dry_run
    assert (report.counts["房屋"], report.counts["应收"], report.counts["缴费"]) == (3, 3, 2)
    assert snapshot() == before


def test_it_matches_a_blank_entrance_in_later_sheets_and_in_the_database():
    # given: a building without 单元, first imported, then named again in a second file
    run_import(xlsx({"房屋": [["阳光花园", "5栋", None, "8", 50, "自住"]], "业主": [["阳光花园", "5栋", "", "8", "赵六", None, None, "2025-01-01"]]}), dry_run=False)
    # when
    report = run_import(xlsx({
        "房屋": [["阳光花园", "5栋", "  ", "8", 50, "空置"]],
        "应收": [charge_row(1, amount=100, unit=("阳光花园", "5栋", None, "8"))],
    }), dry_run=False)
    # then
    assert report.ok, report.errors
    assert (report.counts["房屋"], report.counts["房屋（更新）"], report.counts["应收"]) == (0, 1, 1)
    unit = Unit.objects.get()
    assert (unit.entrance, unit.room, unit.status) == ("", "8", "vacant")
    assert Charge.objects.get().owner.name == "赵六"


def test_it_takes_late_fee_terms_from_the_tariff_in_force_on_the_due_date():
    # given: the rate changes on 2026-03-01
    sheets = {
        "房屋": [HOUSE], "业主": [OWNER],
        "收费标准": [
            ["阳光花园", "物业费", "按面积", 2, 1, 5, 0.0005, 3, 0.5, "2026-01-01", "2026-02-28"],
            ["阳光花园", "物业费", "按面积", 2.2, 1, 5, 0.0003, 0, 0.2, "2026-03-01", None],
        ],
        "应收": [charge_row(2), charge_row(3, amount=220)],
    }
    # when
    report = run_import(xlsx(sheets), dry_run=False)
    # then
    assert report.ok, report.errors
    terms = list(Charge.objects.order_by("due_date").values_list("late_fee_daily_rate", "grace_days", "late_fee_cap"))
    assert terms == [(D("0.000500"), 3, D("0.5000")), (D("0.000300"), 0, D("0.2000"))]


def test_it_ends_the_previous_ownership_when_a_new_owner_starts(estate):
    # given: 张三 owns 101 since 2020-01-01 (open)
    community, unit, first = estate
    # when
    report = run_import(xlsx({
        "业主": [["阳光花园", "1栋", "1", "101", "李四", "13900139000", "110101199001011234", "2026-03-16"]],
        "应收": [charge_row(3, amount=100)],
        "缴费": [["阳光花园", "1栋", "1", "101", "2026-03-20", 100, "银行转账", ""]],
    }), dry_run=False)
    # then: the March charge (from 3-01) is 张三's, the payment of 3-20 is 李四's
    assert report.ok, report.errors
    assert list(Ownership.objects.order_by("start").values_list("owner__name", "end")) == [
        ("张三", date(2026, 3, 15)), ("李四", None),
    ]
    assert Charge.objects.get(origin=ChargeOrigin.IMPORTED).owner == first
    assert Payment.objects.get(receipt_number="").owner.name == "李四"
    assert Contact.objects.get(owner__name="李四").value == "13900139000"


def test_it_refuses_a_charge_for_a_period_the_system_already_billed(estate):
    # given
    services.bill(through=date(2026, 1, 1))
    before = snapshot()
    # when
    report = run_import(xlsx({"应收": [charge_row(1)]}), dry_run=False)
    # then
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("应收", 2, "账期起")]
    assert "与系统中已有应收的账期重叠" in report.errors[0].text
    assert snapshot() == before


def test_it_uses_the_named_company_and_refuses_to_guess_among_several():
    # given
    factories.company("甲物业")
    factories.company("乙物业")
    # when
    guessed = run_import(template(), dry_run=True)
    named = run_import(template(), dry_run=False, company_name="乙物业")
    # then
    assert [e.text for e in guessed.errors] == ["系统中有多家物业公司，请指定公司"]
    assert named.ok
    assert set(Unit.objects.values_list("community__company__name", flat=True)) == {"乙物业"}


# ----------------------------------------------------------------------------- equivalence


UNITS = [("1栋", "1", "101", "100.00", "张三", "2020-01-01"), ("1栋", "1", "102", "80.50", "李四", "2021-05-01"),
         ("2栋", "", "301", "66.67", "王五", "2019-01-01")]
PAYMENTS = [  # (room, date, amount, method, receipt)
    ("101", date(2025, 12, 20), "500.00", "alipay", "A-1"),
    ("102", date(2026, 2, 3), "161.00", "wechat", "A-2"),
    ("102", date(2026, 3, 20), "100.00", "cash", ""),
    ("101", date(2026, 4, 10), "200.00", "wechat", "A-3"),
    ("102", date(2026, 6, 30), "300.00", "cash", ""),
    ("102", date(2026, 6, 30), "300.00", "cash", ""),
    ("101", date(2026, 7, 15), "450.00", "bank_transfer", "A-4"),
    ("301", date(2026, 10, 1), "1000.00", "pos", "A-5"),
]
METHOD_LABELS = {"alipay": "支付宝", "wechat": "微信", "cash": "现金", "bank_transfer": "银行转账", "pos": "POS"}


def _by_hand(rule: str) -> int:
    """Enter the history day by day through the services: bill each month, then its payments."""
    company = factories.company("手工物业", allocation_rule=rule)
    community = factories.community(company_obj=company)
    units, owners = {}, {}
    for building, entrance, room, area, name, start in UNITS:
        units[room] = factories.unit(community, building=building, entrance=entrance, room=room, area=area)
        owners[room] = factories.owner(units[room], name, start=date.fromisoformat(start))
    factories.tariff(community, price="2.00", grace_days=3, cap="0.1", effective_from=date(2026, 1, 1))
    for month in range(0, 11):
        if month:
            services.bill(through=date(2026, month, 1))
        for room, paid_on, amount, method, receipt in PAYMENTS:
            if (paid_on.year, paid_on.month) == ((2025, 12) if month == 0 else (2026, month)):
                services.record_payment(unit_id=units[room].pk, owner_id=owners[room].pk, amount=amount, paid_on=paid_on,
                                        method=method, receipt_number=receipt)
    return community.pk


def _by_import(rule: str) -> int:
    factories.company("导入物业", allocation_rule=rule)
    unit_of = {room: ("阳光花园", building, entrance, room) for building, entrance, room, *_ in UNITS}
    charges = []
    for _building, _entrance, room, area, *_ in UNITS:
        for month in range(1, 11):
            amount = (D(area) * 2).quantize(D("0.01"))
            charges.append(charge_row(month, amount=float(amount), unit=unit_of[room]))
    report = run_import(xlsx({
        "房屋": [["阳光花园", b, e, r, float(a), "自住"] for b, e, r, a, _, _ in UNITS],
        "业主": [["阳光花园", b, e, r, n, None, None, s] for b, e, r, _, n, s in UNITS],
        "收费标准": [["阳光花园", "物业费", "按面积", 2, 1, 5, 0.0005, 3, 0.1, "2026-01-01", None]],
        "应收": charges,
        "缴费": [[*unit_of[room], paid_on, float(amount), METHOD_LABELS[method], receipt]
                 for room, paid_on, amount, method, receipt in PAYMENTS],
    }), dry_run=False, company_name="导入物业")
    assert report.ok, report.errors
    return Unit.objects.filter(community__company__name="导入物业").values_list("community_id", flat=True).first()


@pytest.mark.parametrize("rule", [AllocationRule.PRINCIPAL_FIRST, AllocationRule.CIVIL_CODE])
def test_it_gives_the_same_statements_as_entering_the_history_day_by_day(rule):
    # given
    by_hand = _by_hand(rule)
    # when
    imported = _by_import(rule)
    # then
    for as_of in [date(2025, 12, 31), date(2026, 1, 31), date(2026, 3, 21), date(2026, 7, 1), date(2026, 9, 10), date(2026, 11, 23)]:
        expected = selectors.statement_as_dicts(selectors.statement(as_of, community_ids=[by_hand]))
        assert expected  # the history leaves something owed or prepaid on each day
        assert selectors.statement_as_dicts(selectors.statement(as_of, community_ids=[imported])) == expected, as_of
    hand_paid = Allocation.objects.filter(community_id=by_hand).values_list("amount", flat=True)
    imported_paid = Allocation.objects.filter(community_id=imported).values_list("amount", flat=True)
    assert sum(hand_paid) == sum(imported_paid)


def test_imported_payments_never_pay_a_held_charge(estate):
    # given: January and February billed (January took the 10.00 prepaid on 01-02), January then held
    community, unit, owner = estate
    services.bill(through=date(2026, 2, 1))
    january, february = Charge.objects.filter(unit=unit).order_by("period_start")
    services.set_charge_hold(charge_id=january.pk, held=True, on=date(2026, 2, 1))
    # when: 300.00 paid on 02-10 comes in by import
    report = run_import(xlsx({"缴费": [["阳光花园", "1栋", "1", "101", "2026-02-10", 300, "现金", "IMP-1"]]}), dry_run=False)
    # then: February's principal and its 5 days of late fee (0.50); 99.50 waits; January keeps only the 10.00
    assert report.ok, report.errors
    imported = Payment.objects.get(receipt_number="IMP-1")
    assert [(a.charge_id, a.component, a.amount) for a in imported.allocations.order_by("pk")] == [
        (february.pk, "principal", D("200.00")), (february.pk, "late_fee", D("0.50"))]
    assert imported.unallocated == D("99.50")
    assert list(january.allocations.values_list("amount", flat=True)) == [D("10.00")]


LOOKALIKE = ("阳光\u200b花园", "１栋", "1\u00a0", "101\ufe0f")  # displays as 阳光花园 1栋 1 101


def test_it_matches_a_lookalike_file_to_the_rows_the_system_holds(estate):
    # given: the estate fixture's unit, owner and receipt DB-1, named in a file with lookalike keys
    _community, unit, owner = estate
    before = snapshot()
    # when
    report = run_import(xlsx({
        "房屋": [[*LOOKALIKE, unit.floor_area, "自住"]],
        "业主": [[*LOOKALIKE, f"{owner.name}\u200b", None, None, "2020-01-01"]],
        "缴费": [[*LOOKALIKE, date(2026, 1, 2), 10, "现金", "DB-1\u200b"]],
    }), dry_run=False)
    # then: every row is the existing one; nothing new, and no write-time conflict
    assert report.ok, report.errors
    assert report.counts["小区"] == report.counts["楼栋"] == report.counts["房屋"] == report.counts["缴费"] == 0
    assert snapshot() == before


def test_it_sees_a_lookalike_repeated_in_one_file():
    # when: the same new unit twice, once with a fullwidth room number
    report = run_import(xlsx({"房屋": [["新城", "1栋", "1", "101", 90, "自住"], ["新城", "1栋", "1", "１０１", 90, "自住"]]}),
                        dry_run=False)
    # then: the file's own duplicate is reported on its row, not a conflict while writing
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("房屋", 3, "房号")]
    assert not Unit.objects.exists()


def test_it_treats_a_cell_of_invisible_characters_as_empty():
    # when: the owner's name is only a zero-width space
    report = run_import(xlsx({"房屋": [["新城", "1栋", "1", "101", 90, "自住"]],
                              "业主": [["新城", "1栋", "1", "101", "\u200b", None, None, "2020-01-01"]]}), dry_run=False)
    # then
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("业主", 2, "业主姓名")]
    assert not Owner.objects.exists()
