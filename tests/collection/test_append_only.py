"""Evidence is append-only (DESIGN.md §3): the ORM refuses, and the database refuses again for any client.

Every test runs on the database at hand: run the file on SQLite and on PostgreSQL
(DATABASE_URL=postgres://…). The raw SQL goes around the ORM on purpose: it is what a script, a
console session or another program would send.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import QuerySet

from arrears.collection import append_only as collection_columns
from arrears.collection.models import (
    AttemptAttachment,
    ContactAttempt,
    LimitationEvent,
    OutgoingMessage,
)
from arrears.core import append_only as core_columns
from arrears.core.db import plpgsql_body, sqlite_trigger
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent, record
from arrears.notices import append_only as notices_columns

AT = datetime(2026, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ALL_GROUPS = [group for module in (collection_columns, notices_columns, core_columns)
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
