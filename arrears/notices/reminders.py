"""The reminders on record: what a letter may say about earlier reminders, and nothing more.

A letter used to say "此前我们已通过电话、短信等方式多次提醒" whatever the record held. It now
lists the dates and channels of the reminders that reached the owner, or says nothing of them.
A reminder counts when the record shows it reached the owner:

- a contact attempt that was made (not blocked) and reached someone (answered, promised, paid,
  refused, complained, or a letter delivered), taken as its latest correction, with the owner or a
  contact the owner authorised to hear of the debt (个人信息保护法: a third party hears nothing of
  it, so a call to a relative reminded no one), in words that were not a neutral script, and
  not made in breach of the contact rules (a call at night or on a holiday, recorded with its
  violation): a demand does not rest on a contact the law forbade;
- an SMS, WeChat message or email the provider accepted or delivered, to the owner or an
  authorised contact, from a template that is not neutral, thanks or a satisfaction survey.

Leaving a doubtful one out says less than happened, which is true; counting it could say more.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from arrears.collection import guard
from arrears.collection.models import (
    Channel,
    ContactAttempt,
    MessageStatus,
    Outcome,
    OutgoingMessage,
    Script,
)
from arrears.estate.models import ContactRelation

from .models import NoticeTemplate
from .pdf import format_date

LIMIT = 6  # a letter lists at most the last six, and says how many there were in all
# Outcomes that mean the person was reached; no answer, rejected, dead number and blocked did not.
REACHED_OUTCOMES = frozenset({
    Outcome.ANSWERED, Outcome.PROMISED, Outcome.PAID, Outcome.REFUSED, Outcome.COMPLAINT, Outcome.DELIVERED,
})
SENT_STATUSES = frozenset({MessageStatus.SENT, MessageStatus.DELIVERED})
MESSAGE_CHANNELS = frozenset({Channel.SMS, Channel.WECHAT, Channel.EMAIL})
NOT_REMINDERS = frozenset({"thanks_payment", "satisfaction"})  # said after a case closed, not a reminder
# Letters are written in Chinese whatever the issuing staff member's language.
CHANNEL_WORDS = {
    Channel.SMS: "短信", Channel.CALL: "电话", Channel.VISIT: "上门", Channel.WECHAT: "微信", Channel.EMAIL: "邮件",
    Channel.LETTER: "催费函", Channel.LAWYER_LETTER: "律师函", Channel.FRONT_DESK_FLAG: "前台当面提醒",
}


@dataclass(frozen=True)
class Reminder:
    on: date
    channel: str  # a Channel value

    def as_json(self) -> dict:
        return {"on": f"{self.on}", "channel": self.channel}


def _may_hear(relation: str, contact_relation: str | None, authorised: bool | None) -> bool:
    """The owner, or a contact the owner authorised to hear of the debt."""
    if authorised:
        return True
    if contact_relation is not None:
        return contact_relation == ContactRelation.SELF and relation in ("", ContactRelation.SELF)
    return relation in ("", ContactRelation.SELF)


def _latest_corrections(rows: list[tuple]) -> list[tuple]:
    """Each attempt as its latest correction: one row per original, the newest in its chain of corrections."""
    parent = {row[0]: row[1] for row in rows}

    def root(pk):
        while parent.get(pk) is not None:
            pk = parent[pk]
        return pk

    latest = {}
    for row in rows:
        key = root(row[0])
        if key not in latest or row[0] > latest[key][0]:
            latest[key] = row
    return list(latest.values())


def on_record(pairs: Iterable[tuple[int, int]], *, until: date) -> dict[tuple[int, int], list[Reminder]]:
    """Each (unit, owner)'s reminders on or before `until`, oldest first: four queries for any number of pairs."""
    pairs = set(pairs)
    found: dict[tuple[int, int], list[Reminder]] = defaultdict(list)
    if not pairs:
        return found
    unit_ids, owner_ids = {unit for unit, _ in pairs}, {owner for _, owner in pairs}
    neutral_scripts = set(Script.objects.filter(neutral=True).values_list("code", flat=True))
    rows = list(ContactAttempt.objects.filter(unit_id__in=unit_ids, owner_id__in=owner_ids).values_list(
        "pk", "corrects_id", "unit_id", "owner_id", "channel", "at", "outcome", "relation", "script_code",
        "contact__relation", "contact__disclosure_authorised", "third_party", "violation_rule",
    ))
    for (_, _, unit_id, owner_id, channel, at, outcome, relation, script, contact_relation, authorised, third_party,
         violation) in _latest_corrections(rows):
        on = timezone.localdate(at)
        if ((unit_id, owner_id) in pairs and on <= until and channel in guard.GUARDED_CHANNELS
                and outcome in REACHED_OUTCOMES and script not in neutral_scripts and not third_party and not violation
                and _may_hear(relation, contact_relation, authorised)):
            found[(unit_id, owner_id)].append(Reminder(on, channel))
    neutral_templates = set(NoticeTemplate.objects.filter(neutral=True).values_list("code", flat=True))
    messages = OutgoingMessage.objects.filter(
        unit_id__in=unit_ids, owner_id__in=owner_ids, status__in=SENT_STATUSES, channel__in=MESSAGE_CHANNELS,
    ).exclude(template_code__in=neutral_templates | NOT_REMINDERS).values_list(
        "unit_id", "owner_id", "channel", "sent_at", "delivered_at", "contact__owner_id", "contact__relation",
        "contact__disclosure_authorised",
    )
    for unit_id, owner_id, channel, sent_at, delivered_at, contact_owner, contact_relation, authorised in messages:
        moment = sent_at or delivered_at
        if moment is None or (unit_id, owner_id) not in pairs or timezone.localdate(moment) > until:
            continue
        if contact_owner is not None and contact_owner != owner_id:
            continue
        if _may_hear("", contact_relation, authorised):
            found[(unit_id, owner_id)].append(Reminder(timezone.localdate(moment), channel))
    for reminders in found.values():
        reminders.sort(key=lambda reminder: reminder.on)
    return found


def sentence(reminders: Sequence[Reminder], *, limit: int = LIMIT) -> str:
    """What a letter says of earlier reminders: the last `limit` with dates and channels, or nothing."""
    if not reminders:
        return ""
    shown = list(reminders)[-limit:]
    listed = "、".join(f"{format_date(reminder.on)}（{CHANNEL_WORDS[reminder.channel]}）" for reminder in shown)
    more = f"等{len(reminders)}次" if len(reminders) > len(shown) else ""
    return f"此前已于{listed}{more}提醒您。"
