"""The guard's set-based batch path decides exactly what `decide` does on each request's own facts.

A large batch (`guard.SET_BASED_FROM` requests or more) is sorted in SQL: owners with facts of
their own are judged one by one, the others share one decision per (policy, channel, instant).
The oracle is `check_contact` on each request alone (the facts loaded for it, then `decide`).
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.collection import guard
from arrears.collection.guard import ContactRequest, check_contact, check_many
from arrears.collection.models import (
    Case,
    ChargeDispute,
    CollectionPolicy,
    ContactAttempt,
    HolidayArrangement,
    OutgoingMessage,
)
from arrears.estate.models import Contact
from arrears.ledger.models import Charge
from tests import factories

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
TUESDAY = date(2026, 9, 15)
DAYS = [
    TUESDAY,
    date(2026, 9, 14),  # the day before: the week's contacts are still ahead of it
    date(2026, 9, 17),
    date(2026, 9, 21),  # the last day the Tuesday contacts count
    date(2026, 9, 16),  # community A's own day off
    date(2026, 9, 19),  # a Saturday: community A does not contact at weekends
    date(2026, 10, 1),  # National Day
    date(2026, 10, 9),  # a working day after the holiday
    date(2031, 10, 2),  # a year the holiday data lack: presumed off, refused
    date(2031, 6, 10),  # an ordinary day of that unknown year
    date(2032, 10, 2),  # a year confirmed by an arrangement row
]
HOURS = [0, 7, 8, 9, 10, 12, 13, 19, 20, 22]
CHANNELS = ["sms", "wechat", "email", "call", "visit", "letter", "lawyer_letter", "front_desk_flag", "legal_review"]
FACT_KINDS = 14


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=SH)


def charge(unit, owner, month: int, **extra) -> Charge:
    return Charge.objects.create(
        community=unit.community, unit=unit, owner=owner, charge_type=factories.charge_type(),
        period_start=date(2026, month, 1), period_end=date(2026, month, 28), amount=Decimal("200.00"),
        due_date=date(2026, month, 5), **extra,
    )


def case(unit, owner, **extra) -> Case:
    return Case.objects.create(
        community=unit.community, unit=unit, owner=owner, opened_on=date(2026, 8, 6), as_of=TUESDAY,
        principal=Decimal("400.00"), late_fee=Decimal("0.00"), oldest_due=date(2026, 8, 5), days_overdue=41,
        months_overdue=1, bucket="31-90", tier="C", **extra,
    )


def attempt(unit, owner, channel, when, outcome="answered", **extra) -> ContactAttempt:
    return ContactAttempt.objects.create(community=unit.community, unit=unit, owner=owner, channel=channel, at=when,
                                         outcome=outcome, **extra)


def message(unit, owner, key, day, *, channel="sms", **extra) -> OutgoingMessage:
    return OutgoingMessage.objects.create(community=unit.community, unit=unit, owner=owner, key=key, channel=channel,
                                          template_code="reminder", scheduled_on=day, **extra)


def give_facts(kind: int, unit, owner) -> dict:
    """Owner number `kind`'s own facts; returns the case and contact a request may name."""
    named = {"case_id": None, "contact_id": None}
    if kind == 1:
        owner.do_not_contact = True
        owner.save(update_fields=["do_not_contact"])
    elif kind == 2:
        named["case_id"] = case(unit, owner, quiet_until=TUESDAY + timedelta(days=2)).pk
    elif kind == 3:
        named["case_id"] = case(unit, owner, quiet_until=TUESDAY - timedelta(days=5)).pk  # a quiet period long over
    elif kind == 4:
        ChargeDispute.objects.create(community=unit.community, charge=charge(unit, owner, 8), reason="面积有误",
                                     opened_on=date(2026, 9, 1))
    elif kind == 5:  # one overdue charge disputed, another not: collection goes on
        ChargeDispute.objects.create(community=unit.community, charge=charge(unit, owner, 8), reason="面积有误",
                                     opened_on=date(2026, 9, 1))
        charge(unit, owner, 7)
    elif kind == 6:
        named["contact_id"] = Contact.objects.create(community=unit.community, owner=owner, kind="mobile",
                                                     value=f"139{owner.pk:08d}", relation="relative").pk
    elif kind == 7:
        named["contact_id"] = Contact.objects.create(community=unit.community, owner=owner, kind="mobile",
                                                     value=f"138{owner.pk:08d}", relation="spouse",
                                                     disclosure_authorised=True).pk
    elif kind == 8:
        attempt(unit, owner, "sms", at(TUESDAY - timedelta(days=3)))
        message(unit, owner, f"queued-{owner.pk}", TUESDAY, channel="wechat", not_before=at(TUESDAY, 9))
    elif kind == 9:
        attempt(unit, owner, "call", at(TUESDAY, 8))
        attempt(unit, owner, "call", at(TUESDAY, 9))
        attempt(unit, owner, "visit", at(TUESDAY - timedelta(days=1), 15))
    elif kind == 10:  # nothing that counts: a blocked attempt, a cancelled message
        attempt(unit, owner, "sms", at(TUESDAY), outcome="blocked", blocked_rule="sms_cap")
        message(unit, owner, f"cancelled-{owner.pk}", TUESDAY, status="cancelled")
    elif kind == 11:  # contacts outside the week
        attempt(unit, owner, "call", at(TUESDAY - timedelta(days=8)))
        message(unit, owner, f"old-{owner.pk}", TUESDAY - timedelta(days=9), status="sent")
    elif kind == 12:  # a correction re-describes a contact: it does not count again
        original = attempt(unit, owner, "call", at(TUESDAY, 8))
        attempt(unit, owner, "call", at(TUESDAY, 8), corrects=original, correction_reason="时间记错")
    elif kind == 13:  # an open case without a quiet period, found by unit and owner
        case(unit, owner)
    return named


@pytest.fixture
def world():
    """Three communities (two policies, one without), owners with every kind of fact, each on its own unit."""
    HolidayArrangement.objects.create(year=2032, days_off="2032-10-01\n2032-10-02\n2032-10-03", working_days="",
                                      notice_date=date(2031, 12, 1),
                                      confirmed=True)
    people = []
    policies = [
        dict(contact_on_weekends=False, fallback_holidays="2026-09-16"),
        dict(sms_start=time(8, 0), sms_end=time(21, 0), sms_per_7_days=1, calls_per_day=3),
        None,
    ]
    for number, policy in enumerate(policies):
        community = factories.community(f"小区{number}", company_obj=factories.company(f"物业{number}"))
        if policy is not None:
            CollectionPolicy.objects.create(community=community, **policy)
        for kind in range(FACT_KINDS):
            unit = factories.unit(community, room=str(100 + kind))
            owner = factories.owner(unit, f"业主{number}-{kind}")
            people.append((unit.pk, owner.pk, give_facts(kind, unit, owner)))
    return people


PEOPLE = 3 * FACT_KINDS
ANY_CHANNEL = st.sampled_from(CHANNELS)


def request(channel=ANY_CHANNEL):
    return st.tuples(channel, st.sampled_from(DAYS), st.sampled_from(HOURS), st.booleans(), st.booleans(), st.booleans())


# Every owner (so every kind of fact is in every batch) asks for a text, a call, a visit and any one
# channel; then more requests for any of them.
request_specs = st.tuples(
    st.lists(st.tuples(request(st.just("sms")), request(st.just("call")), request(st.just("visit")), request()),
             min_size=PEOPLE, max_size=PEOPLE),
    st.lists(st.tuples(st.integers(0, PEOPLE - 1), request()), max_size=40),
).map(lambda drawn: [(person, *spec) for person, specs in enumerate(drawn[0]) for spec in specs]
      + [(person, *spec) for person, spec in drawn[1]])


def requests_of(world, specs) -> list[ContactRequest]:
    requests = []
    for person, channel, day, hour, neutral, name_case, name_contact in specs:
        unit_id, owner_id, named = world[person]
        requests.append(ContactRequest(
            owner_id=owner_id, unit_id=unit_id, channel=channel, at=at(day, hour), neutral=neutral,
            case_id=named["case_id"] if name_case else None, contact_id=named["contact_id"] if name_contact else None,
        ))
    return requests


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=request_specs)
def test_the_batch_path_decides_each_request_as_decide_does(world, specs, monkeypatch):
    requests = requests_of(world, specs)
    expected = [check_contact(request) for request in requests]  # one at a time: the per-request path

    monkeypatch.setattr(guard, "SET_BASED_FROM", 1)
    assert check_many(requests) == expected


def test_owners_without_facts_share_one_decision_and_load_no_facts(world, monkeypatch):
    # owners 0 and 10 of each community have nothing of their own (kind 10's contacts do not count)
    plain = [person for person in range(PEOPLE) if person % FACT_KINDS in (0, 10)]
    specs = [(person, channel, day, hour, False, False, False)
             for person in plain for channel in ("sms", "call") for day in DAYS[:3] for hour in (8, 22)]
    requests = requests_of(world, specs)
    expected = [check_contact(request) for request in requests]
    loaded = []
    monkeypatch.setattr(guard, "SET_BASED_FROM", 1)
    monkeypatch.setattr(guard, "load_facts", lambda chunk: loaded.append(chunk) or [])

    decisions = check_many(requests)

    assert decisions == expected
    assert loaded == []
    assert len({id(decision) for decision in decisions}) <= 3 * 2 * 3 * 2  # per policy, channel, instant


def test_only_owners_with_facts_are_loaded_one_by_one(world, monkeypatch):
    specs = [(person, "call", TUESDAY, 10, False, True, True) for person in range(PEOPLE)]
    requests = requests_of(world, specs)
    expected = [check_contact(request) for request in requests]
    loaded = []
    real = guard.load_facts
    monkeypatch.setattr(guard, "SET_BASED_FROM", 1)
    monkeypatch.setattr(guard, "load_facts", lambda chunk: loaded.extend(chunk) or real(chunk))

    assert check_many(requests) == expected
    with_facts = {person for person in range(PEOPLE) if person % FACT_KINDS in (1, 2, 4, 5, 6, 8, 9, 12)}
    assert {requests.index(request) for request in loaded} >= with_facts
    assert len(loaded) < len(requests)


def test_many_staged_batches_in_one_transaction_reuse_one_table():
    """Thousands of batches in one transaction (a long run, a test) must not each take a new table's locks."""
    from django.db import connection, transaction

    from arrears.collection.staging import staged

    with transaction.atomic():
        for index in range(3000):
            with staged("probe", [("i", "int"), ("key", "text")], [(index, "a"), (index + 1, "b")]) as table, connection.cursor() as cursor:
                cursor.execute(f"SELECT SUM(i) FROM {table}")
                assert cursor.fetchone()[0] == 2 * index + 1
