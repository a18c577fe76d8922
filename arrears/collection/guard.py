"""PLACEHOLDER for the compliance guard being built on its own branch (wt-guard).

Only the interface the pages use: when the real guard lands on main, take its file whole.
This stand-in refuses owners marked do-not-contact and allows everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import models

from arrears.collection.models import Channel
from arrears.estate.models import Owner

GUARDED_CHANNELS = frozenset({
    Channel.SMS, Channel.CALL, Channel.VISIT, Channel.WECHAT, Channel.LETTER, Channel.LAWYER_LETTER,
    Channel.FRONT_DESK_FLAG,
})
DO_NOT_CONTACT_CHANNELS = frozenset({Channel.SMS, Channel.CALL, Channel.VISIT, Channel.WECHAT, Channel.FRONT_DESK_FLAG})


def channel_is_contact(channel: str) -> bool:
    return channel in GUARDED_CHANNELS


class GuardRule(models.TextChoices):
    DO_NOT_CONTACT = "do_not_contact", "禁止联系"


@dataclass(frozen=True)
class ContactRequest:
    owner_id: int
    unit_id: int
    channel: str
    at: datetime
    case_id: int | None = None
    contact_id: int | None = None
    neutral: bool = False


@dataclass(frozen=True)
class GuardDecision:
    allowed: bool
    rule: str = ""
    reason_zh: str = ""
    reason_en: str = ""
    next_allowed: datetime | None = None

    @property
    def reason(self) -> str:
        return f"{self.reason_zh} / {self.reason_en}" if self.reason_zh else ""


def check_many(requests: list[ContactRequest]) -> list[GuardDecision]:
    blocked = set(Owner.objects.filter(pk__in={r.owner_id for r in requests}, do_not_contact=True).values_list("pk", flat=True))
    return [
        GuardDecision(False, GuardRule.DO_NOT_CONTACT, "业主要求不再联系", "the owner asked not to be contacted")
        if request.owner_id in blocked and request.channel in DO_NOT_CONTACT_CHANNELS else GuardDecision(True)
        for request in requests
    ]


def check_contact(request: ContactRequest) -> GuardDecision:
    return check_many([request])[0]
