"""Write endpoints: the staff site's services, with the same permission and scope checks.

Payments need an `Idempotency-Key` (IETF draft "The Idempotency-Key HTTP Header Field"); the
other writes honour one when sent. A repeat with the same key and body gets the first answer
(`Idempotent-Replayed: true`); the same key with another body is refused.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header

from arrears.api import schemas as s
from arrears.api.models import IdempotentRequest
from arrears.api.problems import Problem
from arrears.api.reads import (  # one router: GET and POST /payments share a path
    _require,
    _unit_in_scope,
    router,
)
from arrears.collection import services as collection_services
from arrears.collection import tickets as ticket_service
from arrears.collection.models import Case, CaseStatus
from arrears.core.errors import DomainError
from arrears.core.money import format_money
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Contact
from arrears.portal import cashier as desk

API_CHANNEL_LABEL = "接口对接"  # on the receipt: the money came from the finance system, not the desk
KEY_LIMIT = 200


def _key(raw: str | None, *, required: bool) -> str | None:
    if raw is None or raw == "":
        if required:
            raise Problem(400, "idempotency_key_missing",
                          _("收款请求须带 Idempotency-Key 头（每笔收款一个唯一值，例如 UUID），重试时原样再发"))
        return None
    if len(raw) > KEY_LIMIT or not raw.isascii() or not raw.isprintable():
        raise Problem(400, "idempotency_key_invalid", _("Idempotency-Key 须为不超过 200 个可打印 ASCII 字符"))
    return raw


def _fingerprint(operation: str, body: dict) -> str:
    text = json.dumps({"operation": operation, "body": body}, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _answer(status: int, payload: dict, *, replayed: bool = False) -> HttpResponse:
    response = HttpResponse(json.dumps(payload, ensure_ascii=False), status=status, content_type="application/json")
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def idempotent(request, *, operation: str, key: str | None, body: dict, run) -> HttpResponse:
    """Run `run()` → (status, payload, community_id) once per (user, key); replay its answer after.

    The key's row is inserted first, in the write's transaction: a concurrent repeat waits on the
    unique index until the first commits, then reads its answer. A refused write rolls the row
    back with it, so the key is free again once the cause is fixed.
    """
    if key is None:
        status, payload, _community = run()
        return _answer(status, payload)
    fingerprint = _fingerprint(operation, body)
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = IdempotentRequest.objects.create(user=request.user, key=key, operation=operation,
                                                       fingerprint=fingerprint, status=0, response={})
        except IntegrityError:
            first = IdempotentRequest.objects.get(user=request.user, key=key)
            if first.fingerprint != fingerprint or first.status == 0:
                raise Problem(422, "idempotency_key_reused",
                              _("这个 Idempotency-Key 已用于另一个请求：新的请求请用新的键")) from None
            return _answer(first.status, first.response, replayed=True)
        status, payload, community_id = run()
        IdempotentRequest.objects.filter(pk=row.pk).update(status=status, response=payload, community_id=community_id)
    return _answer(status, payload)


def _dump(schema, data: dict) -> dict:
    return schema(**data).model_dump(mode="json")


def _duplicate_is_conflict(error: DomainError) -> Problem:
    status = 409 if error.code in ("duplicate", "reference", "duplicate_reference") else 422
    return Problem(status, error.code, error.localized)


# ---- payments ------------------------------------------------------------------------------------


@router.post("/payments", response={201: s.PaymentCreated}, tags=["ledger"],
             summary="Record money received (needs Idempotency-Key)",
             openapi_extra={"responses": {400: {"description": "missing or invalid Idempotency-Key"},
                                          409: {"description": "the same transaction reference was taken before"},
                                          422: {"description": "refused: the detail says why"}}})
def create_payment(request, body: s.PaymentIn, idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    user = request.user
    _require(user, "ledger.add_payment")
    key = _key(idempotency_key, required=True)
    unit = _unit_in_scope(user, body.unit_id)
    data = body.model_dump(mode="json")

    refused: list[DomainError] = []

    def run():
        try:
            payment = desk.take_payment(
                unit_id=unit.pk, owner_id=body.owner_id, amount=Decimal(body.amount), method=body.method,
                paid_on=body.paid_on, reference=body.reference, operator=user, key=f"api:{user.pk}:{key}",
                charge_ids=body.charge_ids, channel_label=API_CHANNEL_LABEL,
            )
        except DomainError as error:
            refused.append(error)
            raise _duplicate_is_conflict(error) from None
        still_open = Case.objects.filter(unit_id=unit.pk, owner_id=body.owner_id, status=CaseStatus.OPEN).exists()
        return 201, _dump(s.PaymentCreated, {
            "id": payment.pk, "receipt_number": payment.receipt_number, "amount": format_money(payment.amount),
            "unallocated": format_money(payment.unallocated), "case_open": still_open}), unit.community_id

    try:
        return idempotent(request, operation="payment", key=key, body=data, run=run)
    except Problem:
        # As at the cashier page: a second entry of the same money stays in the audit log (after
        # the write's rollback), for a reviewer to find a pattern of them.
        for error in refused:
            desk.record_refusal(operator=user, unit=unit, error=error, step="api", method=body.method,
                                reference=body.reference)
        raise


# ---- collection --------------------------------------------------------------------------------


def _open_case(user, case_id: s.Id) -> Case:
    """An open case in the user's scope, as the unit page's case section finds it."""
    cases = Case.objects.filter(estate_selectors.scope_q(user), status=CaseStatus.OPEN)
    return get_object_or_404(cases.select_related("unit__building", "owner"), pk=case_id)


@router.post("/cases/{case_id}/attempts", response={201: s.AttemptOut}, tags=["collection"],
             summary="Log a contact attempt (the compliance guard judges it; a broken rule is recorded, not hidden)")
def create_attempt(request, case_id: s.Id, body: s.AttemptIn,
                   idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    user = request.user
    _require(user, "collection.add_contactattempt")
    key = _key(idempotency_key, required=False)
    case = _open_case(user, case_id)
    contact = None
    if body.contact_id is not None:
        contact = Contact.objects.filter(owner_id=case.owner_id, pk=body.contact_id).first()
        if contact is None:
            raise Problem(422, "contact", _("联系方式不属于该案件的业主"))
    at = body.at
    if at is not None and timezone.is_naive(at):
        at = timezone.make_aware(at)  # a time without an offset is Beijing time, as on the pages

    def run():
        attempt = collection_services.log_attempt(
            unit=case.unit, owner=case.owner, case=case, channel=body.channel, outcome=body.outcome, staff=user,
            at=at, contact=contact, reason=body.reason, notes=body.notes,
            promise_amount=Decimal(body.promise_amount) if body.promise_amount else None, promise_due=body.promise_due,
        )
        return 201, _dump(s.AttemptOut, {
            "id": attempt.pk, "case_id": attempt.case_id, "channel": attempt.channel, "outcome": attempt.outcome,
            "at": attempt.at, "third_party": attempt.third_party, "violation_rule": attempt.violation_rule,
            "violation_reason": attempt.violation_reason}), case.community_id

    return idempotent(request, operation=f"attempt:{case.pk}", key=key, body=body.model_dump(mode="json"), run=run)


@router.post("/cases/{case_id}/promises", response={201: s.PromiseOut}, tags=["collection"],
             summary="Record the owner's promise to pay (amount and date, at most 60 days ahead)")
def create_promise(request, case_id: s.Id, body: s.PromiseIn,
                   idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    user = request.user
    _require(user, "collection.add_promise")
    key = _key(idempotency_key, required=False)
    case = _open_case(user, case_id)

    def run():
        promise = collection_services.make_promise(case=case, amount=Decimal(body.amount), due_on=body.due_on,
                                                   staff=user)
        return 201, _dump(s.PromiseOut, {
            "id": promise.pk, "case_id": promise.case_id, "amount": format_money(promise.amount), "due_on": promise.due_on,
            "made_on": promise.made_on, "status": promise.status}), case.community_id

    return idempotent(request, operation=f"promise:{case.pk}", key=key, body=body.model_dump(mode="json"), run=run)


# ---- service tickets --------------------------------------------------------------------------


@router.post("/units/{unit_id}/tickets", response={201: s.TicketOut}, tags=["estate"],
             summary="Open a service ticket on a unit (a repair or complaint pauses collection on it)")
def create_ticket(request, unit_id: s.Id, body: s.TicketIn,
                  idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    user = request.user
    _require(user, "estate.add_serviceticket")
    key = _key(idempotency_key, required=False)
    unit = _unit_in_scope(user, unit_id)

    def run():
        ticket = ticket_service.open_ticket(unit=unit, kind=body.kind, summary=body.summary, staff=user,
                                            opened_on=timezone.localdate(), due_on=body.due_on)
        return 201, _dump(s.TicketOut, {
            "id": ticket.pk, "community_id": ticket.community_id, "unit_id": ticket.unit_id, "kind": ticket.kind,
            "summary": ticket.summary, "opened_on": ticket.opened_on, "due_on": ticket.due_on,
            "status": ticket.status}), unit.community_id

    return idempotent(request, operation=f"ticket:{unit.pk}", key=key, body=body.model_dump(mode="json"), run=run)
