"""Demo data for the portal: a published fee composition per community, a link to try, the sandbox named."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from arrears.collection.models import Case, CaseStatus
from arrears.estate.models import Community
from arrears.ledger.models import ChargeType
from arrears.notices.context import statement_link
from arrears.portal.models import FeeCategory, FeeComposition, FeeCompositionItem

# A typical residential composition (shares of the monthly fee per ㎡), adding up to 100%.
DEMO_SHARES = [
    (FeeCategory.STAFF, "40"), (FeeCategory.FACILITIES, "18"), (FeeCategory.ORDER, "14"), (FeeCategory.CLEANING, "12"),
    (FeeCategory.GREENING, "6"), (FeeCategory.OFFICE, "4"), (FeeCategory.INSURANCE, "4"), (FeeCategory.DEPRECIATION, "2"),
]


@transaction.atomic
def ensure_fee_compositions(published_on: date) -> int:
    """Publish the demo composition of the property fee in each community that has none (idempotent)."""
    fee = ChargeType.objects.filter(code="property_fee").first()
    if fee is None:
        return 0
    made = 0
    for community in Community.objects.exclude(fee_compositions__charge_type=fee):
        composition = FeeComposition.objects.create(community=community, charge_type=fee, published_on=published_on,
                                                    note="依据年度物业服务成本测算，经业主大会公示。")
        FeeCompositionItem.objects.bulk_create([
            FeeCompositionItem(composition=composition, category=category, percent=Decimal(share))
            for category, share in DEMO_SHARES
        ])
        made += 1
    return made


def sample_link() -> str:
    """The statement link of an owner with an open case, for trying the portal (on ARREARS_PUBLIC_URL)."""
    case = Case.objects.filter(status=CaseStatus.OPEN).select_related("owner").order_by("-principal").first()
    if case is None:
        return ""
    return statement_link(case.owner_id, case.unit_id, case.owner.link_generation)


SANDBOX = {"BACKEND": "arrears.portal.providers.sandbox.SandboxProvider"}


def demo_providers() -> dict:
    """The configured providers with the sandbox first: the demo names it, since production never defaults to it.

    The sandbox moves no money; its pages say so, and `check --deploy` refuses it with DEBUG off.
    """
    return {"sandbox": SANDBOX, **settings.PORTAL_PAYMENT_PROVIDERS}
