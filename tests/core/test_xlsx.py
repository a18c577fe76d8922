"""The one xlsx writer: text people typed stays text; money and dates keep their types."""

from datetime import date, datetime
from decimal import Decimal as D
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook

from arrears.core import xlsx
from tests.spreadsheets import INJECTIONS, as_read, formulas


def written(rows, columns=(("名称", xlsx.TEXT, 20), ("金额", xlsx.MONEY, 12), ("日期", xlsx.DATE, 12))) -> bytes:
    book = xlsx.Book()
    sheet = book.sheet("表", columns)
    for row in rows:
        sheet.append(row)
    sheet.close()
    book.notes([("说明", INJECTIONS[0]), ("截至日期", date(2026, 4, 10))])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_it_finds_the_formula_that_plain_openpyxl_writes():
    # given: the attack as it was: openpyxl stores a string starting with "=" as a formula
    workbook = Workbook()
    workbook.active.append([INJECTIONS[0]])
    buffer = BytesIO()
    workbook.save(buffer)
    # then: the check below is able to fail
    assert len(formulas(buffer.getvalue())) == 1


@pytest.mark.parametrize("text", INJECTIONS)
def test_it_writes_text_that_looks_like_a_formula_as_text(text):
    # when
    data = written([[text, D("12.30"), date(2026, 1, 5)]])
    # then
    assert formulas(data) == []
    row = load_workbook(BytesIO(data))["表"][2]
    assert (row[0].value, row[0].data_type) == (as_read(text), "s")
    assert row[0].quotePrefix  # editing the cell in Excel keeps it text


def test_it_keeps_money_and_dates_typed():
    # when
    data = written([["阳光花园", D("1234.50"), date(2026, 1, 5)], ["-", D("0.01"), None]])
    # then
    sheet = load_workbook(BytesIO(data))["表"]
    assert [(c.value, c.data_type, c.number_format) for c in sheet[2][1:]] == [
        (1234.5, "n", "#,##0.00"), (datetime(2026, 1, 5), "d", "yyyy-mm-dd")]
    assert not sheet["A2"].quotePrefix
    assert (sheet["A4"].value, sheet["B4"].value, sheet["B4"].number_format) == ("合计", 1234.51, "#,##0.00")
    notes = load_workbook(BytesIO(data))["说明"]
    assert (notes["B1"].value, notes["B1"].data_type) == (INJECTIONS[0], "s")
    assert notes["B2"].number_format == "yyyy-mm-dd"


def test_it_drops_control_characters_that_would_break_the_file():
    # when
    data = written([["阳光\x07花园", D("1.00"), None]])
    # then
    assert load_workbook(BytesIO(data))["表"]["A2"].value == "阳光花园"


def test_it_writes_a_template_shaped_workbook_with_per_column_header_fills():
    # given: the shape of the import template (required columns red, notes sheet first)
    red = xlsx.PatternFill("solid", fgColor="C00000")
    book = xlsx.Book()
    sheet = book.sheet("房屋", [xlsx.Column("小区", width=12, fill=red), xlsx.Column("面积", width=10)])
    sheet.append(["=阳光花园", 89.5])
    book.rows("说明", [["表", "列", "说明"], ["", "", "-红色表头为必填列"]], widths=(12, 24, 90), index=0)
    buffer = BytesIO()
    # when
    book.save(buffer)
    # then
    workbook = load_workbook(BytesIO(buffer.getvalue()))
    assert workbook.sheetnames == ["说明", "房屋"]
    assert workbook["房屋"]["A1"].fill.fgColor.rgb == "00C00000"
    assert [(c.value, c.data_type) for c in workbook["房屋"][2]] == [("=阳光花园", "s"), (89.5, "n")]
    assert formulas(buffer.getvalue()) == []


@pytest.mark.parametrize("text", ['＝HYPERLINK("http://evil.example/","点此查看")', "＋1", "－1+2", "＠SUM(A1)"])
def test_it_quotes_text_that_starts_with_a_fullwidth_formula_sign(text):
    # Excel and WPS with a Chinese or Japanese input method take a fullwidth "＝" typed at the start
    # of a cell as "=": editing such a cell must keep it text too.
    data = written([[text, D("1.00"), date(2026, 1, 5)]])
    row = load_workbook(BytesIO(data))["表"][2]
    assert (row[0].value, row[0].data_type) == (text, "s")
    assert row[0].quotePrefix
