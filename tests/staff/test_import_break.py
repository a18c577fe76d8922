"""Issue 13, path 2, attacked again: a building-scoped user reaching a unit outside their buildings."""

from decimal import Decimal

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
