"""The evidence log on the staff pages: every record renders, corrections strike the old version
through, third parties get only neutral outcomes, and managers see violations on /compliance/."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from arrears.collection import services
from arrears.collection.models import ContactAttempt, Promise
from arrears.core import roles
from arrears.estate.models import Contact, StaffScope
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 10, 12, 40, tzinfo=SHANGHAI)


@pytest.fixture
def clock(today):
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def manager(estate):
    user = factories.user("boss", groups=[roles.MANAGER], first_name="经理")
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


def _unit_html(client, estate):
    response = client.get(reverse("staff:unit", args=[estate["unit"].pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_it_renders_the_unit_page_with_an_attempt_nobody_logged(client, insider, case, estate, clock):
    # given: an attempt with no staff member, contact, task or case (imported or demo history)
    ContactAttempt.objects.create(community=estate["community"], unit=estate["unit"], owner=estate["owner"], channel="call",
                                  at=datetime(2026, 5, 9, 10, 0, tzinfo=SHANGHAI), outcome="answered", relation="self")
    client.force_login(insider)
    # when
    html = _unit_html(client, estate)
    # then
    assert "2026-05-09 10:00" in html and "未记录经办人" in html


def test_it_strikes_a_corrected_attempt_through_and_says_who_corrected_it_when_and_why(client, insider, case, estate, clock):
    # given
    attempt = services.log_attempt(unit=case.unit, owner=case.owner, case=case, channel="call", outcome="promised",
                                   staff=insider, at=datetime(2026, 5, 10, 11, 50, tzinfo=SHANGHAI), promise_amount="600.00",
                                   promise_due=datetime(2026, 5, 17).date())
    client.force_login(insider)
    assert "更正" in client.get(reverse("staff:attempt_correct", args=[attempt.pk])).content.decode()
    # when
    response = client.post(reverse("staff:attempt_correct", args=[attempt.pk]), {
        "outcome": "no_answer", "at": "2026-05-10T11:50", "reason": "", "notes": "", "correction_reason": "电话其实没接通"})
    # then
    correction = ContactAttempt.objects.get(corrects=attempt)
    assert response.status_code == 302 and response["Location"].endswith(f"#attempt-{correction.pk}")
    assert (correction.outcome, correction.at, correction.staff) == ("no_answer", attempt.at, insider)
    assert Promise.objects.get().status == "cancelled"
    html = _unit_html(client, estate)
    old = html[html.index(f'id="attempt-{attempt.pk}"'):]
    old = old[:old.index("</li>")]
    assert "superseded" in html[html.index(f'id="attempt-{attempt.pk}"') - 60:html.index(f'id="attempt-{attempt.pk}"') + 80]
    assert "<del>" in old and f'href="#attempt-{correction.pk}"' in old
    new = html[html.index(f'id="attempt-{correction.pk}"'):]
    new = new[:new.index("</li>")]
    assert "insider 于 2026-05-10 12:40 更正" in new and "电话其实没接通" in new and f'href="#attempt-{attempt.pk}"' in new


def test_it_refuses_a_correction_without_a_reason(client, insider, case, estate, clock):
    attempt = services.log_attempt(unit=case.unit, owner=case.owner, case=case, channel="call", outcome="answered",
                                   staff=insider, at=datetime(2026, 5, 10, 11, 0, tzinfo=SHANGHAI))
    client.force_login(insider)
    client.post(reverse("staff:attempt_correct", args=[attempt.pk]), {"outcome": "no_answer", "at": "2026-05-10T11:00"})
    assert ContactAttempt.objects.count() == 1


def test_it_404s_a_correction_out_of_scope(client, neighbour, insider, case, clock):
    attempt = services.log_attempt(unit=case.unit, owner=case.owner, case=case, channel="call", outcome="answered",
                                   staff=insider, at=datetime(2026, 5, 10, 11, 0, tzinfo=SHANGHAI))
    client.force_login(neighbour)
    assert client.get(reverse("staff:attempt_correct", args=[attempt.pk])).status_code == 404
    assert client.post(reverse("staff:attempt_correct", args=[attempt.pk]), {
        "outcome": "no_answer", "at": "2026-05-10T11:00", "correction_reason": "x"}).status_code == 404


def test_it_offers_only_neutral_outcomes_for_a_relative_and_refuses_a_relatives_promise(client, insider, case, estate, clock):
    # given: the spouse was not authorised to hear of the debt
    spouse = Contact.objects.get(value="13700001111")
    client.force_login(insider)
    # when
    html = _unit_html(client, estate)
    # then: the form marks the relative and the outcomes that may go with one
    assert f'<option value="{spouse.pk}" data-third-party="1">' in html
    for value in ("callback_requested", "wrong_number", "no_answer", "declined_to_pass_on"):
        assert f'<option value="{value}" data-neutral="1"' in html
    for value in ("promised", "refused", "answered"):
        assert f'<option value="{value}">' in html
    # and the server is the authority
    response = client.post(reverse("staff:case_attempt", args=[case.pk]), {
        "channel": "call", "contact": spouse.pk, "outcome": "promised", "at": "2026-05-10T11:00",
        "promise_amount": "100.00", "promise_due": "2026-05-17"}, follow=True)
    assert "未获业主授权" in response.content.decode()
    assert ContactAttempt.objects.count() == 0 and Promise.objects.count() == 0


def test_it_lists_a_late_logged_violation_on_the_compliance_page(client, insider, manager, case, estate, clock):
    # given: a call at 12:30 logged at 12:40, with a promise
    services.log_attempt(unit=case.unit, owner=case.owner, case=case, channel="call", outcome="promised", staff=insider,
                         at=datetime(2026, 5, 10, 12, 30, tzinfo=SHANGHAI), promise_amount="600.00",
                         promise_due=datetime(2026, 5, 17).date())
    services.log_attempt(unit=case.unit, owner=case.owner, case=case, channel="call", outcome="answered", staff=insider,
                         at=datetime(2026, 5, 10, 11, 0, tzinfo=SHANGHAI))
    client.force_login(manager)
    # when
    html = client.get(reverse("staff:compliance")).content.decode()
    # then
    assert html.count('data-testid="violation"') == 1
    assert "2026-05-10 12:30" in html and "2026-05-10 12:40" in html and "承诺" in html
    by_collector = html[html.index('data-testid="by-collector"'):]
    assert "<td>insider</td><td class=\"num\">1</td>" in by_collector
    assert "<td>不在可联系时段</td><td class=\"num\">1</td>" in html
    assert "2026-05-04 当周" in html  # TruncWeek: the Monday of the week of 2026-05-10
    assert Promise.objects.get().status == "open"


def test_it_refuses_the_compliance_page_to_a_collector(client, insider, clock):
    client.force_login(insider)
    assert client.get(reverse("staff:compliance")).status_code == 403


def test_it_shows_a_manager_only_the_violations_in_scope(client, insider, case, estate, clock):
    # given: a manager of another community
    elsewhere = factories.user("far_boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=elsewhere, community=estate["far_unit"].community)
    services.log_attempt(unit=case.unit, owner=case.owner, case=case, channel="call", outcome="answered", staff=insider,
                         at=datetime(2026, 5, 10, 12, 30, tzinfo=SHANGHAI))
    client.force_login(elsewhere)
    # when
    html = client.get(reverse("staff:compliance")).content.decode()
    # then
    assert 'data-testid="violation"' not in html and "该期间没有违规联系" in html


def test_it_speaks_english_on_the_compliance_page(client, insider, manager, case, clock):
    services.log_attempt(unit=case.unit, owner=case.owner, case=case, channel="call", outcome="answered", staff=insider,
                         at=datetime(2026, 5, 10, 12, 30, tzinfo=SHANGHAI))
    client.force_login(manager)
    client.cookies.load({"django_language": "en"})
    html = client.get(reverse("staff:compliance")).content.decode()
    assert "Compliance report" in html and "Outside contact hours" in html and "合规报告" not in html


def test_it_keeps_the_compliance_page_query_count_flat(client, insider, manager, case, clock, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def violation(minute):
        services.log_attempt(unit=case.unit, owner=case.owner, case=case, channel="visit", outcome="answered", staff=insider,
                             at=datetime(2026, 5, 10, 12, minute, tzinfo=SHANGHAI))

    violation(1)
    client.force_login(manager)
    client.get(reverse("staff:compliance"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("staff:compliance"))
    for minute in range(2, 8):
        violation(minute)
    with django_assert_num_queries(len(few)):
        html = client.get(reverse("staff:compliance")).content.decode()
    assert html.count('data-testid="violation"') == 7
