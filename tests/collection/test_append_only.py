"""Evidence is append-only (DESIGN.md §3): the ORM refuses, and the database refuses again for any client.

Every test runs on the database at hand: run the file on SQLite and on PostgreSQL
(DATABASE_URL=postgres://…). The raw SQL goes around the ORM on purpose: it is what a script, a
console session or another program would send.
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import QuerySet

from arrears.collection import append_only as collection_columns
from arrears.collection.models import (
    AttemptAttachment,
    ContactAttempt,
    LimitationEvent,
    LimitationProof,
    OutgoingMessage,
)
from arrears.core import append_only as core_columns
from arrears.core.db import plpgsql_body, sqlite_trigger
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent, record
from arrears.estate.models import Contact
from arrears.ledger import append_only as ledger_columns
from arrears.ledger import services as ledger_services
from arrears.ledger.models import Allocation, Payment
from arrears.legal import append_only as legal_columns
from arrears.notices import append_only as notices_columns
from tests import factories

AT = datetime(2026, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ALL_GROUPS = [group for module in (collection_columns, notices_columns, core_columns, ledger_columns, legal_columns)
              for groups in module.EVIDENCE_COLUMNS.values() for group in groups]


def _attempt(case, staff, **extra):
    values = {"community": case.community, "case": case, "unit": case.unit, "owner": case.owner, "channel": "call",
              "at": AT, "outcome": "no_answer", "notes": "未接", "staff": staff}
    return ContactAttempt.objects.create(**{**values, **extra})


def _raw(sql, params):
    """Run one statement in its own savepoint, so a refusal leaves the test's transaction usable."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _refused(sql, params):
    with pytest.raises(IntegrityError) as error:
        _raw(sql, params)
    assert "append-only evidence" in str(error.value)


@pytest.fixture
def attempt(case, insider):
    return _attempt(case, insider)


# -- the database refuses -----------------------------------------------------------------------

def test_the_database_refuses_to_turn_an_attempt_into_answered(attempt):
    # when a raw UPDATE tries to rewrite the outcome, the time, the staff or the notes
    _refused("UPDATE collection_contactattempt SET outcome = %s WHERE id = %s", ["answered", attempt.pk])
    _refused("UPDATE collection_contactattempt SET at = %s WHERE id = %s", [datetime(2026, 5, 1, 9, 0), attempt.pk])
    _refused("UPDATE collection_contactattempt SET staff_id = NULL, notes = %s WHERE id = %s", ["", attempt.pk])
    # then the attempt is as it was written
    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.at, attempt.notes, attempt.staff_id) == ("no_answer", AT, "未接", attempt.staff_id)


def test_the_database_refuses_an_orm_update_that_goes_around_the_guard(attempt):
    # given the ORM's own refusal is bypassed by calling the plain QuerySet.update
    queryset = ContactAttempt.objects.filter(pk=attempt.pk)
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        QuerySet.update(queryset, outcome="answered")
    attempt.refresh_from_db()
    assert attempt.outcome == "no_answer"


def test_the_database_refuses_to_move_a_limitation_event(case, attempt):
    event = LimitationEvent.objects.create(community=case.community, unit=case.unit, owner=case.owner, kind="promise",
                                           occurred_on=date(2026, 5, 10), attempt=attempt, note="¥600.00 → 2026-05-31")
    _refused("UPDATE collection_limitationevent SET occurred_on = %s WHERE id = %s", [date(2027, 5, 10), event.pk])
    _refused("UPDATE collection_limitationevent SET kind = %s WHERE id = %s", ["suit", event.pk])
    event.refresh_from_db()
    assert (event.occurred_on, event.kind) == (date(2026, 5, 10), "promise")


def test_the_database_refuses_to_swap_an_attachment(attempt):
    attachment = AttemptAttachment.objects.create(community=attempt.community, attempt=attempt, kind="recording",
                                                  file="evidence/2026/05/call.mp3")
    _refused("UPDATE collection_attemptattachment SET file = %s WHERE id = %s", ["evidence/other.mp3", attachment.pk])
    attachment.refresh_from_db()
    assert attachment.file.name == "evidence/2026/05/call.mp3"


def test_the_database_refuses_to_rewrite_an_audit_event(db):
    event = record(actor=None, action="exports.cases", community_id=7, rows=12)
    _refused("UPDATE core_auditevent SET action = %s WHERE id = %s", ["nothing", event.pk])
    _refused("UPDATE core_auditevent SET at = %s WHERE id = %s", [AT, event.pk])
    event.refresh_from_db()
    assert (event.action, event.community_id, event.detail) == ("exports.cases", 7, {"rows": 12})


def test_the_database_refuses_to_change_a_frozen_message_but_lets_the_outbox_move(case):
    # given a queued message: its text is not rendered yet
    message = OutgoingMessage.objects.create(community=case.community, case=case, unit=case.unit, owner=case.owner,
                                             key="case:1:step:overdue_sms", channel="sms", template_code="overdue",
                                             scheduled_on=date(2026, 5, 10))
    # when the outbox freezes the text and moves the message through its states
    OutgoingMessage.objects.filter(pk=message.pk).update(body="【物业】您好", body_sha256="a" * 64, recipient="13900000000")
    OutgoingMessage.objects.filter(pk=message.pk).update(status="sending", claim_token="t", claimed_at=AT, attempts=1)
    OutgoingMessage.objects.filter(pk=message.pk).update(status="sent", provider="console", provider_message_id="p1",
                                                         sent_at=AT, claim_token="", handed_at=AT)
    OutgoingMessage.objects.filter(pk=message.pk).update(status="delivered", delivered_at=AT, receipt_code="DELIVRD")
    # then the text, the recipient and the schedule can no longer change
    _refused("UPDATE collection_outgoingmessage SET body = %s WHERE id = %s", ["【物业】另一段话", message.pk])
    _refused("UPDATE collection_outgoingmessage SET recipient = %s WHERE id = %s", ["13800000000", message.pk])
    _refused("UPDATE collection_outgoingmessage SET scheduled_on = %s WHERE id = %s", [date(2026, 5, 1), message.pk])
    message.refresh_from_db()
    assert (message.status, message.body, message.recipient, message.scheduled_on) == (
        "delivered", "【物业】您好", "13900000000", date(2026, 5, 10))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="DELETE triggers are PostgreSQL's (SQLite flushes tests with DELETE)")
def test_postgresql_refuses_to_delete_evidence(attempt):
    event = record(actor=None, action="exports.cases")
    _refused("DELETE FROM collection_contactattempt WHERE id = %s", [attempt.pk])
    _refused("DELETE FROM core_auditevent WHERE id = %s", [event.pk])
    assert ContactAttempt.objects.filter(pk=attempt.pk).exists() and AuditEvent.objects.filter(pk=event.pk).exists()


# -- the ORM refuses first ----------------------------------------------------------------------

def test_the_orm_refuses_to_update_or_delete_evidence(attempt):
    with pytest.raises(DomainError) as updating:
        ContactAttempt.objects.filter(pk=attempt.pk).update(outcome="answered")
    with pytest.raises(DomainError) as deleting:
        ContactAttempt.objects.filter(pk=attempt.pk).delete()
    with pytest.raises(DomainError):
        attempt.delete()
    with pytest.raises(DomainError):
        AuditEvent.objects.all().delete()
    assert (updating.value.code, deleting.value.code) == ("append_only", "append_only")
    attempt.refresh_from_db()
    assert attempt.outcome == "no_answer"


def test_a_save_that_would_change_evidence_is_refused(attempt):
    attempt.outcome = "answered"
    with pytest.raises(DatabaseError), transaction.atomic():
        attempt.save()
    assert ContactAttempt.objects.get(pk=attempt.pk).outcome == "no_answer"


def test_a_correction_is_a_new_row(attempt, insider):
    # given / when
    correction = _attempt(attempt.case, insider, outcome="answered", notes="更正：其实接通了", corrects=attempt, correction_reason="记错了")
    # then
    attempt.refresh_from_db()
    assert (attempt.outcome, correction.corrects_id, correction.outcome) == ("no_answer", attempt.pk, "answered")


# -- the installed triggers are the ones the lists describe -------------------------------------

@pytest.mark.parametrize("group", ALL_GROUPS, ids=lambda g: g.trigger)
def test_the_installed_trigger_matches_the_column_list(db, group):
    """A list extended without its migration fails here."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [group.trigger])
            assert cursor.fetchone() == (sqlite_trigger(group),)
        else:
            cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", [f"{group.trigger}_fn"])
            assert cursor.fetchone() == (plpgsql_body(group),)
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [group.table])
            names = {name for (name,) in cursor.fetchall()}
            assert group.trigger in names
            assert not group.refuse_delete or f"{group.table}_no_delete" in names


# Every table DESIGN.md §3 and §4 call evidence, and the triggers that must guard it after `migrate`.
EVIDENCE_TRIGGERS = {
    "collection_contactattempt": {"append_only"},
    "collection_attemptattachment": {"append_only"},
    "collection_satisfactionrating": {"append_only"},
    "collection_limitationevent": {"append_only"},
    "collection_limitationproof": {"append_only"},
    "collection_outgoingmessage": {"append_only", "frozen_text", "frozen_sent", "frozen_delivered"},
    "notices_messageevent": {"append_only"},
    "notices_letterbatch": {"append_only", "frozen_files"},
    "notices_letter": {"append_only", "frozen_delivery"},
    "notices_deliverycorrection": {"append_only"},
    "core_auditevent": {"append_only"},
    "ledger_payment": {"append_only"},
    "ledger_paymentreversal": {"append_only"},
    "ledger_allocation": {"append_only"},
    "ledger_prepayaward": {"append_only"},
    "ledger_incentivegrant": {"append_only"},
    "ledger_waiver": {"append_only", "frozen_decision"},
    "legal_matterstage": {"append_only"},
    "legal_mattercost": {"append_only"},
    "legal_award": {"append_only", "frozen_decision"},
    "legal_communitydocument": {"append_only"},
    "legal_publicnotice": {"append_only"},
    "legal_publicnoticeentry": {"append_only"},
}


def test_it_installs_a_trigger_on_every_evidence_table_after_migrate(db):
    # given the database as `migrate` left it (a later migration that rebuilds a SQLite table drops its triggers)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                           "WHERE NOT t.tgisinternal")
        installed = cursor.fetchall()
    # then each evidence table has exactly its triggers (PostgreSQL adds the DELETE refusal)
    found = {}
    for table, name in installed:
        found.setdefault(table, set()).add(name.removeprefix(f"{table}_"))
    expected = {table: names | ({"no_delete"} if connection.vendor == "postgresql" else set())
                for table, names in EVIDENCE_TRIGGERS.items()}
    assert found == expected
    # and the lists the models and migrations use name the same tables
    assert {group.table for group in ALL_GROUPS} == set(EVIDENCE_TRIGGERS)


# -- the ledger is append-only too (a payment's date restarts the limitation period) --------------

def test_the_database_refuses_to_move_or_remove_a_payment_but_lets_its_credit_move(db):
    # given a ¥200.00 charge due 2026-01-05 and ¥50.00 paid on 2026-02-10
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    factories.tariff(community)
    ledger_services.bill(through=date(2026, 1, 1))
    with time_machine.travel(date(2026, 2, 10), tick=False):
        payment = ledger_services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="50.00",
                                                 paid_on=date(2026, 2, 10), method="cash")
    allocation = Allocation.objects.filter(payment=payment).first()
    # when a raw UPDATE tries to move the payment's date, its amount or its owner, or an allocation's date
    _refused("UPDATE ledger_payment SET paid_on = %s WHERE id = %s", [date(2026, 6, 1), payment.pk])
    _refused("UPDATE ledger_payment SET amount = %s WHERE id = %s", ["500.00", payment.pk])
    _refused("UPDATE ledger_allocation SET value_date = %s WHERE id = %s", [date(2026, 6, 1), allocation.pk])
    _refused("UPDATE ledger_allocation SET id = %s WHERE id = %s", [allocation.pk + 1000, allocation.pk])
    if connection.vendor == "postgresql":
        _refused("DELETE FROM ledger_allocation WHERE id = %s", [allocation.pk])
        _refused("DELETE FROM ledger_payment WHERE id = %s", [payment.pk])
    # then the payment is as it was written
    payment.refresh_from_db()
    assert (payment.paid_on, payment.amount) == (date(2026, 2, 10), Decimal("50.00"))
    # and a reversal, which writes new rows and moves only the cached credit, still works
    with time_machine.travel(date(2026, 3, 1), tick=False):
        reversal = ledger_services.reverse_payment(payment_id=payment.pk, reversed_on=date(2026, 3, 1), reason="退票")
    assert Payment.objects.get(pk=payment.pk).unallocated == Decimal("0.00")
    assert sum(row.amount for row in Allocation.objects.filter(payment=payment)) == Decimal("0.00")
    _refused("UPDATE ledger_paymentreversal SET reversed_on = %s WHERE id = %s", [date(2026, 2, 10), reversal.pk])


def test_the_database_refuses_to_swap_two_events_ids_and_hand_one_events_proof_to_the_other(case, attempt, insider):
    # given a proven promise of 2026-05-10 and an unproven one of 2026-06-01
    proven = LimitationEvent.objects.create(community=case.community, unit=case.unit, owner=case.owner, kind="promise",
                                            occurred_on=date(2026, 5, 10), attempt=attempt)
    LimitationProof.objects.create(community=case.community, event=proven, kind="written_acknowledgement",
                                   reference="签收单", added_by=insider, added_at=AT)
    unproven = LimitationEvent.objects.create(community=case.community, unit=case.unit, owner=case.owner, kind="promise",
                                              occurred_on=date(2026, 6, 1))
    # when a raw UPDATE renumbers either row
    _refused("UPDATE collection_limitationevent SET id = %s WHERE id = %s", [unproven.pk + 1000, proven.pk])
    _refused("UPDATE collection_limitationevent SET id = %s WHERE id = %s", [unproven.pk + 1000, unproven.pk])
    _refused("UPDATE collection_contactattempt SET id = %s WHERE id = %s", [attempt.pk + 1000, attempt.pk])
    # then the proof still proves the event it was added to
    assert list(LimitationProof.objects.values_list("event_id", flat=True)) == [proven.pk]
    assert set(LimitationEvent.objects.values_list("pk", flat=True)) == {proven.pk, unproven.pk}


def test_the_database_refuses_to_rewrite_to_whom_and_when_a_message_went_once_sent_or_delivered(case):
    # given an SMS to the owner's own phone, handed to the provider and delivered
    own = Contact.objects.create(community=case.community, owner=case.owner, kind="mobile", value="13900009999")
    spouse = Contact.objects.create(community=case.community, owner=case.owner, kind="mobile", value="13600002222",
                                    relation="spouse")
    message = OutgoingMessage.objects.create(community=case.community, case=case, unit=case.unit, owner=case.owner,
                                             key="case:1:step:overdue_sms", channel="sms", template_code="overdue",
                                             scheduled_on=date(2026, 5, 10), contact=own)
    OutgoingMessage.objects.filter(pk=message.pk).update(status="sent", provider="console", provider_message_id="p1",
                                                         sent_at=AT, handed_at=AT)
    # when a raw UPDATE moves the time it was sent or who it went to
    _refused("UPDATE collection_outgoingmessage SET sent_at = %s WHERE id = %s", [datetime(2026, 4, 1, 10, 0), message.pk])
    _refused("UPDATE collection_outgoingmessage SET contact_id = %s WHERE id = %s", [spouse.pk, message.pk])
    # then the delivery report still arrives, once
    OutgoingMessage.objects.filter(pk=message.pk).update(status="delivered", delivered_at=AT, receipt_code="DELIVRD")
    _refused("UPDATE collection_outgoingmessage SET delivered_at = %s WHERE id = %s", [datetime(2026, 4, 1, 10, 0), message.pk])
    _refused("UPDATE collection_outgoingmessage SET status = %s WHERE id = %s", ["failed", message.pk])
    message.refresh_from_db()
    assert (message.status, message.sent_at, message.delivered_at, message.contact_id) == ("delivered", AT, AT, own.pk)
