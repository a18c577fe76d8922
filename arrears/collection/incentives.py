"""The late-fee waiver for owners who pay on their own (seed 000): collection knows the first reminder.

The ledger grants the waiver (`ledger.incentives.grant_late_fee_waivers`); this module tells it,
for the open cases of communities with such a programme, the day of the case's first reminder:
the first message sent or the first contact attempt recorded on the case, whichever came first.
Called by the daily run before it assesses (so a case whose only debt was the late fee closes the
same day) and by the desk and online payment before the receipt is issued (so the receipt shows it).
"""

from __future__ import annotations

from datetime import date

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from arrears.collection.models import Case, CaseStatus, ContactAttempt, OutgoingMessage
from arrears.ledger import incentives as ledger_incentives
from arrears.ledger.models import IncentiveKind, IncentiveProgramme


def first_reminders(*, community_ids=None, pairs=None) -> dict[tuple[int, int], date]:
    """(unit, owner) → the local date of the first reminder on the owner's open case, in one query."""
    communities = IncentiveProgramme.objects.filter(kind=IncentiveKind.LATE_FEE_WAIVER).values("community_id")
    cases = Case.objects.filter(status=CaseStatus.OPEN, community_id__in=communities)
    if community_ids is not None:
        cases = cases.filter(community_id__in=list(community_ids))
    if pairs is not None:
        pairs = set(pairs)
        cases = cases.filter(unit_id__in={u for u, _ in pairs}, owner_id__in={o for _, o in pairs})
    sent = OutgoingMessage.objects.filter(case=OuterRef("pk"), sent_at__isnull=False).order_by("sent_at").values("sent_at")[:1]
    tried = ContactAttempt.objects.filter(case=OuterRef("pk")).order_by("at").values("at")[:1]
    found = {}
    for unit_id, owner_id, sent_at, tried_at in (cases.annotate(sent=Subquery(sent), tried=Subquery(tried))
                                                 .values_list("unit_id", "owner_id", "sent", "tried")):
        moments = [m for m in (sent_at, tried_at) if m is not None]
        if moments and (pairs is None or (unit_id, owner_id) in pairs):
            found[(unit_id, owner_id)] = timezone.localdate(min(moments))
    return found


def waive_late_fees(*, as_of: date, community_ids=None, pairs=None, payment_id=None) -> int:
    """Grant the late-fee waivers the owners of open cases have earned by `as_of`; how many charges."""
    reminders = first_reminders(community_ids=community_ids, pairs=pairs)
    return len(ledger_incentives.grant_late_fee_waivers(first_reminders=reminders, as_of=as_of, payment_id=payment_id))
