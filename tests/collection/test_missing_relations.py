"""Optional relations left empty (imported or system rows) never take a page down."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.urls import reverse

from arrears.collection.models import ContactAttempt, Task
from arrears.estate.models import Contact
from tests.collection.conftest import TODAY, make_case

NOW = datetime(2026, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_every_page_of_a_case_with_nothing_optional_renders(client, insider, estate, scripts):
    # given: a case with no collector, a task with no assignee, an attempt and a correction with no staff
    # member, no contact and no task, and an owner with no contacts at all
    Contact.objects.filter(owner=estate["owner"]).delete()
    case = make_case(estate["unit"], estate["owner"], collector=None)
    Task.objects.create(community=case.community, case=case, key="call", kind="ladder", channel="call", technique=2,
                        script_code="promise_call", title="电话提醒", due_on=TODAY, assignee=None, created_on=TODAY)
    original = ContactAttempt.objects.create(community=case.community, case=case, unit=case.unit, owner=case.owner,
                                             channel="call", at=NOW, outcome="no_answer")
    ContactAttempt.objects.create(community=case.community, case=case, unit=case.unit, owner=case.owner, channel="call",
                                  at=NOW, outcome="refused", corrects=original, correction_reason="导入时录错")
    client.force_login(insider)
    # when / then
    unit_page = client.get(reverse("staff:unit", args=[case.unit_id]))
    assert unit_page.status_code == 200
    assert "未记录经办人" in unit_page.content.decode() and "— 于" in unit_page.content.decode()
    for url in [reverse("staff:workbench"), reverse("staff:cases"), reverse("staff:desk"), reverse("staff:compliance"),
                reverse("staff:attempt_correct", args=[original.pk]), reverse("staff:letters")]:
        assert client.get(url).status_code in (200, 403), url
