"""What a malicious insider tries on the evidence: corrections that turn a refused contact into one,
and a violation corrected out of sight."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from arrears.collection import services
from arrears.collection.models import ContactAttempt, LimitationEvent, Promise
from arrears.core.errors import DomainError

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
