"""The collection method as pure functions: no ORM, no I/O, tested with plain values.

Aging buckets, tiers, the seed table of situations → techniques (seed 003), persona
suggestion and the order each persona's strategy gives the techniques (seed 000), limitation
deadlines (民法典第188/195条), which ladder steps fall due, and the neutral-wording check for
anything said to a third party (个人信息保护法).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from arrears.core.errors import DomainError

# -- aging and tiers ----------------------------------------------------------------------------

BUCKETS = ((5, "1-5"), (10, "6-10"), (30, "11-30"), (90, "31-90"), (180, "91-180"), (365, "181-365"), (730, "366-730"))


def bucket_of(days_overdue: int) -> str:
    """Aging bucket of a case from the days since its oldest overdue charge fell due (≥ 1)."""
    for upper, label in BUCKETS:
        if days_overdue <= upper:
            return label
    return "730+"


def whole_months(start: date, end: date) -> int:
    """Whole calendar months from `start` to `end`: due 2026-01-05, run 2026-03-15 gives 2."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return max(months, 0)


@dataclass(frozen=True)
class ArrearsPeriod:
    """How long the oldest unpaid charge has been overdue: days, and whole calendar months."""

    days: int
    months: int


def arrears_period(oldest_due: date | None, today: date) -> ArrearsPeriod | None:
    """The period since `oldest_due`, or None when nothing is overdue yet (due today or later)."""
    if oldest_due is None or oldest_due >= today:
        return None
    return ArrearsPeriod(days=(today - oldest_due).days, months=whole_months(oldest_due, today))


def period_words(period: ArrearsPeriod | None, *, english: bool = False) -> str:
    """The period as an owner may be told it: whole months when there is one, else days; never "0 个月"."""
    if period is None:
        return ""
    if period.months >= 1:
        return f"{period.months} month{'s' if period.months > 1 else ''}" if english else f"{period.months} 个月"
    return f"{period.days} day{'s' if period.days > 1 else ''}" if english else f"{period.days} 天"


def months_words(period: ArrearsPeriod | None, *, english: bool = False) -> str:
    """What fills a text's {months}: the whole months, or "不足1" under one month.

    Texts written before {arrears_period} existed say "{months}个月" (and an SMS provider's approved
    template says "${months}个月", which we cannot rewrite): "不足1个月" is true where "0个月" was not.
    """
    if period is None:
        return ""
    if period.months >= 1:
        return str(period.months)
    return "less than 1" if english else "不足1"


@dataclass(frozen=True)
class TierThresholds:
    a_months: int = 12
    a_amount: Decimal = Decimal("5000.00")
    b_months: int = 3
    b_amount: Decimal = Decimal("1000.00")


def tier_of(months: int, overdue_principal: Decimal, thresholds: TierThresholds = TierThresholds()) -> str:
    """A: large or long (focus); B: middling; C: the rest. Either measure is enough to rise."""
    if months >= thresholds.a_months or overdue_principal >= thresholds.a_amount:
        return "A"
    if months >= thresholds.b_months or overdue_principal >= thresholds.b_amount:
        return "B"
    return "C"


# -- situations, techniques, personas -----------------------------------------------------------

# Seed 003's table: common situation → techniques (DESIGN.md §2).
SEED_TABLE: dict[int, tuple[int, ...]] = {
    1: (1,),
    2: (2, 3, 7),
    3: (4, 7),
    4: (3, 5, 6, 8),
    5: (3, 5, 6, 8, 9),
    6: (6,),
    7: (2, 3, 7),
    8: (8, 9),
}

SITUATION_LABELS = {
    1: ("所有欠费业主", "every unpaid owner"),
    2: ("多次承诺却不来缴", "promises but never shows up"),
    3: ("联系不上", "cannot be reached"),
    4: ("房屋有整改问题", "unit has rectification issues"),
    5: ("房屋空置/未出租", "unit stays vacant or unlet"),
    6: ("曾有误会或不愉快经历", "past misunderstanding or bad experience"),
    7: ("忙、在外地、没时间", "busy, away, no time"),
    8: ("关怀用尽，恶意欠费≥3个月", "all care failed, deliberate arrears ≥ 3 months"),
}

TECHNIQUE_LABELS = {
    1: ("适时提醒", "timely reminders"),
    2: ("断其后路", "close the exits"),
    3: ("苦肉计", "appeal for sympathy"),
    4: ("地毯搜索", "find contact"),
    5: ("统一战线", "common front"),
    6: ("糖衣炮弹", "sugar-coat"),
    7: ("全民总动员", "everyone helps"),
    8: ("催费函", "collection letter"),
    9: ("律师函", "lawyer letter"),
}

MANDATORY, OPTIONAL, ESCALATION = "mandatory", "optional", "escalation"
TECHNIQUE_CLASS = {1: MANDATORY, 2: MANDATORY, 3: MANDATORY, 4: MANDATORY, 5: OPTIONAL, 6: OPTIONAL, 7: OPTIONAL,
                   8: ESCALATION, 9: ESCALATION}
_CLASS_ORDER = {MANDATORY: 0, OPTIONAL: 1, ESCALATION: 2}

SYMPATHY = 3  # 苦肉计: never for irritable owners


UNDERSTANDING, RESISTANT, NEGLECTFUL, EVASIVE = "understanding", "resistant", "neglectful", "evasive"

# Seed 000's strategy per persona (DESIGN.md §2): the techniques it leads with, when the situations
# call for them. The understanding owner is offered a firm date with instalments (② with the plan
# ahead); the resistant owner has the service fixed before any demand (⑥, then ⑤); the evasive
# owner is sought on every channel (④, then ⑦). The neglectful owner's lead is the words, not the
# order: the education script (see scripts.py).
PERSONA_LEAD: dict[str, tuple[int, ...]] = {
    UNDERSTANDING: (2,),
    RESISTANT: (6, 5),
    NEGLECTFUL: (),
    EVASIVE: (4, 7),
}

PERSONA_STRATEGY = {
    UNDERSTANDING: ("分期 3–6 个月、减免违约金、提前缴费优惠",
                    "instalments over 3–6 months, late-fee waiver, early-payment offer"),
    RESISTANT: ("先解决服务投诉，再讲合同义务和法律后果",
                "fix the service complaint first, then the contract duty and its legal consequence"),
    NEGLECTFUL: ("讲清物业费的用途和缴费义务", "explain what the fee pays for and the duty to pay"),
    EVASIVE: ("多渠道联系、留存证据，必要时走法律程序",
              "contact on every channel, keep the evidence, legal procedure when needed"),
}


def order_techniques(techniques: Iterable[int], *, persona: str = "") -> list[int]:
    """The techniques in the order to use them for this persona; the set itself is never changed.

    The persona's lead techniques come first, where present; the rest follow the seeds' order:
    mandatory → optional → escalation (先必做后自选、先私人后正式).
    """
    chosen = set(techniques)
    lead = [number for number in PERSONA_LEAD.get(persona, ()) if number in chosen]
    rest = sorted(chosen - set(lead), key=lambda t: (_CLASS_ORDER[TECHNIQUE_CLASS[t]], t))
    return [*lead, *rest]


def techniques_for(situations: Iterable[int], *, irritable: bool = False, persona: str = "") -> list[int]:
    """Techniques for the situations (seed 003's table decides which), ordered for the persona."""
    chosen = {technique for situation in situations for technique in SEED_TABLE[situation]}
    if irritable:
        chosen.discard(SYMPATHY)
    return order_techniques(chosen, persona=persona)


@dataclass(frozen=True)
class Signals:
    """What the run knows about a case; each maps to one or more seed situations."""

    days_overdue: int = 1
    broken_promises: int = 0
    failed_streak: int = 0  # consecutive failed contact attempts since the last success
    dead_number: bool = False  # the owner's own number was found dead and none answered since
    open_rectification: bool = False
    vacant_months: int = 0  # whole months the unit has stood vacant, 0 if not vacant
    unhappy_past: bool = False  # a complaint closed with the owner unsatisfied
    excuses: int = 0  # "busy", "away" logged by collectors
    refused: bool = False  # an explicit refusal to pay was logged
    deliberate: bool = False  # the collector judged the arrears deliberate (恶意)
    economic: bool = False  # the collector logged economic pressure


@dataclass(frozen=True)
class SignalThresholds:
    unreachable_after: int = 3
    vacant_months: int = 6


def situations_of(signals: Signals, thresholds: SignalThresholds = SignalThresholds()) -> list[int]:
    """The seed situations a case is in; situation 1 always (every unpaid owner)."""
    found = [1]
    if signals.broken_promises >= 1:
        found.append(2)
    if signals.dead_number or signals.failed_streak >= thresholds.unreachable_after:
        found.append(3)
    if signals.open_rectification:
        found.append(4)
    if signals.vacant_months >= thresholds.vacant_months:
        found.append(5)
    if signals.unhappy_past:
        found.append(6)
    if signals.excuses >= 1:
        found.append(7)
    if (signals.refused or signals.deliberate) and signals.days_overdue >= 90:
        found.append(8)
    return found


def suggest_persona(signals: Signals, situations: Sequence[int]) -> str:
    """The system's guess at the owner's persona; the collector has the last word.

    Service grievances make owners resist (抗拒型); being unreachable or breaking promises again
    and again is evasion (逃避型); declared hardship is the understanding owner (理解型) who
    needs a plan; the rest, who simply don't prioritise the fee, are neglectful (忽视型).
    """
    if 4 in situations or 6 in situations or (signals.refused and not signals.deliberate):
        return "resistant"
    if 3 in situations or signals.broken_promises >= 2 or 8 in situations:
        return "evasive"
    if signals.economic:
        return "understanding"
    if 2 in situations or 7 in situations or 5 in situations:
        return "neglectful"
    return "understanding" if signals.days_overdue <= 30 else "neglectful"


# -- limitation ---------------------------------------------------------------------------------

LIMITATION_YEARS = 3
LIMITATION_WARNINGS = (90, 30)


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February
        return day.replace(year=day.year + years, day=28)


def limitation_deadline(due: date, interruptions: Iterable[date | None] = ()) -> date:
    """Last day to sue for a charge: 3 years (第188条), restarted by the latest interruption (第195条).

    The period runs from the day after the due date; an interruption after the due date starts it
    again from that day. Interruptions on or before the due date change nothing.
    """
    start = max([due, *[day for day in interruptions if day is not None]])
    return add_years(start, LIMITATION_YEARS)


def limitation_warning(deadline: date | None, as_of: date) -> int | None:
    """90 or 30 when the deadline is that close (the nearest), else None."""
    if deadline is None:
        return None
    left = (deadline - as_of).days
    for days in sorted(LIMITATION_WARNINGS):
        if 0 <= left <= days:
            return days
    return None


# -- the ladder ---------------------------------------------------------------------------------

INTERNAL_CHANNELS = frozenset({"front_desk_flag", "legal_review"})


@dataclass(frozen=True)
class StepRule:
    code: str
    day_offset: int
    channel: str
    tiers: str = "ABC"
    personas: tuple[str, ...] = ()
    credit: str = "any"  # any | exhausted | not_exhausted
    min_amount: Decimal = Decimal("0")
    min_months: int = 0
    requires: tuple[str, ...] = ()
    days_after_required: int = 0
    no_payment_since_required: bool = False
    lawyer_letter_eligibility: bool = False
    quiet_days: int = 0
    after_delivery: bool = False  # days_after_required count from the required letter's recorded delivery


@dataclass(frozen=True)
class CaseState:
    days_overdue: int  # since the oldest unpaid charge's due date; negative before it falls due
    tier: str
    persona: str
    principal: Decimal
    months: int
    fired: dict[str, date] = field(default_factory=dict)  # step code → day it fired
    last_payment: date | None = None
    quiet_until: date | None = None
    credit_exhausted: bool = False
    lawyer_letter_eligible: bool = False
    delivered: dict[str, date] = field(default_factory=dict)  # letter step code → day its delivery is on record


def deliveries_by_step(fired: dict[str, date], step_channels: dict[str, str],
                      deliveries: dict[str, Sequence[date]]) -> dict[str, date]:
    """The recorded delivery of each fired letter step: the first delivery on its channel since it fired.

    `deliveries` maps a channel (letter, lawyer_letter) to the days a letter on it reached the
    owner, as logged by the letters module; a step whose letter is not delivered yet has none.
    """
    found = {}
    for code, fired_on in fired.items():
        days = [day for day in deliveries.get(step_channels.get(code, ""), ()) if day >= fired_on]
        if days:
            found[code] = min(days)
    return found


def step_conditions_hold(step: StepRule, case: CaseState, as_of: date) -> bool:
    """Every condition of the step but its day, for this case on this date."""
    if case.tier not in step.tiers:
        return False
    if step.personas and case.persona not in step.personas:
        return False
    if step.credit == "exhausted" and not case.credit_exhausted:
        return False
    if step.credit == "not_exhausted" and case.credit_exhausted:
        return False
    if case.principal < step.min_amount or case.months < step.min_months:
        return False
    for code in step.requires:
        fired_on = case.fired.get(code)
        if fired_on is None:
            return False
        # A follow-up counts from the day the letter reached the owner, not from the day it fell due.
        since = case.delivered.get(code) if step.after_delivery else fired_on
        if since is None or (as_of - since).days < max(step.days_after_required, 1):
            return False
        if step.no_payment_since_required and case.last_payment is not None and case.last_payment >= fired_on:
            return False
    return not (step.lawyer_letter_eligibility and not case.lawyer_letter_eligible)


def steps_due(steps: Sequence[StepRule], case: CaseState, as_of: date) -> list[StepRule]:
    """The ladder steps to fire today.

    A step falls due once its day is reached and its conditions hold; each fires at most once per
    case. In a quiet period no step that reaches the owner fires. The ladder never goes back: a
    step below the highest step already taken is passed over, and a case that comes to the ladder
    late (a backlog, or after a quiet period) does not get every missed reminder at once: of the
    steps that reach the owner only those of the latest day fire. Internal steps (front-desk flag,
    legal review) fire whenever reached. A follow-up of a letter (`after_delivery`) counts its days
    from the letter's recorded delivery and, like every contact, waits out the quiet period.
    """
    ready = [
        step for step in steps
        if step.code not in case.fired and step.day_offset <= case.days_overdue and step_conditions_hold(step, case, as_of)
    ]
    reached = max(
        (step.day_offset for step in steps if step.code in case.fired and step.channel not in INTERNAL_CHANNELS),
        default=None,
    )
    internal = [step for step in ready if step.channel in INTERNAL_CHANNELS]
    contact = [
        step for step in ready
        if step.channel not in INTERNAL_CHANNELS and (reached is None or step.day_offset >= reached)
    ]
    quiet = case.quiet_until is not None and as_of <= case.quiet_until
    if quiet or not contact:
        return internal
    latest = max(step.day_offset for step in contact)
    return sorted([*internal, *(step for step in contact if step.day_offset == latest)], key=lambda s: (s.day_offset, s.code))


def lawyer_letter_eligible(*, days_overdue: int, letters_ignored: int, deliberate: bool, care_pending: bool) -> bool:
    """⑨: all care failed, deliberate arrears of 3 months or more, 2 collection letters ignored.

    `care_pending` is an open rectification ticket, dispute or plan: care has not failed while it
    is open, and a lawyer letter then would be neither fair nor wise.
    """
    return days_overdue >= 90 and letters_ignored >= 2 and deliberate and not care_pending


# -- neutral wording ----------------------------------------------------------------------------

AMOUNT_PLACEHOLDERS = ("amount", "principal", "late_fee", "total", "months", "days_overdue", "oldest_due", "payment_link")
_DEBT_WORDS = ("欠", "费", "催", "逾期", "违约", "滞纳", "律师", "起诉", "诉讼", "法院", "还款", "缴",
               "arrear", "owe", "debt", "overdue", "fee", "payment", "pay ", "late", "lawyer", "court")
_MONEY = re.compile(r"[¥￥$]|\d+(\.\d+)?\s*(元|块|yuan|rmb)", re.IGNORECASE)


def neutral_problems(text: str) -> list[str]:
    """Why a text may not be said to a third party: amounts or words that reveal a debt."""
    problems = []
    lowered = text.lower()
    for name in AMOUNT_PLACEHOLDERS:
        if "{" + name + "}" in text:
            problems.append("{" + name + "}")
    if _MONEY.search(text):
        problems.append(_MONEY.search(text).group(0))
    problems.extend(word.strip() for word in _DEBT_WORDS if word in lowered)
    return problems


def validate_neutral_text(text: str) -> None:
    """Refuse a neutral text that would disclose a debt (个人信息保护法: no third-party disclosure)."""
    problems = neutral_problems(text)
    if problems:
        found = "、".join(problems)
        raise DomainError(
            f"中性话术/模板不得含金额或欠费字样：{found}",
            f"a neutral script or template may not contain amounts or words of arrears: {found}",
            code="neutral_text",
        )

