"""Issue 13, path 2, attacked again: a building-scoped user reaching a unit outside their buildings."""

import io
from decimal import Decimal

import openpyxl
from django.db import connection

from arrears.core import roles
from arrears.estate.models import Building, Unit
from tests.staff.test_import_security import check, houses, scoped


def test_it_judges_an_existing_unit_by_its_own_building_when_legacy_building_names_collide(client, estate):
    # given: a legacy building "3栋" + zero-width space (stored before keys were normalised) next to
    # the real 3栋, and a manager scoped to that lookalike building only
    unit = estate["unit"]  # 阳光花园 3栋1单元1201, not theirs
    lookalike = Building.objects.create(community=estate["community"], name="3栋-legacy")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Building._meta.db_table} SET name = %s WHERE id = %s", ["3栋\u200b", lookalike.pk])
    client.force_login(scoped("lookalike", roles.MANAGER, estate["community"], lookalike))
    # when: the file names 3栋1单元1201, which reads as the lookalike building's key too
    report = check(client, houses(("阳光花园", "3栋", "1", "1201", "1.00", "空置"))).context["report"]
    # then: the row is outside their scope, and the real unit is untouched
    assert [(e.row, e.column) for e in report.errors] == [(2, "小区")]
    assert "不在您的管辖范围内" in report.errors[0].reason
    assert Unit.objects.get(pk=unit.pk).floor_area == Decimal("100.00")


OWNER_HEADER = ["小区", "楼栋", "单元", "房号", "业主姓名", "手机", "证件号", "起始日期"]


def owners(*rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "业主"
    sheet.append(OWNER_HEADER)
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_it_refuses_adding_a_phone_to_an_owner_who_also_owns_units_outside_the_scope(client, estate):
    # given a manager of 5栋 only; 王小明 owns 3栋1单元1201 (not theirs), ID 310101199002023456
    owner = estate["owner"]
    client.force_login(scoped("five", roles.MANAGER, estate["community"], estate["other_unit"].building))
    # when the file makes 王小明 (matched by name and ID) an owner of their 5栋 unit, with a new phone
    report = check(client, owners(("阳光花园", "5栋", "1", "1201", "王小明", "13000000000", "310101199002023456",
                                   "2026-05-01"))).context["report"]
    # then the phone is refused: it would reach the collection of 王小明's 3栋 unit too
    assert [(e.row, e.column) for e in report.errors] == [(2, "手机")]
    assert "管辖范围外还有房屋" in report.errors[0].reason
    assert not owner.contacts.filter(value="13000000000").exists()


def test_a_whole_community_manager_still_adds_the_phone(client, estate):
    client.force_login(scoped("all", roles.MANAGER, estate["community"]))
    report = check(client, owners(("阳光花园", "5栋", "1", "1201", "王小明", "13000000000", "310101199002023456",
                                   "2026-05-01"))).context["report"]
    assert report.ok, report.errors
