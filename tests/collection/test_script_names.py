"""Scripts greet the owner with the responsible staff member's real name and extension."""

from arrears.collection import selectors
from arrears.collection.scripts import render_script
from arrears.core import roles
from arrears.core.models import StaffProfile
from tests import factories

from .conftest import make_case


def _named(user, family, given, **profile):
    user.last_name, user.first_name = family, given
    user.save()
    StaffProfile.objects.create(user=user, **profile)
    user.refresh_from_db()
    return user


def test_the_cases_collector_speaks_with_their_extension(case, insider, scripts, today):
    _named(insider, "李", "明", extension="8012")
    case.unit.community.company.phone = "021-55550000"
    case.unit.community.company.save()
    viewer = factories.user("boss", groups=[roles.MANAGER], last_name="王", first_name="经理")
    case.refresh_from_db()
    context = selectors.script_context(case, collector=viewer, today=today)
    assert (context["collector"], context["collector_phone"]) == ("李明", "021-55550000 转 8012")
    text = render_script(scripts["promise_call"].body, context)
    assert "物业服务中心的李明" in text and "021-55550000 转 8012" in text
    assert "insider" not in text and "collector" not in text


def test_without_a_collector_the_caller_speaks(estate, today):
    caller = _named(factories.user("zhao", groups=[roles.COLLECTOR]), "赵", "丽", office_phone="021-55550001")
    case = make_case(estate["unit"], estate["owner"])
    context = selectors.script_context(case, collector=caller, today=today)
    assert (context["collector"], context["collector_phone"]) == ("赵丽", "021-55550001")


def test_a_nameless_login_is_never_read_out(estate, today):
    case = make_case(estate["unit"], estate["owner"], collector=factories.user("collector", groups=[roles.COLLECTOR]))
    context = selectors.script_context(case, collector=None, today=today)
    assert context["collector"] == "工作人员"
