"""The compliance guard: every outgoing contact passes `check_contact` / `check_many` first.

Tasks, queued messages and manual logging all ask the same question — may we contact this
owner, on this channel, at this instant? — and get one answer: allowed, or blocked with the
rule, a specific reason in Chinese and English, and the next instant it would be allowed.
DESIGN.md §3 is the law behind it: contact windows, no contact on statutory holidays (the
Chinese calendar with 调休; holidays.py knows every year and fails closed on a year whose
arrangement is not confirmed), frequency caps, no disclosure of the debt to third parties.

`decide` holds every rule and touches no database: it takes the request, the facts and the
policy as plain values, so each rule is tested at its edges without a database. The loaders
gather the facts set-based, in a constant number of queries whatever the number of requests.

Counting contacts: recent contacts are the owner's `ContactAttempt` rows (blocked ones are not
contacts) plus the owner's queued or sent `OutgoingMessage` rows. The notices app must
therefore NOT also log a sent message as a `ContactAttempt`, or it would count twice against
the caps. When the notices app checks a queued message again before sending it, it passes
`message_id` so the message is not counted against itself.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, TextChoices
from django.utils.translation import gettext_lazy as _

from arrears.estate.models import Contact, ContactRelation, Owner, Unit
from arrears.ledger.models import Charge

from . import models
from .holidays import (
    HOLIDAY,
    WEEKEND,
    Arrangement,
    Day,
    HolidayCalendar,
    admin_arrangement,
    parse_days,
)
from .models import Channel

logger = logging.getLogger("arrears.collection.guard")

LOCAL = ZoneInfo("Asia/Shanghai")
SEARCH_DAYS = 60  # how far ahead next_allowed looks before giving up (None)
CAP_DAYS = 7  # caps count the request's date and the 6 calendar days before it


class GuardRule(TextChoices):
    DO_NOT_CONTACT = "do_not_contact", _("业主要求不再联系")
    DISPUTE = "dispute", _("费用异议处理中")
    THIRD_PARTY = "third_party", _("不得向第三方透露欠费")
    QUIET_PERIOD = "quiet_period", _("发函后静默期")
    HOLIDAY = "holiday", _("法定节假日")
    WEEKEND = "weekend", _("周末不联系")
    OUTSIDE_HOURS = "outside_hours", _("不在可联系时段")
    SMS_CAP = "sms_cap", _("短信频次上限")
    CALL_DAY_CAP = "call_day_cap", _("当日电话上限")
    CALL_WEEK_CAP = "call_week_cap", _("7 日电话上限")
    VISIT_CAP = "visit_cap", _("7 日上门上限")


# Every channel that reaches the owner, including the front-desk flag (an in-person reminder);
# `models.CONTACT_CHANNELS` leaves the flag out because it is not a ladder step sent to the owner.
GUARDED_CHANNELS = frozenset({
    Channel.SMS, Channel.CALL, Channel.VISIT, Channel.WECHAT, Channel.EMAIL, Channel.LETTER, Channel.LAWYER_LETTER,
    Channel.FRONT_DESK_FLAG,
})
# 业主要求不再联系 stops every spoken or in-person contact, but not a written demand by post:
# the owner still owes the fee (民法典第944条), a written demand (书面催交) is the lawful route
# the courts expect before a suit, and each demand that reaches the owner restarts the 3-year
# limitation (第195条). Honouring "do not contact" must not let the debt expire.
DO_NOT_CONTACT_CHANNELS = frozenset({
    Channel.SMS, Channel.CALL, Channel.VISIT, Channel.WECHAT, Channel.EMAIL, Channel.FRONT_DESK_FLAG,
})
# The quiet period after a letter keeps calls, visits and messages away while the owner reads it
# (seed 001: no contact for 7 days, 14 after a lawyer letter). It does not hold letters: the
# letter that starts the period would block itself, and the ladder spaces letters by their own
# rule (#2 at least 7 days after #1). The front-desk flag only reminds an owner who walks past.
QUIET_CHANNELS = frozenset({Channel.SMS, Channel.CALL, Channel.VISIT, Channel.WECHAT, Channel.EMAIL})
# Letters are posted, not delivered at a chosen hour: holidays and windows do not apply to them;
# nor to email, which waits in the inbox until the owner opens it.
TIMED_CHANNELS = frozenset({Channel.SMS, Channel.CALL, Channel.VISIT, Channel.WECHAT})
# The front-desk reminder is spoken to the owner in person when the gate sees them: in the daytime
# (`_in_person_block`), never on a holiday or a day off.
DAY_CHANNELS = TIMED_CHANNELS | {Channel.FRONT_DESK_FLAG}
SPOKEN_CHANNELS = frozenset({Channel.CALL, Channel.VISIT})
TEXT_CHANNELS = frozenset({Channel.SMS, Channel.WECHAT, Channel.EMAIL})

CHANNEL_NAMES = {
    Channel.SMS: ("短信", "SMS"),
    Channel.CALL: ("电话", "calls"),
    Channel.VISIT: ("上门", "visits"),
    Channel.WECHAT: ("微信消息", "WeChat messages"),
}


def channel_is_contact(channel: str) -> bool:
    """Whether a channel reaches the owner and so must pass the guard (legal review does not)."""
    return channel in GUARDED_CHANNELS


# -- values in --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactRequest:
    owner_id: int
    unit_id: int
    channel: str  # a models.Channel value
    at: datetime  # aware; judged in Asia/Shanghai
    case_id: int | None = None
    contact_id: int | None = None  # None = the owner's own contact
    neutral: bool = False  # the words used are a neutral script/template
    # The queued OutgoingMessage being checked again before sending: it must not count against itself.
    message_id: int | None = None
    # The logged ContactAttempt being judged again (a correction re-dates it): not counted against itself.
    attempt_id: int | None = None


@dataclass(frozen=True)
class GuardFacts:
    do_not_contact: bool = False
    # Every overdue charge is under an open dispute: collection of a disputed charge pauses, but
    # one undisputed overdue charge is enough to keep collecting.
    disputed: bool = False
    may_disclose: bool = True  # the contact is the owner or was authorised to hear of the debt
    quiet_until: date | None = None  # inclusive
    recent: Mapping[str, Sequence[datetime]] = field(default_factory=dict)  # channel → contact times


@dataclass(frozen=True)
class GuardPolicy:
    """The contact rules of one community; defaults equal the `CollectionPolicy` field defaults."""

    call_morning_start: time = time(8, 0)
    call_morning_end: time = time(12, 0)
    call_afternoon_start: time = time(14, 0)
    call_afternoon_end: time = time(21, 0)
    sms_start: time = time(9, 0)
    sms_end: time = time(20, 0)
    contact_on_weekends: bool = True
    sms_per_7_days: int = 2
    calls_per_day: int = 2
    calls_per_7_days: int = 7
    visits_per_7_days: int = 1
    fallback_holidays: str = ""  # extra no-contact days of the community (community_days_off)

    @classmethod
    def from_model(cls, policy: models.CollectionPolicy) -> GuardPolicy:
        return cls(
            call_morning_start=policy.call_morning_start, call_morning_end=policy.call_morning_end,
            call_afternoon_start=policy.call_afternoon_start, call_afternoon_end=policy.call_afternoon_end,
            sms_start=policy.sms_start, sms_end=policy.sms_end, contact_on_weekends=policy.contact_on_weekends,
            sms_per_7_days=policy.sms_per_7_days, calls_per_day=policy.calls_per_day,
            calls_per_7_days=policy.calls_per_7_days, visits_per_7_days=policy.visits_per_7_days,
            fallback_holidays=policy.fallback_holidays,
        )

    def windows(self, channel: str) -> tuple[tuple[time, time], ...]:
        """The [start, end) windows of a timed channel, local time."""
        if channel in SPOKEN_CHANNELS:
            return ((self.call_morning_start, self.call_morning_end), (self.call_afternoon_start, self.call_afternoon_end))
        return ((self.sms_start, self.sms_end),)


# -- the calendar -----------------------------------------------------------------------------
# The law, the confirmed arrangements and the fail-closed presumption live in holidays.py; the
# guard only asks `calendar.day(date)`. A community's `fallback_holidays` can add days of its own
# on which nobody is contacted; it can never make a day a working day.

_warned_lines: set[tuple[str, int]] = set()


@lru_cache(maxsize=256)
def community_days_off(text: str) -> frozenset[date]:
    """The extra no-contact days of a community's list: one YYYY-MM-DD per line.

    The list once also marked 调休 working days with a leading "+" for years the calendar package
    did not know; such a line now counts for nothing (a working day comes only from a confirmed
    arrangement), and is reported once per process so someone removes it.
    """
    days = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("+"):
            if (text, number) not in _warned_lines:
                _warned_lines.add((text, number))
                logger.warning("fallback_holidays line %d ignored: a working day comes only from a confirmed "
                               "holiday arrangement: %r", number, raw)
            continue
        try:
            days.add(date.fromisoformat(line))
        except ValueError:
            logger.warning("fallback_holidays line %d is not a YYYY-MM-DD date: %r", number, raw)
    return frozenset(days)


def _holiday_block(today: date, day: Day) -> _Block:
    """The reason for a day off, naming the festival and, for a presumed day, the unconfirmed year."""
    if day.unconfirmed_year is not None:
        year = day.unconfirmed_year
        if day.statutory:
            return _Block(
                GuardRule.HOLIDAY,
                f"{today:%Y-%m-%d} 是法定节假日（{day.name_zh}），不联系业主；{year} 年放假安排尚未确认",
                f"{today:%Y-%m-%d} is a statutory holiday ({day.name_en}): no contact; "
                f"the {year} holiday arrangement is not yet confirmed",
            )
        return _Block(
            GuardRule.HOLIDAY,
            f"{today:%Y-%m-%d} 通常在{day.name_zh}假期内，{year} 年放假安排尚未确认：不联系业主",
            f"{today:%Y-%m-%d} is usually within the {day.name_en} holiday and the {year} holiday arrangement "
            "is not yet confirmed: no contact",
        )
    if day.statutory or not day.festival:
        name_zh, name_en = (f"（{day.name_zh}）", f" ({day.name_en})") if day.festival else ("", "")
        return _Block(
            GuardRule.HOLIDAY,
            f"{today:%Y-%m-%d} 是法定节假日{name_zh}，不联系业主",
            f"{today:%Y-%m-%d} is a statutory holiday{name_en}: no contact",
        )
    return _Block(
        GuardRule.HOLIDAY,
        f"{today:%Y-%m-%d} 在{day.name_zh}放假期间，不联系业主",
        f"{today:%Y-%m-%d} is within the {day.name_en} holiday: no contact",
    )


# -- the answer -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuardDecision:
    allowed: bool
    rule: str = ""  # GuardRule value when blocked
    reason_zh: str = ""
    reason_en: str = ""
    next_allowed: datetime | None = None  # aware; None when only a person can lift the block

    @property
    def reason(self) -> str:
        return f"{self.reason_zh} / {self.reason_en}" if self.reason_zh else ""


ALLOWED = GuardDecision(allowed=True)


@dataclass(frozen=True)
class _Block:
    rule: str
    zh: str
    en: str


def decide(request: ContactRequest, facts: GuardFacts, policy: GuardPolicy, calendar: HolidayCalendar) -> GuardDecision:
    """Judge one contact from plain values; the first rule that blocks is reported.

    Rules 1–3 (do-not-contact, dispute, third party) only a person can lift, so they carry no
    next_allowed. Do-not-contact spares letters and lawyer letters: the fee is still owed
    (民法典第944条), a written demand by post is the lawful route, and it restarts the
    limitation (第195条) — honouring the request must not let the debt expire. Rules 4–7 depend on time: next_allowed is the earliest instant ≥ request.at at
    which this function would allow the same contact, assuming no other contact is made meanwhile.
    """
    if request.at.tzinfo is None or request.at.utcoffset() is None:
        raise ValueError("ContactRequest.at must be an aware datetime")
    channel = request.channel
    if not channel_is_contact(channel):
        return ALLOWED
    if facts.do_not_contact and channel in DO_NOT_CONTACT_CHANNELS:
        return GuardDecision(
            False, GuardRule.DO_NOT_CONTACT,
            "业主已要求不再联系：只可邮寄书面催费函或律师函",
            "The owner asked not to be contacted: only a collection or lawyer letter by post",
        )
    if facts.disputed:
        return GuardDecision(
            False, GuardRule.DISPUTE,
            "该户逾期费用均在异议处理中：异议处理完毕前暂停催收",
            "Every overdue charge is under an open dispute: collection pauses until it is resolved",
        )
    if not facts.may_disclose and not request.neutral:
        # 个人信息保护法 and DESIGN.md §2: the debt is never mentioned to anyone but the owner.
        return GuardDecision(
            False, GuardRule.THIRD_PARTY,
            "该联系人非业主本人且未获业主授权，不得告知欠费：请改用中性话术",
            "This contact is not the owner and was not authorised to hear of the debt: use neutral wording",
        )
    local = request.at.astimezone(LOCAL)
    block = _time_block(local, channel, facts, policy, calendar)
    if block is None:
        return ALLOWED
    return GuardDecision(False, block.rule, block.zh, block.en, _next_allowed(local, channel, facts, policy, calendar))


def _time_block(local: datetime, channel: str, facts: GuardFacts, policy: GuardPolicy,
                calendar: HolidayCalendar) -> _Block | None:
    """Rules 4–7 at one local instant: quiet period, holiday/weekend, window, caps."""
    today = local.date()
    if channel in QUIET_CHANNELS and facts.quiet_until is not None and today <= facts.quiet_until:
        return _Block(
            GuardRule.QUIET_PERIOD,
            f"发函后静默期至 {facts.quiet_until:%Y-%m-%d}（含当日），期间不联系业主",
            f"Quiet period after a letter until {facts.quiet_until:%Y-%m-%d} inclusive: no contact",
        )
    if channel not in DAY_CHANNELS:
        return None
    day = calendar.day(today)
    if day.kind == HOLIDAY:
        return _holiday_block(today, day)
    if today in community_days_off(policy.fallback_holidays):
        return _Block(
            GuardRule.HOLIDAY,
            f"{today:%Y-%m-%d} 是本小区设定的不联系日",
            f"{today:%Y-%m-%d} is a no-contact day set for this community",
        )
    if day.kind == WEEKEND and not policy.contact_on_weekends:
        return _Block(
            GuardRule.WEEKEND,
            f"{today:%Y-%m-%d} 是周末，本小区策略为周末不联系",
            f"{today:%Y-%m-%d} is a weekend and this community does not contact owners at weekends",
        )
    if channel == Channel.FRONT_DESK_FLAG:
        return _in_person_block(local, policy)
    if channel not in TIMED_CHANNELS:
        return None
    windows = policy.windows(channel)
    if not any(start <= local.time() < end for start, end in windows):
        name_zh, name_en = CHANNEL_NAMES[channel]
        verb = "拨打" if channel == Channel.CALL else "进行" if channel == Channel.VISIT else "发送"
        return _Block(
            GuardRule.OUTSIDE_HOURS,
            f"{name_zh}仅可在 {_spans(windows, '、')} {verb}",
            f"{name_en} only {_spans(windows, ' and ')}",
        )
    return _cap_block(today, channel, facts.recent, policy)


def _in_person_block(local: datetime, policy: GuardPolicy) -> _Block | None:
    """An in-person reminder (⑦) only in the daytime: from the first call of the morning to the last of
    the evening. The lunch break of calls does not apply: the owner walks past when they walk past."""
    start, end = policy.call_morning_start, policy.call_afternoon_end
    if start <= local.time() < end:
        return None
    return _Block(
        GuardRule.OUTSIDE_HOURS,
        f"当面提醒仅可在 {start:%H:%M}–{end:%H:%M} 进行",
        f"In-person reminders only {start:%H:%M}–{end:%H:%M}",
    )


def _spans(windows: Iterable[tuple[time, time]], joiner: str) -> str:
    return joiner.join(f"{start:%H:%M}–{end:%H:%M}" for start, end in windows)


def _cap_block(today: date, channel: str, recent: Mapping[str, Sequence[datetime]], policy: GuardPolicy) -> _Block | None:
    """Rule 7: per-owner caps over calendar days; a contact ages out at local midnight."""
    first = today - timedelta(days=CAP_DAYS - 1)

    def days(channels: Iterable[str]) -> list[date]:
        return [moment.astimezone(LOCAL).date() for each in channels for moment in recent.get(each, ())]

    if channel in TEXT_CHANNELS:
        sent = sum(1 for d in days(TEXT_CHANNELS) if first <= d <= today)
        if sent >= policy.sms_per_7_days:
            return _Block(
                GuardRule.SMS_CAP,
                f"7 日内已发短信/微信 {sent} 条，上限 {policy.sms_per_7_days} 条",
                f"{sent} SMS/WeChat messages in 7 days; the cap is {policy.sms_per_7_days}",
            )
    elif channel == Channel.CALL:
        calls = days([Channel.CALL])
        on_the_day = sum(1 for d in calls if d == today)
        if on_the_day >= policy.calls_per_day:
            return _Block(
                GuardRule.CALL_DAY_CAP,
                f"当日已拨打 {on_the_day} 次电话，上限 {policy.calls_per_day} 次",
                f"{on_the_day} calls today; the cap is {policy.calls_per_day} a day",
            )
        in_week = sum(1 for d in calls if first <= d <= today)
        if in_week >= policy.calls_per_7_days:
            return _Block(
                GuardRule.CALL_WEEK_CAP,
                f"7 日内已拨打 {in_week} 次电话，上限 {policy.calls_per_7_days} 次",
                f"{in_week} calls in 7 days; the cap is {policy.calls_per_7_days}",
            )
    elif channel == Channel.VISIT:
        visits = sum(1 for d in days([Channel.VISIT]) if first <= d <= today)
        if visits >= policy.visits_per_7_days:
            return _Block(
                GuardRule.VISIT_CAP,
                f"7 日内已上门 {visits} 次，上限 {policy.visits_per_7_days} 次",
                f"{visits} visits in 7 days; the cap is {policy.visits_per_7_days}",
            )
    return None


def _next_allowed(local: datetime, channel: str, facts: GuardFacts, policy: GuardPolicy,
                  calendar: HolidayCalendar) -> datetime | None:
    """The earliest instant ≥ `local` that rules 4–7 allow, searching day by day.

    Every time-based block lifts either at local midnight (quiet period, holiday, weekend, a
    contact ageing out of a cap) or at a window's start, so those are the only candidates.
    """
    for offset in range(SEARCH_DAYS + 1):
        day = local.date() + timedelta(days=offset)
        starts = [start for start, _end in policy.windows(channel)] if channel in TIMED_CHANNELS else [time(0, 0)]
        if channel == Channel.FRONT_DESK_FLAG:
            starts.append(policy.call_morning_start)
        for start in sorted(starts):
            candidate = datetime.combine(day, start, tzinfo=LOCAL)
            if candidate < local:
                continue
            if _time_block(candidate, channel, facts, policy, calendar) is None:
                return candidate
    return None


# -- loading the facts ------------------------------------------------------------------------


def check_contact(request: ContactRequest) -> GuardDecision:
    """Judge one contact, loading its facts and policy (a few queries)."""
    return check_many([request])[0]


def first_allowed(request: ContactRequest) -> datetime | None:
    """The request's own time when allowed, else the next allowed instant (None: a person must act)."""
    decision = check_contact(request)
    return request.at if decision.allowed else decision.next_allowed


def check_many(requests: Sequence[ContactRequest]) -> list[GuardDecision]:
    """Judge many contacts in a constant number of queries, whatever their number.

    The answers equal `check_contact` on each request alone: requests do not see each other, so
    a caller queuing several contacts for one owner must check them one batch per contact or
    count its own earlier picks.
    """
    if not requests:
        return []
    dates = [_local_date(request.at) for request in requests]
    calendar = load_calendar(min(dates), max(dates) + timedelta(days=SEARCH_DAYS))
    if len(requests) >= SET_BASED_FROM:
        return _check_set_based(requests, dates, calendar)
    facts = load_facts(requests)
    policies = load_policies({request.unit_id for request in requests})
    decisions = []
    for request, request_facts in zip(requests, facts, strict=True):
        policy = policies.get(request.unit_id) or default_policy()
        decisions.append(decide(request, request_facts, policy, calendar))
    return decisions


# From this many requests on, `check_many` sorts them in SQL first (`_check_set_based`).
SET_BASED_FROM = 500
FACTS_CHUNK = 2000  # requests with facts of their own are loaded this many at a time
NO_FACTS = GuardFacts()


def _check_set_based(requests: Sequence[ContactRequest], dates: list[date],
                     calendar: HolidayCalendar) -> list[GuardDecision]:
    """`check_many` for a large batch: the same decisions, most of them shared.

    One query per request date sorts the requests, joined from a temporary table: those whose owner
    has a fact of their own (do-not-contact, a contact who may not hear of the debt, a quiet period
    reaching that date, a disputed overdue charge, a contact counted by the caps in the week before)
    are judged one by one on their loaded facts, as before; every other request has no facts
    (`GuardFacts()`), so its decision depends only on its community's policy, channel and instant,
    and is made once for all requests sharing those. The test for "has facts" may say yes too often
    (the slow path then decides exactly), never too rarely.
    """
    from .staging import staged

    policy_of = [None] * len(requests)
    individual = []
    rows = ((i, r.owner_id, r.unit_id, r.case_id, r.contact_id, day)
            for i, (r, day) in enumerate(zip(requests, dates, strict=True)))
    columns = [("i", "int"), ("owner_id", "int"), ("unit_id", "int"), ("case_id", "int"), ("contact_id", "int"),
               ("day", "date")]
    with staged("guard_request", columns, rows) as table, connection.cursor() as cursor:
        sql = _facts_sql(table)
        for day in sorted(set(dates)):
            week = day - timedelta(days=CAP_DAYS - 1)
            start = datetime.combine(week, time(0, 0), tzinfo=LOCAL)
            end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=LOCAL)
            params = [_db(value) for value in (day, day, day, day, start, end, week, day, start, end, day)]
            cursor.execute(sql, params)
            for i, policy_id, has_facts in cursor.fetchall():
                policy_of[i] = policy_id
                if has_facts:
                    individual.append(i)
    policies = {row.pk: GuardPolicy.from_model(row)
                for row in models.CollectionPolicy.objects.filter(pk__in={p for p in policy_of if p is not None})}
    decisions: list[GuardDecision | None] = [None] * len(requests)
    individual.sort()
    for first in range(0, len(individual), FACTS_CHUNK):
        chunk = individual[first:first + FACTS_CHUNK]
        for i, facts in zip(chunk, load_facts([requests[i] for i in chunk]), strict=True):
            decisions[i] = decide(requests[i], facts, policies.get(policy_of[i]) or default_policy(), calendar)
    shared = {}
    for i, request in enumerate(requests):
        if decisions[i] is not None:
            continue
        key = (policy_of[i], request.channel, request.at)
        if key not in shared:
            shared[key] = decide(request, NO_FACTS, policies.get(policy_of[i]) or default_policy(), calendar)
        decisions[i] = shared[key]
    return decisions


def _db(value):
    """A date or datetime as the backend compares it: SQLite holds them as Django's text."""
    if connection.vendor != "sqlite":
        return value
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return connection.ops.adapt_datefield_value(value)


def _facts_sql(table: str) -> str:
    """For each staged request of one date: its index, its community's policy, whether it has facts.

    Parameters, in order: the date four times, the cap window's start and end instants, its first
    date, the date, the window's start and end again, the date.
    """
    quote = connection.ops.quote_name

    def t(model):
        return quote(model._meta.db_table)

    text = ", ".join(f"'{channel}'" for channel in sorted(TEXT_CHANNELS))
    counted = ", ".join(f"'{status}'" for status in sorted(models.COUNTED_MESSAGE_STATUSES))
    return f"""
        SELECT r.i, p.id, CASE WHEN
            EXISTS (SELECT 1 FROM {t(Owner)} o WHERE o.id = r.owner_id AND o.do_not_contact)
            OR (r.contact_id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM {t(Contact)} c WHERE c.id = r.contact_id
                AND (c.relation = '{ContactRelation.SELF}' OR c.disclosure_authorised)))
            OR (r.case_id IS NOT NULL AND EXISTS (
                SELECT 1 FROM {t(models.Case)} k WHERE k.id = r.case_id AND k.quiet_until >= %s))
            OR (r.case_id IS NULL AND EXISTS (
                SELECT 1 FROM {t(models.Case)} k WHERE k.unit_id = r.unit_id AND k.owner_id = r.owner_id
                AND k.status = '{models.CaseStatus.OPEN}' AND k.quiet_until >= %s))
            OR EXISTS (
                SELECT 1 FROM {t(Charge)} ch JOIN {t(models.ChargeDispute)} d ON d.charge_id = ch.id
                WHERE d.closed_on IS NULL AND ch.unit_id = r.unit_id AND ch.owner_id = r.owner_id
                AND ch.due_date < %s AND (ch.settled_on IS NULL OR ch.settled_on > %s))
            OR EXISTS (
                SELECT 1 FROM {t(models.ContactAttempt)} a WHERE a.owner_id = r.owner_id AND a.at >= %s AND a.at < %s
                AND a.corrects_id IS NULL AND a.outcome <> '{models.Outcome.BLOCKED}')
            OR EXISTS (
                SELECT 1 FROM {t(models.OutgoingMessage)} m WHERE m.owner_id = r.owner_id
                AND m.channel IN ({text}) AND m.status IN ({counted})
                AND ((m.scheduled_on >= %s AND m.scheduled_on <= %s) OR (m.not_before >= %s AND m.not_before < %s)))
        THEN 1 ELSE 0 END
        FROM {table} r
        LEFT JOIN {t(Unit)} u ON u.id = r.unit_id
        LEFT JOIN {t(models.CollectionPolicy)} p ON p.community_id = u.community_id
        WHERE r.day = %s
    """


def load_calendar(first: date, last: date) -> HolidayCalendar:
    """The holiday calendar with the confirmed arrangements of the years first…last (and the next:
    its notice may hold the end of December), in one query.

    Loaded on every call, never cached across calls: an arrangement confirmed a moment ago takes
    effect on the next check in every process. The table holds a row per year.
    """
    rows = models.HolidayArrangement.objects.filter(
        confirmed=True, year__gte=first.year, year__lte=last.year + 1,
    ).values_list("year", "days_off", "working_days")
    return HolidayCalendar({year: _arrangement(year, days_off, working_days) for year, days_off, working_days in rows})


@lru_cache(maxsize=64)
def _arrangement(year: int, days_off: str, working_days: str) -> Arrangement:
    """A stored arrangement's days, parsed once per text (the admin form refused bad lines already)."""
    return admin_arrangement(year, parse_days(days_off)[0], parse_days(working_days)[0])


def unconfirmed_years(today: date) -> list[int]:
    """The years whose arrangement nobody has confirmed yet: this year, and from 1 December the next.

    No query when the calendar package knows those years; else one.
    """
    years = [today.year] + ([today.year + 1] if today.month == 12 else [])
    unknown = [year for year in years if not HolidayCalendar().confirmed(year)]
    if not unknown:
        return []
    confirmed = set(models.HolidayArrangement.objects.filter(year__in=unknown, confirmed=True).values_list("year", flat=True))
    return [year for year in unknown if year not in confirmed]


@cache
def default_policy() -> GuardPolicy:
    """The policy of a community that has no row yet: the model's field defaults."""
    return GuardPolicy.from_model(models.CollectionPolicy())


def load_policies(unit_ids: Iterable[int]) -> dict[int, GuardPolicy]:
    """The policy of each unit's community, one query; units of a community without one get none."""
    rows = models.CollectionPolicy.objects.filter(community__units__id__in=list(unit_ids)).annotate(
        unit_id=F("community__units__id"),
    )
    return {row.unit_id: GuardPolicy.from_model(row) for row in rows}


def _local_date(moment: datetime) -> date:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("ContactRequest.at must be an aware datetime")
    return moment.astimezone(LOCAL).date()


def load_facts(requests: Sequence[ContactRequest]) -> list[GuardFacts]:
    """The facts of each request, in six queries (seven with the policies) whatever their number.

    Each query covers all requests at once (ids, and the span of their dates); the per-request
    filtering of those rows happens in Python, on rows that grow with open arrears and the last
    week's contacts, not with history.
    """
    dates = [_local_date(request.at) for request in requests]
    owner_ids = {request.owner_id for request in requests}
    unit_ids = {request.unit_id for request in requests}
    first_day = min(dates) - timedelta(days=CAP_DAYS - 1)
    last_day = max(dates)

    do_not_contact = dict(Owner.objects.filter(id__in=owner_ids).values_list("id", "do_not_contact"))
    contact_ids = {request.contact_id for request in requests if request.contact_id is not None}
    # A contact that no longer exists is treated as one who may not hear of the debt (fail closed).
    may_disclose = {
        contact_id: relation == ContactRelation.SELF or authorised
        for contact_id, relation, authorised in Contact.objects.filter(id__in=contact_ids).values_list(
            "id", "relation", "disclosure_authorised",
        )
    }

    # A request without a case falls back on the open case of its unit and owner.
    case_ids = {request.case_id for request in requests if request.case_id is not None}
    quiet_by_id, quiet_by_pair = {}, {}
    for case_id, unit_id, owner_id, status, quiet_until in models.Case.objects.filter(
        Q(id__in=case_ids) | Q(status=models.CaseStatus.OPEN, unit_id__in=unit_ids, owner_id__in=owner_ids),
    ).values_list("id", "unit_id", "owner_id", "status", "quiet_until"):
        quiet_by_id[case_id] = quiet_until
        if status == models.CaseStatus.OPEN:
            quiet_by_pair[(unit_id, owner_id)] = quiet_until

    # Charges overdue on some request's date (due before it, not settled by it), each marked
    # whether an open dispute covers it.
    charges = defaultdict(list)
    for unit_id, owner_id, due_date, settled_on, disputed in Charge.objects.filter(
        unit_id__in=unit_ids, owner_id__in=owner_ids, due_date__lt=last_day,
    ).filter(Q(settled_on__isnull=True) | Q(settled_on__gt=min(dates))).annotate(
        disputed=Exists(models.ChargeDispute.objects.filter(charge=OuterRef("pk"), closed_on__isnull=True)),
    ).values_list("unit_id", "owner_id", "due_date", "settled_on", "disputed"):
        charges[(unit_id, owner_id)].append((due_date, settled_on, disputed))

    recent = defaultdict(list)  # owner → [(channel, at, ("attempt" or "message", id))]
    window_start = datetime.combine(first_day, time(0, 0), tzinfo=LOCAL)
    window_end = datetime.combine(last_day + timedelta(days=1), time(0, 0), tzinfo=LOCAL)
    for attempt_id, owner_id, channel, at in models.ContactAttempt.objects.filter(
        owner_id__in=owner_ids, at__gte=window_start, at__lt=window_end,
        corrects__isnull=True,  # a correction re-describes a contact already counted; it is not a new one
    ).exclude(outcome=models.Outcome.BLOCKED).values_list("id", "owner_id", "channel", "at"):
        recent[owner_id].append((channel, at, ("attempt", attempt_id)))
    for message_id, owner_id, channel, scheduled_on, not_before in models.OutgoingMessage.objects.filter(
        Q(scheduled_on__gte=first_day, scheduled_on__lte=last_day) | Q(not_before__gte=window_start, not_before__lt=window_end),
        owner_id__in=owner_ids, channel__in=TEXT_CHANNELS,
        status__in=models.COUNTED_MESSAGE_STATUSES,
    ).values_list("id", "owner_id", "channel", "scheduled_on", "not_before"):
        at = not_before or datetime.combine(scheduled_on, time(0, 0), tzinfo=LOCAL)
        recent[owner_id].append((channel, at, ("message", message_id)))

    facts = []
    for request, today in zip(requests, dates, strict=True):
        if request.case_id is not None:
            quiet_until = quiet_by_id.get(request.case_id)
        else:
            quiet_until = quiet_by_pair.get((request.unit_id, request.owner_id))
        overdue = [
            disputed for due_date, settled_on, disputed in charges[(request.unit_id, request.owner_id)]
            if due_date < today and (settled_on is None or settled_on > today)
        ]
        week_start = today - timedelta(days=CAP_DAYS - 1)
        by_channel = defaultdict(list)
        itself = {("message", request.message_id), ("attempt", request.attempt_id)}
        for channel, at, source in recent[request.owner_id]:
            if source in itself:
                continue
            if week_start <= at.astimezone(LOCAL).date() <= today:
                by_channel[channel].append(at)
        facts.append(GuardFacts(
            do_not_contact=do_not_contact.get(request.owner_id, False),
            disputed=bool(overdue) and all(overdue),
            may_disclose=True if request.contact_id is None else may_disclose.get(request.contact_id, False),
            quiet_until=quiet_until,
            recent=dict(by_channel),
        ))
    return facts
