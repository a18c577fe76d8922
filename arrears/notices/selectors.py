"""Reads for the outbox and template pages, always through the staff member's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet

from arrears.collection.models import MessageStatus, OutgoingMessage
from arrears.collection.selectors import TimelineEntry
from arrears.core.text import normalise_key
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Community, Company
from arrears.ledger.models import Payment

from . import texts
from .models import Letter, LetterStatus, MessageEvent, NoticeTemplate


@dataclass(frozen=True)
class OutboxFilters:
    status: str = ""
    channel: str = ""
    community: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""


def messages_visible_to(user) -> QuerySet[OutgoingMessage]:
    """Outbox rows of the units the user sees (a building-scoped user sees that building's only)."""
    return OutgoingMessage.objects.filter(unit__in=estate_selectors.units_visible_to(user))


def _filtered(user, filters: OutboxFilters, *, today: date) -> QuerySet[OutgoingMessage]:
    found = messages_visible_to(user)
    if filters.channel:
        found = found.filter(channel=filters.channel)
    if filters.community:
        found = found.filter(community_id=filters.community)
    if filters.date_from:
        found = found.filter(scheduled_on__gte=filters.date_from)
    if filters.date_to:
        found = found.filter(scheduled_on__lte=filters.date_to)
    text = normalise_key(filters.q)
    if text:
        units = estate_selectors.search_units(user, text, today=today).order_by().values("pk")
        # a template is searched by its code or by its label as the page shows it (催费函, Collection letter)
        labelled = [code for code, label in texts.TEMPLATE_LABELS.items() if text.casefold() in str(label).casefold()]
        found = found.filter(Q(unit__in=units) | Q(template_code__icontains=text) | Q(template_code__in=labelled)
                             | Q(owner__name__icontains=text))
    return found


def outbox_page(user, filters: OutboxFilters, *, today: date) -> tuple[QuerySet[OutgoingMessage], dict[str, int]]:
    """The rows to list (newest first) and how many there are per status under the other filters."""
    found = _filtered(user, filters, today=today)
    counts = dict(found.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    if filters.status:
        found = found.filter(status=filters.status)
    rows = found.select_related("unit__building", "unit__community", "owner").order_by("-scheduled_on", "-pk")
    return rows, counts


def message_detail(user, pk: int) -> OutgoingMessage | None:
    related = ("unit__building", "unit__community", "owner", "case")
    return messages_visible_to(user).select_related(*related).filter(pk=pk).first()


def message_events(message: OutgoingMessage) -> list[MessageEvent]:
    return list(MessageEvent.objects.filter(message=message).select_related("actor").order_by("at", "pk"))


def templates_visible_to(user) -> QuerySet[NoticeTemplate]:
    """The default templates and the overrides of the user's communities, by code and channel, default first."""
    communities = estate_selectors.communities_visible_to(user)
    return (
        NoticeTemplate.objects.filter(Q(community__isnull=True) | Q(community__in=communities))
        .select_related("community")
        .order_by("code", "channel", F("community__name").asc(nulls_first=True), "pk")
    )


def sees_every_community(user) -> bool:
    """Default templates speak for every community: only someone who sees them all may change them."""
    if user.is_superuser:
        return True
    return not Community.objects.exclude(pk__in=estate_selectors.communities_visible_to(user).values("pk")).exists()


def sign_name(template: NoticeTemplate, user) -> str:
    """The SMS signature a template goes out under: the configured one, else the company's name."""
    configured = getattr(settings, "NOTICES_SMS_SIGN_NAME", "")
    if configured:
        return configured
    if template.community_id is not None:
        return template.community.company.name
    name = estate_selectors.company_name_of(user)
    if name:
        return name
    first = Company.objects.order_by("pk").values_list("name", flat=True).first()
    return first or ""


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
        .prefetch_related("delivery_corrections").order_by("-issued_on", "-pk")[:50]
    ]
    if with_payments:
        entries += [
            TimelineEntry(p.paid_on, "payment", p)
            for p in Payment.objects.filter(unit_id=unit_id).select_related("reversal").order_by("-paid_on", "-pk")[:50]
        ]
    return entries
