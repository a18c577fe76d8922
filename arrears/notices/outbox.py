"""The outbox: send each queued message once, and only once, through the guard and a channel.

How a message is neither lost nor sent twice, whatever dies when:

1. **Fence.** A sender first takes the message's fence and keeps it until the outcome is
   written: on PostgreSQL a session advisory lock keyed on the row (`pg_try_advisory_lock`),
   elsewhere a set of the rows this process is working on. A row whose fence is taken is
   skipped, never waited for. The fence lives as long as the sender's database session, not
   as long as a clock says: a provider call that outlasts the lease still holds it, so a second
   sender never reaches the provider while the first may still be talking to it. A sender that
   dies loses its session, and with it the fence.
2. **Claim.** One conditional UPDATE ("if exactly 1 row was updated") moves a due row from
   `queued` to `sending` with a fresh `claim_token` and `claimed_at` = the clock at that moment
   (never the batch's start). A row left `sending` by a dead sender becomes claimable again
   when its lease (`NOTICES_LEASE_SECONDS`, 300) runs out; the lease restarts at the hand-over.
3. **Ask the guard again** at send time (`message_id` keeps the row from counting against
   itself). Blocked with a later allowed time: back to `queued` for then. Blocked for good:
   `blocked`, with the rule and reason. A case closed meanwhile: `cancelled`.
4. **Freeze the text** before the first hand-over: rendered once from the ledger of that day,
   with its SHA-256. Retries and recovery send exactly that text.
5. **Hand over.** `handed_at` is committed *before* the provider is called, and the provider
   gets the row's key as its out-id. Only a write fenced by the claim token records the result.
6. **Recover.** A claimed row whose `handed_at` is set but has no result was possibly accepted
   by the provider before the sender died (or before a timeout). It is never simply resent: the
   backend's `lookup` asks the provider for the out-id. Found: recorded as sent. Not there: sent
   now. The provider cannot tell (console, email): `failed` with "结果不明", for a person to
   check and resend — at most once is the rule when the facts cannot be known.

Two walls, each enough alone: the fence (a live session) and the lease, which outlasts every
configured backend's longest call by its timeouts (system check `notices.E001`). A message goes
out twice only if a sender's session is lost *and* its call outlives the lease. The PostgreSQL
fence needs session-level locks: a pooler in front of the database must pool sessions, not
transactions. On SQLite (one machine, the embedded default) the fence covers the threads of
one process; between processes the lease alone separates senders.

Provider errors marked transient are retried with exponential backoff up to
`NOTICES_MAX_ATTEMPTS`, then the row is `failed`; permanent errors fail at once. Failed rows
show on the case and on the outbox page, where a person may resend (a new row: the old one
stays as the record).

WeChat first, SMS as the fallback: a WeChat message that WeChat refuses for good (the owner
unsubscribed or refused the template, no WeChat template or openid) is `failed`, and in the same
transaction a new SMS row `<key>:sms` is queued for the same owner, case and template, pointing
back at it by its events. It goes through every step above like any message (the guard at send
time, its own key, its own frozen text), so a message the guard refuses goes by neither channel.
A WeChat message that gave up after its retries, none of which can have reached WeChat (the token
endpoint down all day), is queued by SMS the same way. A WeChat send that may have gone out (a
timeout, a lost answer) is never followed by an SMS.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from arrears.collection import guard
from arrears.collection.models import (
    CaseStatus,
    Channel,
    MessageStatus,
    OutgoingMessage,
    Promise,
)
from arrears.collection.run import CONTACT_KIND, wechat_first
from arrears.core.errors import DomainError
from arrears.estate.models import Contact, ContactRelation

from . import channels, texts
from .context import message_context
from .models import EventKind, MessageEvent

logger = logging.getLogger("arrears.notices.outbox")

SENDABLE = frozenset({Channel.SMS, Channel.WECHAT, Channel.EMAIL})
# Sent after a case closed on purpose: thanks and the satisfaction follow-up.
AFTER_CLOSE_TEMPLATES = frozenset({"thanks_payment", "satisfaction"})
RESENDABLE = frozenset({MessageStatus.FAILED, MessageStatus.UNDELIVERED, MessageStatus.BLOCKED})


def lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "NOTICES_LEASE_SECONDS", 300))


def check_lease(app_configs=None, **kwargs) -> list:
    """System check: the lease outlasts the longest call of every configured channel's backend.

    Where the fence cannot reach (SQLite between processes), the lease is what keeps a second
    sender away from a message still with the provider; everywhere it gives the provider time to
    list a message before a recovering sender asks for it.
    """
    from django.core import checks
    from django.core.exceptions import ImproperlyConfigured

    errors = []
    for channel in getattr(settings, "NOTICES_CHANNELS", {}) or {}:
        try:
            longest = channels.backend_for(channel).longest_call()
        except (ImproperlyConfigured, ImportError):
            continue  # reported when the backend is used; nothing to compare here
        if longest >= lease().total_seconds():
            errors.append(checks.Error(
                f"NOTICES_LEASE_SECONDS ({lease().total_seconds():.0f}) must be longer than the longest "
                f"{channel} provider call ({longest:.0f} s by its timeouts)",
                hint="Raise NOTICES_LEASE_SECONDS or lower the backend's timeouts.",
                id="notices.E001",
            ))
    return errors


def max_attempts() -> int:
    return getattr(settings, "NOTICES_MAX_ATTEMPTS", 5)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after the n-th failed try, at most 6 hours."""
    base = getattr(settings, "NOTICES_BACKOFF_SECONDS", 60)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def _due(now: datetime) -> Q:
    waiting = (
        Q(status=MessageStatus.QUEUED)
        & (Q(not_before__isnull=True) | Q(not_before__lte=now))
        & (Q(next_try_at__isnull=True) | Q(next_try_at__lte=now))
    )
    abandoned = Q(status=MessageStatus.SENDING, claimed_at__lt=now - lease())
    return Q(channel__in=SENDABLE) & (waiting | abandoned)


def due_ids(now: datetime, limit: int = 500, *, scope: QuerySet | None = None) -> list[int]:
    due = OutgoingMessage.objects.filter(_due(now))
    if scope is not None:
        due = due.filter(pk__in=scope.values("pk"))
    return list(due.order_by("not_before", "pk").values_list("pk", flat=True)[:limit])


def dispatch(*, now: datetime | None = None, limit: int = 500, scope: QuerySet | None = None) -> Counter:
    """Send what is due; returns how many ended how ("sent", "retry", "failed", "blocked", …).

    `scope` is the rows the caller may send (a staff member's: `selectors.messages_visible_to`);
    None sends every community's (the scheduled task, the operator's command). `now` freezes the
    clock (tests); without it each message is claimed at the moment of its own claim.
    """
    outcomes = Counter()
    for message_id in due_ids(now or timezone.now(), limit, scope=scope):
        outcomes[send_message(message_id, now=now)] += 1
    return outcomes


# The fence's lock space for pg_try_advisory_lock(int, int): the outbox's own, beside any other.
FENCE_SPACE = 0x6F7574  # "out"
_in_hand: set[int] = set()  # the fence without PostgreSQL: rows this process is working on
_in_hand_lock = threading.Lock()


@contextmanager
def _fence(message_id: int) -> Iterator[bool]:
    """Hold the message's fence while this sender works on it; yields False when another holds it."""
    if connection.vendor == "postgresql":
        key = [FENCE_SPACE, message_id & 0x7FFFFFFF]  # a collision only makes one sender skip
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
            held = cursor.fetchone()[0]
        try:
            yield held
        finally:
            if held:
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
                except DatabaseError:  # the session is gone, and its locks with it
                    logger.warning("outbox fence of message %s released with its session", message_id)
        return
    with _in_hand_lock:
        held = message_id not in _in_hand
        _in_hand.add(message_id)
    try:
        yield held
    finally:
        if held:
            with _in_hand_lock:
                _in_hand.discard(message_id)


def _event(message, kind, at, detail="", actor=None) -> None:
    MessageEvent.objects.create(community_id=message.community_id, message=message, at=at, kind=kind,
                                detail=str(detail)[:300], actor=actor)


def fallback_key(key: str) -> str:
    """The key of a WeChat message's SMS fallback (the outbox key column holds 100 characters)."""
    return f"{key}:sms"[:100]


def _fall_back(message, at: datetime) -> OutgoingMessage | None:
    """Queue the same message by SMS after WeChat refused it for good; called inside the failing write."""
    key = fallback_key(message.key)
    if OutgoingMessage.objects.filter(key=key).exists():
        return None
    copy = OutgoingMessage.objects.create(
        community_id=message.community_id, case_id=message.case_id, unit_id=message.unit_id, owner_id=message.owner_id,
        key=key, channel=Channel.SMS, step_id=message.step_id, template_code=message.template_code,
        scheduled_on=timezone.localdate(at), not_before=at,
    )
    _event(message, EventKind.FALLBACK, at, f"→ #{copy.pk}")
    _event(copy, EventKind.FALLBACK, at, f"← #{message.pk}")
    return copy


def _fail(message, token: str, at: datetime, detail: str, *, hand_over: bool = False, **fields) -> None:
    """Record a failure; a WeChat message that cannot have gone out is queued again by SMS."""
    finish = _finish_hand_over if hand_over else _finish
    with transaction.atomic():
        done = finish(message, token, at, EventKind.FAILED, detail, status=MessageStatus.FAILED,
                      last_error=detail[:300], claim_token="", **fields)
        if done and message.channel == Channel.WECHAT:
            _fall_back(message, at)


def _finish(message, token: str, at: datetime, kind: str, detail: str = "", **fields) -> bool:
    """Write the outcome only if our claim still holds (a slower worker must not overwrite a newer one)."""
    with transaction.atomic():
        done = OutgoingMessage.objects.filter(pk=message.pk, claim_token=token).update(**fields)
        if done:
            _event(message, kind, at, detail)
    return bool(done)


# What a hand-over's outcome may still write once a delivery report has come in ahead of it.
_AFTER_REPORT = frozenset({"provider", "provider_message_id", "sent_at", "claim_token", "last_error"})


def _finish_hand_over(message, token: str, at: datetime, kind: str, detail: str = "", **fields) -> bool:
    """`_finish` for the provider's answer. A fast provider may push its delivery report (matched by
    our out-id) before its send call returns: the report's status stands (a delivered row's status is
    frozen; an undelivered one must stay in the attention list), and the hand-over adds only who took
    it and when, and gives up the claim."""
    with transaction.atomic():
        done = OutgoingMessage.objects.filter(pk=message.pk, claim_token=token, status=MessageStatus.SENDING).update(**fields)
        if not done:
            kept = {name: value for name, value in fields.items() if name in _AFTER_REPORT}
            done = OutgoingMessage.objects.filter(
                pk=message.pk, claim_token=token, status__in=(MessageStatus.DELIVERED, MessageStatus.UNDELIVERED),
            ).update(**{**kept, "claim_token": ""})
        if done:
            _event(message, kind, at, detail)
    return bool(done)


def _outbound(message, template, backend) -> channels.Outbound:
    return channels.Outbound(
        key=message.key, channel=message.channel, to=message.recipient, body=message.body, subject=message.subject,
        template_code=message.template_code,
        provider_template=(template.provider_codes or {}).get(backend.name, "") if template else "",
        params=dict(message.params or {}), sign_name=_sign_name(message),
    )


def _sign_name(message) -> str:
    return getattr(settings, "NOTICES_SMS_SIGN_NAME", "") or message.community.company.name


def _recipient(message) -> str:
    if message.contact_id is not None and message.contact.owner_id == message.owner_id:
        return message.contact.value.strip()
    contact = (
        Contact.objects.filter(owner_id=message.owner_id, relation=ContactRelation.SELF, kind=CONTACT_KIND[message.channel])
        .order_by("pk").first()
    )
    if contact is None:
        return ""
    OutgoingMessage.objects.filter(pk=message.pk).update(contact=contact)
    return contact.value.strip()


def _freeze(message, template, now: datetime) -> None:
    """Render once: the text that may reach the owner is fixed before anything is handed over."""
    promise = None
    if message.template_code == "promise_reminder" and message.case_id:
        promise = Promise.objects.filter(case_id=message.case_id, due_on__gt=timezone.localdate(now)).order_by("due_on").first()
    context = message_context(unit=message.unit, owner=message.owner, template_code=message.template_code,
                              today=timezone.localdate(now), case=message.case, promise=promise)
    used = texts.placeholders_in(template.body) + texts.placeholders_in(template.subject)
    body = texts.render(texts.without_online_promise(template.body, online=texts.online_payment()), context)
    if message.channel == Channel.SMS:
        body = f"【{_sign_name(message)}】{body}"
    message.body, message.subject = body, texts.render(template.subject, context)
    message.body_sha256 = hashlib.sha256(body.encode()).hexdigest()
    # The provider's approved template gets the same values, in the order the text uses them.
    message.params = {name: context.get(name, "") for name in dict.fromkeys(used)}
    OutgoingMessage.objects.filter(pk=message.pk).update(
        body=message.body, subject=message.subject, body_sha256=message.body_sha256, recipient=message.recipient,
        params=message.params,
    )
    _event(message, EventKind.RENDERED, now, f"SHA-256 {message.body_sha256[:16]}…")


def send_message(message_id: int, *, now: datetime | None = None) -> str:
    """Fence, claim, check, freeze, hand over and record one message; returns the outcome's name."""
    clock: Callable[[], datetime] = (lambda: now) if now else timezone.now
    with _fence(message_id) as held:
        if not held:
            return "skipped"  # another sender is working on it right now
        return _send(message_id, clock)


def _send(message_id: int, clock: Callable[[], datetime]) -> str:
    now = clock()  # the moment of this message's claim: its lease runs from here
    token = uuid.uuid4().hex
    claimed = OutgoingMessage.objects.filter(_due(now), pk=message_id).update(
        status=MessageStatus.SENDING, claimed_at=now, claim_token=token,
    )
    if claimed != 1:
        return "skipped"
    message = OutgoingMessage.objects.select_related(
        "community__company", "unit__building", "unit__community__company", "owner", "contact", "case",
    ).get(pk=message_id)
    template = texts.template_for(message.community_id, message.template_code, message.channel)
    backend = channels.backend_for(message.channel)

    if message.handed_at is not None and message.sent_at is None:
        outcome = _recover(message, template, backend, token, now)
        if outcome:
            return outcome
    if message.case_id and message.case.status != CaseStatus.OPEN and message.template_code not in AFTER_CLOSE_TEMPLATES:
        _finish(message, token, now, EventKind.CANCELLED, "案件已结案，无需发送 / the case is closed",
                status=MessageStatus.CANCELLED, claim_token="")
        return "cancelled"
    if message.channel == Channel.WECHAT and not wechat_first():
        # Switched back to the console with WeChat messages queued: never "sent" to a console, by SMS instead.
        _fail(message, token, now, "微信公众号未配置（ARREARS_WECHAT_BACKEND），改发短信 / "
                                   "the WeChat official account is not configured: sent by SMS instead")
        return "failed"
    if template is None:
        detail = f"没有可用的模板：{message.template_code}（{message.get_channel_display()}） / no active template"
        _fail(message, token, now, detail)
        return "failed"
    decision = guard.check_contact(guard.ContactRequest(
        owner_id=message.owner_id, unit_id=message.unit_id, channel=message.channel, at=now, case_id=message.case_id,
        contact_id=message.contact_id, neutral=template.neutral, message_id=message.pk,
    ))
    if not decision.allowed:
        if decision.next_allowed is not None:
            at = f"{decision.next_allowed:%Y-%m-%d %H:%M}"  # in both halves: a page shows one of them
            _finish(message, token, now, EventKind.RESCHEDULED, f"{decision.reason_zh} → {at} / {decision.reason_en} → {at}",
                    status=MessageStatus.QUEUED, not_before=decision.next_allowed, claim_token="")
            return "rescheduled"
        _finish(message, token, now, EventKind.BLOCKED, decision.reason, status=MessageStatus.BLOCKED,
                blocked_rule=str(decision.rule), blocked_reason=decision.reason[:300], claim_token="")
        return "blocked"

    if not message.body:
        message.recipient = _recipient(message)
        if not message.recipient:
            detail = f"业主没有可用的{message.get_channel_display()}联系方式 / the owner has no {message.channel} contact"
            _fail(message, token, now, detail)
            return "failed"
        _freeze(message, template, now)
    return _hand_over(message, template, backend, token, clock)


def _hand_over(message, template, backend, token, clock) -> str:
    outbound = _outbound(message, template, backend)
    handed_at = clock()
    # The lease restarts here: checks and rendering must not eat into the provider call's time.
    handed = OutgoingMessage.objects.filter(pk=message.pk, claim_token=token).update(
        handed_at=handed_at, claimed_at=handed_at, attempts=F("attempts") + 1,
    )
    if handed != 1:
        return "skipped"
    attempts = message.attempts + 1
    try:
        result = backend.send(outbound)
    except channels.PermanentError as exc:
        now = clock()
        detail = f"{exc.code} {exc}".strip()
        _fail(message, token, now, detail, hand_over=True, handed_at=None)
        return "failed"
    except channels.TransientError as exc:
        now = clock()
        detail = f"{exc.code} {exc}".strip()
        # A timeout may have reached the provider: keep handed_at, so the next try asks first.
        kept = handed_at if exc.in_doubt else None
        if attempts >= max_attempts() and not exc.in_doubt and message.channel == Channel.WECHAT:
            # Every try failed before WeChat could take it (a try in doubt is asked about first, above):
            # the owner is reminded by SMS rather than not at all.
            _fail(message, token, now, f"第 {attempts} 次仍失败，改发短信 / gave up, sent by SMS instead: {detail}",
                  hand_over=True, handed_at=None)
            return "failed"
        if attempts >= max_attempts():
            _finish_hand_over(message, token, now, EventKind.FAILED, f"第 {attempts} 次仍失败，不再重试 / gave up: {detail}",
                    status=MessageStatus.FAILED, last_error=detail[:300], handed_at=kept, claim_token="")
            return "failed"
        retry_at = now + backoff(attempts)
        _finish_hand_over(message, token, now, EventKind.RETRY, f"{detail} → {retry_at:%Y-%m-%d %H:%M:%S}",
                status=MessageStatus.QUEUED, next_try_at=retry_at, last_error=detail[:300], handed_at=kept,
                claim_token="")
        return "retry"
    now = clock()
    _finish_hand_over(message, token, now, EventKind.SENT, f"{result.provider} {result.provider_message_id}",
            status=MessageStatus.SENT, provider=result.provider, provider_message_id=result.provider_message_id[:100],
            sent_at=now, claim_token="", last_error="")
    return "sent"


def _recover(message, template, backend, token, now) -> str | None:
    """The previous hand-over has no recorded result: ask the provider before sending again."""
    outbound = _outbound(message, template, backend)
    try:
        found = backend.lookup(outbound, message.handed_at - timedelta(minutes=5))
    except channels.LookupUnsupported:
        detail = "发送结果不明：服务商无法查询，请核实业主是否收到后再人工重发 / outcome unknown: check, then resend by hand"
        _finish_hand_over(message, token, now, EventKind.FAILED, detail, status=MessageStatus.FAILED, last_error=detail[:300],
                claim_token="")
        return "unknown"
    except channels.ChannelError as exc:
        retry_at = now + backoff(message.attempts)
        _finish_hand_over(message, token, now, EventKind.RETRY, f"核实失败 / lookup failed: {exc}", status=MessageStatus.QUEUED,
                next_try_at=retry_at, last_error=str(exc)[:300], claim_token="")
        return "retry"
    if found is not None:
        _finish_hand_over(message, token, now, EventKind.RECOVERED,
                f"服务商已有此消息，不再重发 / the provider has it: {found.provider_message_id}",
                status=MessageStatus.SENT, provider=found.provider, provider_message_id=found.provider_message_id[:100],
                sent_at=message.handed_at, claim_token="")
        return "recovered"
    OutgoingMessage.objects.filter(pk=message.pk, claim_token=token).update(handed_at=None)
    _event(message, EventKind.RECOVERED, now, "服务商没有此消息，现在发送 / not at the provider: sending now")
    message.handed_at = None
    return None


# ----------------------------------------------------------------------------- receipts


def apply_receipts(receipts) -> tuple[int, int]:
    """Record delivery reports; a repeated report changes nothing. Returns (applied, unmatched)."""
    applied = unmatched = 0
    for receipt in receipts:
        message = None
        if receipt.provider_message_id:
            message = OutgoingMessage.objects.filter(provider=receipt.provider,
                                                     provider_message_id=receipt.provider_message_id).first()
        if message is None and receipt.key:  # providers that echo our out-id (Aliyun)
            message = OutgoingMessage.objects.filter(key=receipt.key).first()
        if message is None:
            unmatched += 1
            logger.warning("receipt for unknown message %s %s", receipt.provider, receipt.provider_message_id)
            continue
        status = MessageStatus.DELIVERED if receipt.delivered else MessageStatus.UNDELIVERED
        if message.status == status:
            continue
        if not _takes_reports(message):
            continue  # delivered stays delivered; a late failure report cannot undo a delivery
        at = receipt.at or timezone.now()
        with transaction.atomic():
            # Only if it still takes reports: a sender may have moved it since it was read.
            done = OutgoingMessage.objects.filter(_TAKES_REPORTS, pk=message.pk).update(
                status=status, delivered_at=at if receipt.delivered else None,
                receipt_code=receipt.code[:60], receipt_description=receipt.description[:200],
            )
            if done:
                _event(message, EventKind.DELIVERED if receipt.delivered else EventKind.UNDELIVERED, at,
                       f"{receipt.code} {receipt.description}".strip())
        applied += bool(done)
    return applied, unmatched


# A report can arrive for a message handed over: sent, being sent, reported undelivered, or back in
# the queue after a call that may have reached the provider (handed_at kept). The last must not be
# dropped: it is the provider saying it has the message, so the retry must not send it again.
_TAKES_REPORTS = Q(status__in=(MessageStatus.SENT, MessageStatus.SENDING, MessageStatus.UNDELIVERED)) | Q(
    status=MessageStatus.QUEUED, handed_at__isnull=False)


def _takes_reports(message) -> bool:
    return message.status in (MessageStatus.SENT, MessageStatus.SENDING, MessageStatus.UNDELIVERED) or (
        message.status == MessageStatus.QUEUED and message.handed_at is not None)


# ----------------------------------------------------------------------------- resend


def resend(message: OutgoingMessage, *, staff, now: datetime | None = None) -> OutgoingMessage:
    """Queue a failed, undelivered or blocked message again as a new row; the old one stays as it was."""
    now = now or timezone.now()
    if message.status not in RESENDABLE:
        raise DomainError(f"只有发送失败、未送达或被拦截的消息可以重发（当前：{message.get_status_display()}）",
                          f"only failed, undelivered or blocked messages can be resent (now {message.status})",
                          code="resend_status")
    if message.case_id and message.case.status != CaseStatus.OPEN and message.template_code not in AFTER_CLOSE_TEMPLATES:
        raise DomainError("案件已结案，无需重发", "the case is closed: nothing to resend", code="case_closed")
    with transaction.atomic():
        # A second press of "resend" (or two staff at once) must not queue the owner's message twice:
        # the original's row lock orders them, and a copy still on its way refuses the second.
        OutgoingMessage.objects.select_for_update().filter(pk=message.pk).first()
        copies = OutgoingMessage.objects.filter(key__startswith=f"{message.key}:resend:")
        # A WeChat message already going out by SMS (its fallback) is not queued again either.
        fallback = OutgoingMessage.objects.filter(key=fallback_key(message.key))
        pending = (copies | fallback).exclude(status__in=RESENDABLE | {MessageStatus.CANCELLED}).order_by("pk").first()
        if pending is not None:
            raise DomainError(f"这条消息已重新排队（新消息 #{pending.pk}，{pending.get_status_display()}），请勿重复重发",
                              f"this message was already queued again (#{pending.pk}, {pending.status}): not resent twice",
                              code="resend_pending")
        count = copies.count()
        copy = OutgoingMessage.objects.create(
            community_id=message.community_id, case_id=message.case_id, unit_id=message.unit_id, owner_id=message.owner_id,
            contact_id=message.contact_id, key=f"{message.key}:resend:{count + 1}"[:100], channel=message.channel,
            step_id=message.step_id, template_code=message.template_code, scheduled_on=timezone.localdate(now),
            not_before=now,
        )
        _event(message, EventKind.RESEND, now, f"→ #{copy.pk}", actor=staff)
        _event(copy, EventKind.RESEND, now, f"← #{message.pk}", actor=staff)
    return copy
