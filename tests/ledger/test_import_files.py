"""Issue 13: what the import reads — no known sheet, formulas without values, the row limit, keys in normal form."""

from datetime import date
from decimal import Decimal
from io import BytesIO, StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from arrears.estate.models import Building, Community, Unit
from arrears.ledger import importers
from arrears.ledger.importers import WriteScope, run_import
from arrears.ledger.models import Tariff
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


def book(sheets: dict[str, list[list]], *, headers=True) -> BytesIO:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        if headers:
            sheet.append(importers.SHEETS.get(name, ["A", "B"]))
        for row in rows:
            sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def test_it_reports_a_workbook_without_a_known_sheet():
    report = run_import(book({"Sheet1": [["x", "y"]], "房屋信息": [["a", "b"]]}), dry_run=False)
    assert not report.ok and [(e.sheet, e.row) for e in report.errors] == [("", 0)]
    assert report.errors[0].text.startswith("没有可导入的工作表")
    assert "Sheet1、房屋信息" in report.errors[0].text


def test_it_exits_non_zero_from_the_command_for_a_workbook_without_a_known_sheet(tmp_path):
    path = tmp_path / "other.xlsx"
    path.write_bytes(book({"Sheet1": [["x"]]}).getvalue())
    err = StringIO()
    with pytest.raises(CommandError, match="1 处错误"):
        call_command("import", str(path), stderr=err, stdout=StringIO())
    assert "没有可导入的工作表" in err.getvalue()


def test_it_reports_a_formula_without_a_saved_value_as_a_formula():
    # given: openpyxl saves formulas without values, as a file from some tools does
    report = run_import(book({"房屋": [["阳光花园", "1栋", None, "101", "=B2*10", "自住"], ["阳光花园", "1栋", None, "102", None, "自住"]]}),
                        dry_run=True)
    # then: the formula is named as one; a blank cell stays "required"
    assert [(e.row, e.column) for e in report.errors] == [(2, "建筑面积"), (3, "建筑面积")]
    assert report.errors[0].text.startswith("公式没有计算结果（=B2*10），请在 Excel 中复制后“选择性粘贴为数值”再上传")
    assert report.errors[1].text == "必填"


def test_it_refuses_a_file_over_the_row_limit(settings):
    settings.ARREARS_IMPORT_MAX_ROWS = 2
    rows = [["阳光花园", "1栋", None, str(100 + i), 50, "自住"] for i in range(3)]
    report = run_import(book({"房屋": rows}), dry_run=False)
    assert [(e.sheet, e.row) for e in report.errors] == [("房屋", 4)]
    assert report.errors[0].text.startswith("文件超过 2 行")
    assert not Unit.objects.exists()


def test_it_matches_lookalike_keys_to_their_normal_form():
    # given: 阳光花园 1栋 101, and a file typed with a zero-width space, fullwidth digits, a no-break space
    community = factories.community("阳光花园")
    unit = factories.unit(community, building="1栋", entrance="", room="101", area="50.00")
    rows = [["阳光\u200b花园", "１栋", None, "１０１", 60, "自住"], ["阳光花园\u00a0", "1栋", None, "101\u200b", 60, "自住"]]
    # when
    report = run_import(book({"房屋": rows}), dry_run=False)
    # then: the same unit, updated; no lookalike community, building or unit
    assert [e.text for e in report.errors] == ["房屋在文件中重复（第2行）"]
    report = run_import(book({"房屋": rows[:1]}), dry_run=False)
    assert report.ok, report.errors
    assert Community.objects.count() == 1 and Building.objects.count() == 1 and Unit.objects.count() == 1
    unit.refresh_from_db()
    assert unit.floor_area == Decimal("60.00")


def test_it_writes_new_keys_in_their_normal_form():
    report = run_import(book({"房屋": [["翠湖\u200b苑", "２栋", None, " ３０１ ", 70, "自住"]]}), dry_run=False)
    assert report.ok, report.errors
    assert list(Unit.objects.values_list("community__name", "building__name", "room")) == [("翠湖苑", "2栋", "301")]


def test_it_refuses_everything_for_an_empty_scope():
    factories.community("阳光花园")
    report = run_import(book({"房屋": [["阳光花园", "1栋", None, "101", 60, "自住"]]}), dry_run=False, scope=WriteScope())
    assert [e.text for e in report.errors] == [importers.NO_SCOPE]
    assert not Unit.objects.exists()


def test_it_refuses_a_tariff_outside_the_scope():
    mine = factories.community("阳光花园")
    theirs = factories.community("翠湖苑", company_obj=mine.company)
    row = ["翠湖苑", "物业费", "按面积", 2.5, 1, 5, 0.0005, 15, 0.3, date(2025, 1, 1), None]
    report = run_import(book({"收费标准": [row]}), dry_run=False, scope=WriteScope(frozenset({mine.pk})))
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("收费标准", 2, "小区")]
    assert "翠湖苑" in report.errors[0].text
    assert not Tariff.objects.filter(community=theirs).exists()
