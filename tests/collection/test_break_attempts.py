"""What a malicious insider tries on the evidence: corrections that turn a refused contact into one,
and a violation corrected out of sight."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from arrears.collection import services
from arrears.collection.models import ContactAttempt, LimitationEvent, Promise
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.estate.models import StaffScope
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 10, 12, 40, tzinfo=SHANGHAI)


@pytest.fixture
def clock(today):
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def blocked(case, estate, insider):
    """The guard refused a call at 12:10 (lunch): the owner was not contacted."""
    return ContactAttempt.objects.create(
        community=estate["community"], case=case, unit=estate["unit"], owner=estate["owner"], channel="call",
        at=datetime(2026, 5, 10, 12, 10, tzinfo=SHANGHAI), outcome="blocked", blocked_rule="hours",
        blocked_reason="午休时间不得联系业主", relation="self", staff=insider)


def test_it_refuses_to_correct_a_blocked_attempt_into_a_backdated_promise(client, insider, blocked, clock):
    # given: a call the guard refused at 12:10
    client.force_login(insider)
    # when: the collector "corrects" it into a promise made at 11:00, before the lunch break
    response = client.post(reverse("staff:attempt_correct", args=[blocked.pk]), {
        "outcome": "promised", "at": "2026-05-10T11:00", "promise_amount": "600.00", "promise_due": "2026-05-17",
        "correction_reason": "其实接通了"}, follow=True)
    # then: refused with the reason; nothing is written, no promise, no limitation restart
    assert "被拦截的记录没有联系业主" in response.content.decode()
    assert list(ContactAttempt.objects.values_list("pk", "outcome")) == [(blocked.pk, "blocked")]
    assert (Promise.objects.count(), LimitationEvent.objects.count()) == (0, 0)


def test_it_refuses_a_blocked_attempts_correction_in_the_service_and_offers_no_link(client, insider, blocked, estate, clock):
    # when
    with pytest.raises(DomainError) as refused:
        services.correct_attempt(attempt=blocked, staff=insider, correction_reason="x", outcome="answered")
    # then
    assert refused.value.code == "blocked" and ContactAttempt.objects.count() == 1
    client.force_login(insider)
    html = client.get(reverse("staff:unit", args=[estate["unit"].pk])).content.decode()
    assert reverse("staff:attempt_correct", args=[blocked.pk]) not in html


@pytest.fixture
def manager(estate):
    user = factories.user("boss", groups=[roles.MANAGER], first_name="经理")
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


def test_it_keeps_a_violation_on_the_compliance_page_when_its_time_is_corrected_away(client, insider, manager, case, clock):
    # given: a call at 12:30, during the lunch break, recorded as a violation
    call = services.log_attempt(unit=case.unit, owner=case.owner, case=case, channel="call", outcome="answered",
                                staff=insider, at=datetime(2026, 5, 10, 12, 30, tzinfo=SHANGHAI))
    # when: the collector re-dates it to 11:30, out of the break
    services.correct_attempt(attempt=call, staff=insider, correction_reason="时间录错了",
                             at=datetime(2026, 5, 10, 11, 30, tzinfo=SHANGHAI))
    client.force_login(manager)
    html = client.get(reverse("staff:compliance")).content.decode()
    # then: the manager still sees the contact that broke the rule, marked as corrected away, counted once
    assert html.count('data-testid="violation"') == 1
    assert "2026-05-10 12:30" in html and 'data-testid="corrected-away"' in html
    assert "<td>不在可联系时段</td><td class=\"num\">1</td>" in html


def test_it_counts_a_violation_once_when_a_correction_keeps_it(client, insider, manager, case, clock):
    # given: a call at 12:30 whose outcome is corrected; the correction still broke the rule
    call = services.log_attempt(unit=case.unit, owner=case.owner, case=case, channel="call", outcome="answered",
                                staff=insider, at=datetime(2026, 5, 10, 12, 30, tzinfo=SHANGHAI))
    correction = services.correct_attempt(attempt=call, staff=insider, correction_reason="没接通", outcome="no_answer")
    client.force_login(manager)
    # when
    html = client.get(reverse("staff:compliance")).content.decode()
    # then: the correction is listed, the original is not
    assert html.count('data-testid="violation"') == 1 and 'data-testid="corrected-away"' not in html
    assert f"#attempt-{correction.pk}" in html and f"#attempt-{call.pk}\"" not in html
