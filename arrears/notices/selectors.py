"""Read-side of notices for the staff pages: the unit's evidence timeline, letter lists."""

from __future__ import annotations

from arrears.collection.models import MessageStatus, OutgoingMessage
from arrears.collection.selectors import TimelineEntry
from arrears.ledger.models import Payment

from .models import Letter, LetterStatus

# A queued message is a plan, not evidence: the timeline shows what happened.
SHOWN_MESSAGE_STATUSES = [s for s in MessageStatus.values if s not in (MessageStatus.QUEUED, MessageStatus.SENDING)]


def timeline_entries(unit_id: int, *, with_payments: bool) -> list[TimelineEntry]:
    """Messages and letters (with delivery state and frozen content) and, if shown, payments."""
    entries = [
        TimelineEntry(m.sent_at or m.created_at, "message", m)
        for m in OutgoingMessage.objects.filter(unit_id=unit_id, status__in=SHOWN_MESSAGE_STATUSES).order_by("-created_at", "-pk")[:100]
    ]
    entries += [
        TimelineEntry(letter.delivered_on or letter.issued_on, "letter", letter)
        for letter in Letter.objects.filter(unit_id=unit_id).exclude(status=LetterStatus.CANCELLED)
        .order_by("-issued_on", "-pk")[:50]
    ]
    if with_payments:
        entries += [
            TimelineEntry(p.paid_on, "payment", p)
            for p in Payment.objects.filter(unit_id=unit_id).select_related("reversal").order_by("-paid_on", "-pk")[:50]
        ]
    return entries


def letters_visible_to(user, units):
    return Letter.objects.filter(unit__in=units)
