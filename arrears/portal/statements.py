"""What the owner's link shows: the owner's units, open charges with late fees, credit, fee composition.

Reads only; every figure comes from the ledger's selectors as of today, so the page, the SMS and
the letter agree to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Sum

from arrears.collection.models import ChargeDispute
from arrears.core.money import ZERO, MoneyField, round_money
from arrears.estate.models import Company, Owner, Ownership, Unit
from arrears.ledger.models import Payment, Tariff
from arrears.ledger.selectors import (
    ChargeLine,
    IncentiveLine,
    Offer,
    charge_lines,
    incentive_offers,
    owner_incentive_grants,
)
from arrears.notices.context import read_statement_token
from arrears.portal.models import FeeComposition, Receipt

# Charges billed and due within this many days are shown (and payable) before they fall due.
UPCOMING_DAYS = 45


@dataclass
class Access:
    """Whom a valid link speaks for: one owner, the unit the link was sent about first."""

    owner: Owner
    unit: Unit
    units: list[Unit]


def resolve_token(token: str) -> Access | None:
    """The owner and units a link may show, or None when it is forged, expired or revoked.

    A link is revoked by raising the owner's `link_generation`; it shows only units the owner
    holds or held (an owner who sold keeps seeing the debts of their own period, nobody else's).
    """
    days = settings.PORTAL_LINK_DAYS
    found = read_statement_token(token, max_age_seconds=days * 86400)
    if found is None:
        return None
    owner = Owner.objects.filter(pk=found.owner_id).select_related("community__company").first()
    if owner is None or owner.link_generation != found.generation:
        return None
    unit_ids = list(Ownership.objects.filter(owner=owner).values_list("unit_id", flat=True).distinct())
    if found.unit_id not in unit_ids:
        return None
    units = list(Unit.objects.filter(pk__in=unit_ids).select_related("community", "building").order_by("building__sort_key", "sort_key", "pk"))
    unit = next(u for u in units if u.pk == found.unit_id)
    units.sort(key=lambda u: u.pk != unit.pk)
    return Access(owner=owner, unit=unit, units=units)


@dataclass
class Office:
    """Where an owner whose link does not open can ask for a new one; says nothing about any debt."""

    company: str
    phone: str
    community: str = ""
    place: str = ""
    hours: str = ""


def office_for(token: str) -> Office | None:
    """The property office of the community a link was sent about, else the company's when there is only one.

    A link that is expired or revoked still carries our signature and its unit, so the owner is told
    whom to call there; a forged or mangled one names nothing, and then only a single company's
    phone is given (with several, we cannot know which to name, and the page says so).
    """
    found = read_statement_token(token, max_age_seconds=None)
    unit = Unit.objects.filter(pk=found.unit_id).select_related("community__company").first() if found else None
    if unit is not None:
        community = unit.community
        return Office(company=community.company.name, phone=community.company.phone, community=community.name,
                      place=community.service_centre or community.address, hours=community.service_hours)
    companies = list(Company.objects.order_by("pk")[:2])
    if len(companies) == 1:
        return Office(company=companies[0].name, phone=companies[0].phone, place=companies[0].address)
    return None


@dataclass
class Line:
    charge: ChargeLine
    disputed: bool

    @property
    def total(self) -> Decimal:
        return self.charge.outstanding + self.charge.late_fee

    @property
    def overdue(self) -> bool:
        return self.charge.days_overdue > 0

    @property
    def picked(self) -> bool:
        """Ticked when the page opens: what is overdue and not disputed (a disputed charge is paid only
        when the owner ticks it; one not yet due may be paid early, by ticking it)."""
        return self.overdue and not self.disputed

    @property
    def year(self) -> int:
        return self.charge.period_start.year


@dataclass
class YearGroup:
    """The charges of one billing year: the newest year is open, older years are folded."""

    year: int
    lines: list[Line]
    open: bool

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), ZERO)

    @property
    def picked_count(self) -> int:
        return sum(1 for line in self.lines if line.picked)


@dataclass
class Unpicked:
    """Why part of what is owed is not in the pay button: the reason, how many charges, how much."""

    reason: str  # "not_due" or "disputed"
    count: int
    amount: Decimal


@dataclass
class UnitAccount:
    unit: Unit
    lines: list[Line] = field(default_factory=list)
    credit: Decimal = ZERO
    # Seed 000's incentives: what the owner can still earn, and what was granted in the last year.
    offers: list[Offer] = field(default_factory=list)
    incentives: list[IncentiveLine] = field(default_factory=list)

    @property
    def years(self) -> list[YearGroup]:
        """Charges by billing year, newest year first and open, each year's charges oldest first."""
        by_year: dict[int, list[Line]] = {}
        for line in self.lines:
            by_year.setdefault(line.year, []).append(line)
        return [YearGroup(year, by_year[year], open=index == 0)
                for index, year in enumerate(sorted(by_year, reverse=True))]

    @property
    def picked_total(self) -> Decimal:
        """What the pay button asks when the page opens."""
        return sum((line.total for line in self.lines if line.picked), ZERO)

    @property
    def unpicked_total(self) -> Decimal:
        return self.total - self.picked_total

    @property
    def unpicked(self) -> list[Unpicked]:
        """The difference between the total and the pay button, by reason; they add up to it exactly."""
        disputed = [line for line in self.lines if line.disputed]
        not_due = [line for line in self.lines if not line.disputed and not line.overdue]
        return [Unpicked(reason, len(lines), sum((line.total for line in lines), ZERO))
                for reason, lines in (("not_due", not_due), ("disputed", disputed)) if lines]

    @property
    def principal(self) -> Decimal:
        return sum((line.charge.outstanding for line in self.lines), ZERO)

    @property
    def late_fee(self) -> Decimal:
        return sum((line.charge.late_fee for line in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        return self.principal + self.late_fee

    @property
    def overdue_total(self) -> Decimal:
        return sum((line.total for line in self.lines if line.overdue), ZERO)


def owner_lines(*, unit_id: int, owner_id: int, today: date) -> list[ChargeLine]:
    """The owner's open charges on the unit as of today: overdue ones and those due soon."""
    lines = charge_lines(today, unit_ids=[unit_id], due_before=today + timedelta(days=UPCOMING_DAYS))
    return [line for line in lines if line.owner_id == owner_id]


def accounts(access: Access, *, today: date) -> list[UnitAccount]:
    unit_ids = [u.pk for u in access.units]
    disputed = set(
        ChargeDispute.objects.filter(charge__unit_id__in=unit_ids, charge__owner_id=access.owner.pk, closed_on__isnull=True)
        .values_list("charge_id", flat=True)
    )
    credit = credit_by_owner(unit_ids=unit_ids, owner_ids=[access.owner.pk])
    result = []
    for unit in access.units:
        account = UnitAccount(unit=unit, credit=credit.get((unit.pk, access.owner.pk), ZERO))
        account.lines = [Line(line, line.charge_id in disputed)
                         for line in owner_lines(unit_id=unit.pk, owner_id=access.owner.pk, today=today)]
        result.append(account)
    offers = incentive_offers(lines=[line.charge for a in result for line in a.lines], units=access.units,
                              owner_id=access.owner.pk, credit=credit, today=today)
    granted = owner_incentive_grants(unit_ids=unit_ids, owner_id=access.owner.pk, since=today - timedelta(days=366))
    for account in result:
        account.offers = [offer for offer in offers if offer.unit_id == account.unit.pk]
        account.incentives = [line for line in granted if line.unit_id == account.unit.pk]
    return result


def credit_by_owner(*, unit_ids, owner_ids) -> dict[tuple[int, int], Decimal]:
    """Prepaid credit not yet spent, per (unit, owner): the owner's page and the cashier desk both show it."""
    rows = (Payment.objects.filter(unit_id__in=list(unit_ids), owner_id__in=list(owner_ids), unallocated__gt=0)
            .order_by().values_list("unit_id", "owner_id")
            .annotate(total=Sum("unallocated", output_field=MoneyField(max_digits=20))))
    return {(unit_id, owner_id): total for unit_id, owner_id, total in rows}


@dataclass
class CompositionItem:
    label: str
    percent: Decimal
    per_unit: Decimal | None
    note: str


@dataclass
class Composition:
    charge_type: str
    price: Decimal | None
    basis_label: str
    published_on: date
    note: str
    items: list[CompositionItem]


def fee_compositions(unit: Unit, *, today: date) -> list[Composition]:
    """Each published composition in force, with each item's share of the tariff's price (≈, rounded to 分)."""
    found = []
    latest = {}
    for comp in (FeeComposition.objects.filter(community_id=unit.community_id, published_on__lte=today)
                 .select_related("charge_type").prefetch_related("items").order_by("charge_type_id", "-published_on")):
        latest.setdefault(comp.charge_type_id, comp)
    for comp in latest.values():
        tariff = (Tariff.objects.filter(community_id=unit.community_id, charge_type_id=comp.charge_type_id, effective_from__lte=today)
                  .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=today)).order_by("-effective_from").first())
        price = tariff.price if tariff else None
        items = [
            CompositionItem(item.get_category_display(), item.percent,
                            round_money(price * item.percent / 100) if price is not None else None, item.note)
            for item in comp.items.all()
        ]
        found.append(Composition(comp.charge_type.name, price, tariff.get_basis_display() if tariff else "",
                                 comp.published_on, comp.note, items))
    return found


def receipts_of(access: Access) -> list[Receipt]:
    return list(Receipt.objects.filter(payment__owner_id=access.owner.pk, payment__unit_id__in=[u.pk for u in access.units])
                .select_related("payment").order_by("-issued_at")[:50])

