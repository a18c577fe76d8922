"""Demo collection history: what collectors would have logged for owners of each demo persona.

Two weeks before the demo date the daily run opens the cases; then attempts, promises, tickets
and profiles are written the way the personas behave (DESIGN.md §2), and the run goes again on
the demo date, so every page shows situations, techniques, promises and guard verdicts. The
demo staff exist first (arrears.demo.staff), so each case has its building's collector and each
call is logged by them.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from arrears.collection.models import (
    Case,
    CaseStatus,
    ContactAttempt,
    OwnerProfile,
    ProfileChange,
    Promise,
    PromiseStatus,
)
from arrears.collection.run import run_collection
from arrears.demo.history import DISPUTE, EVASIVE, LATE, PROMISE_BREAKER, VACANT
from arrears.estate.models import ServiceTicket, ticket_due_days

JUDGED = {LATE: ("understanding", "economic", ""), DISPUTE: ("resistant", "service", ""),
          EVASIVE: ("evasive", "communication", "deliberate"), VACANT: ("neglectful", "cognition", "")}


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


@transaction.atomic
def seed_collection(owner_personas: dict[int, str], *, today: date, seed: int = 2026) -> dict:
    """Open the cases two weeks back, log two weeks of collectors' work, run again today."""
    rng = random.Random(seed)
    start = today - timedelta(days=14)
    run_collection(as_of=start)
    cases = list(Case.objects.filter(status=CaseStatus.OPEN).select_related("unit").order_by("pk"))
    attempts, promises, tickets, profiles = [], [], [], []
    for case in cases:
        persona = owner_personas.get(case.owner_id)
        day = start + timedelta(days=rng.randrange(1, 10))

        def attempt(outcome, when, reason="", notes="", channel="call", case=case):
            attempts.append(ContactAttempt(
                community_id=case.community_id, case=case, unit_id=case.unit_id, owner_id=case.owner_id,
                channel=channel, at=_at(when, rng.choice([10, 11, 15, 16, 19])), outcome=outcome, reason=reason,
                notes=notes, relation="self", staff_id=case.collector_id,  # the building's collector made the call
            ))

        if persona == EVASIVE:
            for offset, outcome in enumerate(["no_answer", "rejected", "no_answer"]):
                attempt(outcome, day + timedelta(days=offset))
        elif persona == PROMISE_BREAKER:
            attempt("promised", day, reason="busy", notes="说最近忙，月底前一定来交")
            promises.append(Promise(community_id=case.community_id, case=case, amount=case.principal,
                                    due_on=day + timedelta(days=2), made_on=day))
        elif persona == DISPUTE:
            attempt("refused", day, reason="service", notes="卫生间渗水一直没修好，修好再交")
            opened_on = start - timedelta(days=90)
            tickets.append(ServiceTicket(community_id=case.community_id, unit_id=case.unit_id, kind="rectification",
                                         summary="卫生间楼板渗水，待开发商整改", opened_on=opened_on,
                                         due_on=opened_on + timedelta(days=ticket_due_days("rectification"))))
        elif persona == LATE:
            attempt("answered", day, reason="economic", notes="生意周转困难，问能否分期")
        elif persona == VACANT:
            attempt("answered", day, reason="vacant", notes="房子一直空着没住，觉得不该交全额")
        if persona in JUDGED and rng.randrange(2):
            judged, reason, intent = JUDGED[persona]
            profiles.append(OwnerProfile(community_id=case.community_id, owner_id=case.owner_id, persona=judged,
                                         reason=reason, intent=intent, irritable=persona == DISPUTE and rng.randrange(2)))
    ContactAttempt.objects.bulk_create(attempts)
    Promise.objects.bulk_create(promises)
    ServiceTicket.objects.bulk_create(tickets)
    OwnerProfile.objects.bulk_create(profiles)
    ProfileChange.objects.bulk_create([
        ProfileChange(community_id=p.community_id, profile=p, persona=p.persona, irritable=p.irritable, reason=p.reason,
                      intent=p.intent, note="演示数据", changed_at=_at(start, 9))
        for p in OwnerProfile.objects.all()
    ])
    run_collection(as_of=start + timedelta(days=7))
    run_collection(as_of=today)
    return {
        "cases": Case.objects.filter(status=CaseStatus.OPEN).count(), "attempts": len(attempts),
        "promises_broken": Promise.objects.filter(status=PromiseStatus.BROKEN).count(),
    }
