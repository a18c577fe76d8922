"""What a template's placeholders are filled with: the ledger's figures for one owner and unit.

Amounts are read from the ledger on the day of rendering (not the day the run queued the
message): an owner who paid part in between is not told an old figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core import signing

from arrears.collection import rules
from arrears.core.money import ZERO
from arrears.estate.models import OwnerKind
from arrears.ledger.selectors import ChargeLine, charge_lines

STATEMENT_SALT = "arrears.statement"
PRE_DUE_TEMPLATES = frozenset({"pre_due", "pre_due_credit_exhausted"})
PRE_DUE_DAYS = 7


def salutation(owner) -> str:
    """How a letter or message addresses the owner: no gender is recorded, so 姓名 + 业主."""
    name = owner.name.strip()
    return name if owner.kind != OwnerKind.PERSON else f"{name}业主"


def statement_token(owner_id: int, unit_id: int, generation: int = 0) -> str:
    """Signed and timestamped (Django's TimestampSigner): unguessable, and it expires when read.

    `generation` is the owner's `link_generation`: raising it revokes every earlier link.
    """
    return signing.dumps({"o": owner_id, "u": unit_id, "g": generation}, salt=STATEMENT_SALT, compress=True)


@dataclass(frozen=True)
class StatementToken:
    owner_id: int
    unit_id: int
    generation: int


def read_statement_token(token: str, *, max_age_seconds: int) -> StatementToken | None:
    """The token's content, or None when it is forged, altered or older than `max_age_seconds`."""
    try:
        data = signing.loads(token, salt=STATEMENT_SALT, max_age=max_age_seconds)
        return StatementToken(int(data["o"]), int(data["u"]), int(data.get("g", 0)))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def statement_link(owner_id: int, unit_id: int, generation: int = 0) -> str:
    """The owner's signed statement link (served by the owner portal); only the token is in the URL."""
    base = getattr(settings, "ARREARS_PUBLIC_URL", "").rstrip("/")
    return f"{base}/s/{statement_token(owner_id, unit_id, generation)}"


@dataclass
class Figures:
    lines: list[ChargeLine]
    principal: object = ZERO
    late_fee: object = ZERO
    oldest_due: date | None = None

    @property
    def total(self):
        return self.principal + self.late_fee


def figures_by_owner(*, unit_ids, as_of: date) -> dict[tuple[int, int], Figures]:
    """Each (unit, owner)'s unpaid charges due before `as_of`, with late fees as of that day: one ledger read."""
    found: dict[tuple[int, int], Figures] = {}
    for line in charge_lines(as_of, unit_ids=list(unit_ids)):
        entry = found.setdefault((line.unit_id, line.owner_id), Figures(lines=[]))
        entry.lines.append(line)
        entry.principal += line.outstanding
        entry.late_fee += line.late_fee
        if line.outstanding > ZERO and (entry.oldest_due is None or line.due < entry.oldest_due):
            entry.oldest_due = line.due
    return found


def figures(*, unit_id: int, owner_id: int, as_of: date) -> Figures:
    """The owner's unpaid charges on the unit due before `as_of`, with late fees as of that day."""
    return figures_by_owner(unit_ids=[unit_id], as_of=as_of).get((unit_id, owner_id)) or Figures(lines=[])


def _upcoming_due(unit_id: int, owner_id: int, today: date) -> date | None:
    from arrears.ledger.models import Charge

    return (
        Charge.objects.filter(unit_id=unit_id, owner_id=owner_id, due_date__gte=today,
                              due_date__lte=today + timedelta(days=PRE_DUE_DAYS + 1))
        .order_by("due_date").values_list("due_date", flat=True).first()
    )


def message_context(*, unit, owner, template_code: str, today: date, case=None, promise=None) -> dict:
    due_date = None
    if template_code in PRE_DUE_TEMPLATES:
        due_date = _upcoming_due(unit.pk, owner.pk, today)
        # What the owner must pay by that date: the coming charge and anything already overdue.
        numbers = figures(unit_id=unit.pk, owner_id=owner.pk, as_of=(due_date or today) + timedelta(days=1))
    else:
        numbers = figures(unit_id=unit.pk, owner_id=owner.pk, as_of=today)
    context = owner_context(unit=unit, owner=owner, numbers=numbers, today=today)
    context.update({"due_date": f"{(due_date or numbers.oldest_due or today):%Y-%m-%d}", "as_of": f"{today:%Y-%m-%d}"})
    if promise is not None:
        context["promise_date"], context["promise_amount"] = f"{promise.due_on:%Y-%m-%d}", f"{promise.amount:.2f}"
    return context


def owner_context(*, unit, owner, numbers: Figures, today: date) -> dict:
    """The placeholders every message and letter shares; the caller adds its dates.

    The period overdue is counted from the oldest unpaid charge on the day of rendering, like the
    amounts: 12 days are "12 天", never "0个月"; {months} is "不足1" then, so an older text's
    "{months}个月" reads "不足1个月".
    """
    company = unit.community.company
    period = rules.arrears_period(numbers.oldest_due, today)
    return {
        "owner_name": salutation(owner), "community": unit.community.name, "room": unit.label,
        "company": company.name, "company_phone": company.phone,
        "amount": f"{numbers.total:.2f}", "principal": f"{numbers.principal:.2f}", "late_fee": f"{numbers.late_fee:.2f}",
        "months": rules.months_words(period), "arrears_period": rules.period_words(period),
        "oldest_due": f"{numbers.oldest_due:%Y-%m-%d}" if numbers.oldest_due else "",
        "due_date": "", "payment_link": statement_link(owner.pk, unit.pk, owner.link_generation),
        "promise_date": "", "promise_amount": "", "deadline": "", "as_of": "", "letter_number": "", "law_firm": "",
        "reminders": "",
    }
