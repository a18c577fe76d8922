"""Staff names read family name first everywhere (李明, never Django's "明 李"), through one helper."""

import re
from io import BytesIO
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook

import arrears
from arrears.collection import assignments, exports, selectors
from arrears.collection.models import Case, ContactAttempt
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.estate.models import StaffScope
from tests import factories

HELPER = Path(arrears.__file__).parent / "core" / "roles.py"


def test_no_page_or_module_formats_a_name_but_the_one_helper():
    """get_full_name() prints "明 李": every name goes through roles.staff_label / staff_name / real_name."""
    package = Path(arrears.__file__).parent
    offenders = [
        f"{path.relative_to(package)}:{number}"
        for path in sorted(package.rglob("*")) if path.suffix in {".py", ".html", ".txt"} and path != HELPER
        and "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"get_full_name|first_name'?\]? or ''\} \{", line)
    ]
    assert offenders == []


def _li_ming(user):
    user.last_name, user.first_name = "李", "明"
    user.save()
    return user


def test_the_arrears_list_the_filters_the_export_and_the_attempt_name_the_collector_family_name_first(
        client, case, insider, today):
    _li_ming(insider)
    client.force_login(insider)
    page = client.get(reverse("staff:cases")).content.decode()
    assert "李明" in page and "明 李" not in page
    assert (insider.pk, "李明") in selectors.case_filter_choices(insider)["collectors"]
    assert ContactAttempt(staff=insider).staff_name == "李明"
    assert roles.staff_label(None) == "—" and ContactAttempt().staff_name == ""
    out = BytesIO()
    exports.write_cases_xlsx(Case.objects.all(), as_of=today, filters={}, path_or_file=out)
    cells = [cell for row in load_workbook(BytesIO(out.getvalue())).active.iter_rows(values_only=True) for cell in row]
    assert "李明" in cells and "明 李" not in cells


def test_a_refused_assignment_names_the_colleague_as_other_pages_do(estate, insider):
    manager = factories.user("boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=manager, community=estate["community"])
    cashier = factories.user("cashier9", groups=[roles.FINANCE], last_name="周", first_name="敏")
    with pytest.raises(DomainError) as refused:
        assignments.assign_collectors(building=estate["unit"].building, collectors=[cashier], staff=manager)
    assert refused.value.zh.startswith("周敏 不是本小区的催收员") and "cashier9" not in refused.value.zh


def test_the_front_desk_script_gives_the_owner_the_collectors_name_family_name_first(client, front_desk, case, insider,
                                                                                      scripts, today):
    _li_ming(insider)
    case.front_desk_flag = True
    case.save()
    client.force_login(front_desk)
    html = client.get(reverse("staff:desk"), {"q": "沪A12345"}).content.decode()
    assert "服务中心的李明这几天想找您" in html and "明 李" not in html and "insider" not in html
