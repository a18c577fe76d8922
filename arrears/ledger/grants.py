"""Incentive grants inside the ledger's own writes (seed 000: early payment, a prepaid year).

A discount is an approved `Waiver` decided by the system, plus an append-only `IncentiveGrant`
naming the programme. It is granted *before* the money is written: `apply_credit` plans the
allocations, asks `grant_discounts` which charges that money earns a discount on, writes the
waivers and plans again. So an owner who pays the full, undiscounted amount keeps the discount as
prepaid credit, and one who pays exactly the discounted amount settles the charge. Called under
the unit locks of the service that calls it; imports no service, so the services may import it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Q, Sum

from arrears.core.money import ZERO, MoneyField
from arrears.estate.models import Vehicle
from arrears.ledger import rules
from arrears.ledger.models import (
    Allocation,
    Charge,
    ChargeOrigin,
    Component,
    IncentiveGrant,
    IncentiveKind,
    IncentiveProgramme,
    Payment,
    PrepayAward,
    Tariff,
    TariffScope,
    Waiver,
    WaiverStatus,
)

SYSTEM_USERNAME = "arrears-system"
RECURRING_ORIGINS = (ChargeOrigin.BILLED, ChargeOrigin.IMPORTED)
TOTAL = MoneyField(max_digits=20)  # exact 分 from SQLite sums too


def system_user():
    """The approver of waivers the system decides by a programme's rule (four eyes: the manager who
    opened the programme asked for them). It cannot log in."""
    user, created = get_user_model().objects.get_or_create(username=SYSTEM_USERNAME, defaults={"is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def reason(programme: IncentiveProgramme) -> str:
    return f"优惠活动“{programme.name}”（{IncentiveKind(programme.kind).label}）/ incentive programme #{programme.pk}"[:300]


def write_grant(*, programme: IncentiveProgramme, charge_id: int, component: str, amount, on: date,
                payment_id=None, award_id=None) -> IncentiveGrant:
    """One grant: the approved waiver dated `on` and the link row; the unique index refuses a second."""
    waiver = Waiver.objects.create(
        community_id=programme.community_id, charge_id=charge_id, component=component, amount=amount,
        reason=reason(programme), status=WaiverStatus.APPROVED, requested_by_id=programme.created_by_id,
        approved_by=system_user(), requested_on=on, decided_on=on,
    )
    return IncentiveGrant.objects.create(
        community_id=programme.community_id, programme=programme, kind=programme.kind, charge_id=charge_id,
        component=component, waiver=waiver, amount=amount, granted_on=on, payment_id=payment_id, award_id=award_id,
    )


def programmes(community_ids: Iterable[int], kinds: Iterable[str]) -> dict[int, list[IncentiveProgramme]]:
    """The communities' programmes of these kinds, oldest first (the first that fits is the one applied)."""
    found = defaultdict(list)
    for programme in (IncentiveProgramme.objects.filter(community_id__in=set(community_ids), kind__in=list(kinds))
                      .prefetch_related("charge_types").order_by("pk")):
        found[programme.community_id].append(programme)
    return found


def covers(programme: IncentiveProgramme, charge_type_id: int) -> bool:
    types = {t.pk for t in programme.charge_types.all()}
    return not types or charge_type_id in types


def grant_discounts(accounts, planned: list[rules.PlannedAllocation]) -> set[int]:
    """Grant the early-payment and prepaid-year discounts the planned money earns; the charges granted.

    `accounts` hold the states after planning (the rules mutate them): a charge earns the
    early-payment discount when its principal reductions dated on or before the deadline reach the
    amount less the discount. Only billed or imported charges (recurring fees) earn one; a charge
    gets at most one principal discount, ever. The caller plans again when any was granted.
    """
    accounts = list(accounts)
    found = programmes({a.community_id for a in accounts}, [IncentiveKind.EARLY_PAYMENT, IncentiveKind.PREPAY_YEAR])
    if not found:
        return set()
    open_ids = [c.id for a in accounts for c in a.charges]
    info = {pk: (charge_type_id, origin) for pk, charge_type_id, origin in
            Charge.objects.filter(pk__in=open_ids).values_list("pk", "charge_type_id", "origin")}
    taken = set(IncentiveGrant.objects.filter(charge_id__in=open_ids, component=Component.PRINCIPAL,
                                              withdraws__isnull=True).values_list("charge_id", flat=True))
    planned_on = defaultdict(lambda: ZERO)
    last_payment = {}
    for p in planned:
        if p.component == Component.PRINCIPAL:
            planned_on[p.charge_id] += p.amount
            last_payment[p.charge_id] = p.payment_id
    awards = defaultdict(list)
    prepay_communities = [c for c, progs in found.items() if any(p.kind == IncentiveKind.PREPAY_YEAR for p in progs)]
    if prepay_communities:
        for award in (PrepayAward.objects.filter(community_id__in=prepay_communities, unit_id__in={a.unit_id for a in accounts},
                                                 payment__reversal__isnull=True)
                      .select_related("programme", "payment")):
            awards[(award.unit_id, award.owner_id)].append(award)
    award_granted = defaultdict(lambda: ZERO, {
        award_id: total for award_id, total in IncentiveGrant.objects.filter(
            award_id__in=[a.pk for items in awards.values() for a in items]).values_list("award_id")
        .annotate(total=Sum("amount", output_field=TOTAL)).order_by()
    })
    granted = set()
    for account in accounts:
        for charge in account.charges:
            charge_type_id, origin = info[charge.id]
            if charge.id in taken or origin not in RECURRING_ORIGINS:
                continue
            before = charge.principal_outstanding + planned_on[charge.id]  # owed before this money came
            award = next((a for a in awards[(account.unit_id, account.owner_id)]
                          if a.starts <= charge.period_start <= a.ends), None)
            if award is not None:
                programme = award.programme
                discount = min(before, rules.incentive_discount(amount=charge.amount, percent=programme.percent,
                                                                fixed=programme.amount, granted=award_granted[award.pk]))
                if discount > 0:
                    on = max(award.payment.paid_on, charge.period_start)
                    write_grant(programme=programme, charge_id=charge.id, component=Component.PRINCIPAL, amount=discount,
                                on=on, payment_id=award.payment_id, award_id=award.pk)
                    award_granted[award.pk] += discount
                    granted.add(charge.id)
                continue
            for programme in found.get(account.community_id, ()):
                if (programme.kind != IncentiveKind.EARLY_PAYMENT or not programme.in_force(charge.due_date)
                        or not covers(programme, charge_type_id)):
                    continue
                discount = rules.incentive_discount(amount=charge.amount, percent=programme.percent, fixed=programme.amount)
                if discount <= 0 or discount >= charge.amount:  # nothing is given without money
                    continue
                deadline = rules.early_payment_deadline(charge.due_date, programme.days)
                on = rules.reached_on([(t, a) for t, a in charge.principal_events if t <= deadline], charge.amount - discount)
                discount = min(discount, before)
                if on is not None and discount > 0:
                    write_grant(programme=programme, charge_id=charge.id, component=Component.PRINCIPAL, amount=discount,
                                on=on, payment_id=last_payment.get(charge.id))
                    granted.add(charge.id)
                break
    return granted


def yearly_amount(*, unit, on: date):
    """Twelve months of the unit's recurring charges at the tariffs in force on `on` (area × price × 12)."""
    has_vehicle = Vehicle.objects.filter(unit_id=unit.pk).exists()
    total = ZERO
    tariffs = Tariff.objects.filter(community_id=unit.community_id, effective_from__lte=on).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=on))
    for tariff in tariffs:
        if tariff.scope == TariffScope.UNITS_WITH_VEHICLE and not has_vehicle:
            continue
        total += rules.full_amount(basis=tariff.basis, price=tariff.price, floor_area=unit.floor_area, months=12)
    return total


def prepay_programme(payment: Payment) -> IncentiveProgramme | None:
    """The prepaid-year programme of the payment's community in force on its date (the oldest), if any."""
    return next((p for p in programmes([payment.community_id], [IncentiveKind.PREPAY_YEAR]).get(payment.community_id, ())
                 if p.in_force(payment.paid_on)), None)


def award_prepaid_year(*, programme: IncentiveProgramme, payment: Payment, unit, account) -> PrepayAward | None:
    """Award the prepaid-year reward when this payment, with the owner's earlier credit, pays every
    open charge of periods before next month and twelve months of the unit's recurring charges."""
    starts, ends = rules.prepay_year_span(payment.paid_on)
    money = sum((p.unallocated for p in account.payments), ZERO)
    owed = sum((c.principal_outstanding + c.late_fee_outstanding(payment.paid_on) for c in account.charges
                if c.period_start < starts), ZERO)
    year = yearly_amount(unit=unit, on=payment.paid_on)
    if year <= 0 or money < owed + year:
        return None
    return PrepayAward.objects.create(community_id=payment.community_id, programme=programme, unit_id=payment.unit_id,
                                      owner_id=payment.owner_id, payment=payment, starts=starts, ends=ends)


def withdraw_for_reversal(*, payment: Payment, reversed_on: date) -> list[IncentiveGrant]:
    """Withdraw what a reversed payment had earned: a new row per grant and a new charge of its amount.

    The waiver stands (the ledger is append-only); the amount is owed again as an adjustment charge
    due on the reversal day, with no late fee of its own. A grant is withdrawn when the money left
    without this payment no longer meets its condition: for early payment, principal paid by the
    deadline from payments not reversed; for the late-fee waiver, the whole principal; a prepaid
    year's grants go with their payment.
    """
    principal = Allocation.objects.filter(payment=payment, component=Component.PRINCIPAL, reversal__isnull=True)
    live = (IncentiveGrant.objects.filter(withdraws__isnull=True, withdrawal__isnull=True)
            .filter(Q(payment=payment) | Q(award__payment=payment)
                    | Q(kind__in=[IncentiveKind.EARLY_PAYMENT, IncentiveKind.LATE_FEE_WAIVER],
                        charge_id__in=principal.values("charge_id")))
            .select_related("charge", "programme").order_by("pk"))
    withdrawn = []
    for grant in live:
        if grant.award_id is None and _still_earned(grant, payment):
            continue
        charge = grant.charge
        restore = Charge.objects.create(
            community_id=charge.community_id, unit_id=charge.unit_id, owner_id=charge.owner_id,
            charge_type_id=charge.charge_type_id, period_start=charge.period_start, period_end=charge.period_end,
            amount=grant.amount, due_date=reversed_on, origin=ChargeOrigin.ADJUSTMENT,
            note=f"撤回优惠“{grant.programme.name}”（缴费冲正）/ incentive withdrawn: payment reversed"[:200],
        )
        withdrawn.append(IncentiveGrant.objects.create(
            community_id=grant.community_id, programme_id=grant.programme_id, kind=grant.kind, charge_id=grant.charge_id,
            component=grant.component, amount=-grant.amount, granted_on=reversed_on, payment=payment, withdraws=grant,
            restores=restore,
        ))
    return withdrawn


def _still_earned(grant: IncentiveGrant, reversed_payment: Payment) -> bool:
    charge = grant.charge
    kept = Allocation.objects.filter(charge_id=charge.pk, component=Component.PRINCIPAL, reversal__isnull=True,
                                     payment__reversal__isnull=True).exclude(payment=reversed_payment)
    if grant.kind == IncentiveKind.EARLY_PAYMENT:
        deadline = rules.early_payment_deadline(charge.due_date, grant.programme.days)
        paid = kept.filter(value_date__lte=deadline).aggregate(total=Sum("amount", output_field=TOTAL))["total"] or ZERO
        return paid + grant.amount >= charge.amount
    waived = (Waiver.objects.filter(charge_id=charge.pk, component=Component.PRINCIPAL, status=WaiverStatus.APPROVED)
              .aggregate(total=Sum("amount", output_field=TOTAL))["total"] or ZERO)
    return (kept.aggregate(total=Sum("amount", output_field=TOTAL))["total"] or ZERO) + waived >= charge.amount
