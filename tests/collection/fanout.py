"""The fan-out tests' portfolio and the run's output as plain rows, comparable across databases.

Imported by the tests, by the Celery workers they start (`tests/collection/fanout_worker.py`) and
by the single-process run they start on a copy of the database (`python -m tests.collection.fanout`).
"""

import re
from datetime import date
from decimal import Decimal

DAY = date(2026, 3, 20)
NEXT_DAY = date(2026, 3, 21)
COMMUNITIES = ("东区", "西区", "南区", "北区", "中区")
# Four owner-units a community: up to date, paid one month, paid nothing, paid a little.
PAID = (Decimal("600.00"), Decimal("200.00"), Decimal("0"), Decimal("50.00"))


def build_portfolio() -> list[int]:
    """Five communities of four units, billed since January: most owners in arrears, one up to date."""
    from arrears.collection.run import ensure_policies
    from arrears.estate.models import Contact
    from arrears.ledger import services
    from tests import factories

    company = factories.company()
    ids = []
    for number, name in enumerate(COMMUNITIES):
        community = factories.community(name, company_obj=company)
        factories.tariff(community)
        payers = []
        for room, paid in enumerate(PAID, start=1):
            unit = factories.unit(community, room=f"{room}0{number}", area=str(90 + 10 * room))
            owner = factories.owner(unit, f"业主{number}{room}")
            Contact.objects.create(community=community, owner=owner, kind="mobile", value=f"1380000{number}{room:03d}")
            payers.append((unit, owner, paid))
        services.bill(through=date(2026, 3, 1), community_ids=[community.pk])
        for unit, owner, paid in payers:
            if paid:
                services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=paid, paid_on=date(2026, 2, 1),
                                        method="cash")
        ids.append(community.pk)
    ensure_policies()  # before the copy: both runs then see the same ladder ids
    return ids


def add_community(name: str = "新区") -> int:
    """A community in arrears added after the portfolio (while a run is in flight)."""
    from arrears.estate.models import Community, Contact
    from arrears.ledger import services
    from tests import factories

    community = factories.community(name, company_obj=Community.objects.first().company)
    factories.tariff(community)
    unit = factories.unit(community, room="901")
    owner = factories.owner(unit, "新业主")
    Contact.objects.create(community=community, owner=owner, kind="mobile", value="13900000901")
    services.bill(through=date(2026, 3, 1), community_ids=[community.pk])
    return community.pk


# Left out of the comparison: ids and the moments rows were written (not what the run decided).
LEFT_OUT = {"id", "created_at", "computed_at"}


def snapshot() -> dict[str, list]:
    """Every case, case step, task, outbox row and arrears summary the runs wrote, field by field.

    A reference to a case is replaced by the case's natural key (unit, owner, opened on): two runs
    number their cases in the order their parts ran.
    """
    from arrears.collection.models import ArrearsSummary, Case, CaseStep, OutgoingMessage, Task

    cases = {pk: f"{unit}:{owner}:{opened}" for pk, unit, owner, opened in
             Case.objects.values_list("pk", "unit_id", "owner_id", "opened_on")}
    found = {}
    for model in (Case, CaseStep, Task, OutgoingMessage, ArrearsSummary):
        columns = [f.attname for f in model._meta.concrete_fields if f.attname not in LEFT_OUT]
        rows = []
        for row in model.objects.values(*columns):
            for name in ("case_id", "previous_id"):
                if name in row and row[name] is not None:
                    row[name] = cases[row[name]]
            if "key" in row:  # a message's key names its case: "case:<id>:step:…"
                row["key"] = re.sub(r"case:(\d+)", lambda m: f"case:{cases[int(m.group(1))]}", row["key"])
            rows.append({key: None if value is None else str(value) for key, value in row.items()})
        found[model.__name__] = sorted(rows, key=lambda r: sorted(r.items()))
    return found


if __name__ == "__main__":  # the single-process run on the database of DATABASE_URL; its snapshot as JSON
    import json
    import sys

    import django

    django.setup()
    from arrears.collection.run import run_collection

    run_collection(as_of=date.fromisoformat(sys.argv[1]))
    json.dump(snapshot(), sys.stdout)
