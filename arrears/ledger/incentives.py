"""Incentive programmes (seed 000): a manager opens and ends them; collection asks for the late-fee waiver.

The discounts of early payment and of a prepaid year are granted inside the ledger's own writes
(ledger/grants.py); the late-fee waiver needs the owner's first reminder, which only collection
knows, so collection calls `grant_late_fee_waivers` with it (the ledger never imports collection).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q

from arrears.core.errors import DomainError
from arrears.core.models import record
from arrears.core.money import MoneyError, to_money
from arrears.estate.models import Community, Unit
from arrears.ledger import grants, rules, services
from arrears.ledger.models import (
    ChargeType,
    Component,
    IncentiveGrant,
    IncentiveKind,
    IncentiveProgramme,
)


def _percent(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        percent = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise DomainError("优惠比例不是数字", "the percentage is not a number", code="percent") from exc
    if not percent.is_finite():
        raise DomainError("优惠比例不是数字", "the percentage is not a number", code="percent")
    if not (Decimal("0") < percent < Decimal("100")) or percent != percent.quantize(Decimal("0.01")):
        raise DomainError("优惠比例须大于 0、小于 100，最多两位小数", "the percentage must be between 0 and 100, two decimals at most",
                          code="percent")
    return percent


@transaction.atomic
def create_programme(*, community_id: int, kind: str, name: str, valid_from: date, valid_to: date | None = None,
                     days: int = 0, percent=None, amount=None, charge_type_ids: Iterable[int] = (),
                     created_by) -> IncentiveProgramme:
    """Open a programme; refused when its shape is wrong or another of its kind overlaps its dates.

    Two programmes of one kind at once in a community would leave the owner guessing which applies.
    """
    if kind not in IncentiveKind.values:
        raise DomainError("未知的优惠类型", "unknown incentive kind", code="kind")
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写活动名称", "the programme needs a name", code="name")
    if valid_to is not None and valid_to < valid_from:
        raise DomainError("截止日期早于生效日期", "the end date is before the start date", code="dates")
    if created_by is None or created_by.username == grants.SYSTEM_USERNAME:
        raise DomainError("优惠活动须由经理创建", "a programme is opened by a manager", code="creator")
    percent = _percent(percent)
    try:
        amount = to_money(amount) if amount not in (None, "") else None
    except MoneyError as exc:
        raise DomainError("优惠金额无效（最多两位小数）", "the amount is not valid money (two decimals at most)", code="amount") from exc
    if kind == IncentiveKind.LATE_FEE_WAIVER:
        percent = amount = None
    elif (percent is None) == (amount is None):
        raise DomainError("请填写优惠比例或优惠金额（二选一）", "give either a percentage or an amount", code="discount")
    elif amount is not None and amount <= 0:
        raise DomainError("优惠金额必须大于零", "the amount must be positive", code="amount")
    days = int(days or 0)
    if kind != IncentiveKind.PREPAY_YEAR and days < 1:
        raise DomainError("天数至少为 1", "the number of days must be at least 1", code="days")
    if kind == IncentiveKind.PREPAY_YEAR:
        days = 0
    # The community's row is the lock: two managers opening programmes of one community wait for each
    # other here, so the second sees the first's and the overlap check holds under concurrency. (No key
    # update: rows that merely refer to the community, payments among them, are not held up.)
    if not Community.objects.select_for_update(no_key=True).filter(pk=community_id).exists():
        raise DomainError("小区不存在", "no such community", code="community")
    overlapping = IncentiveProgramme.objects.filter(community_id=community_id, kind=kind).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
    if valid_to is not None:
        overlapping = overlapping.filter(valid_from__lte=valid_to)
    clash = overlapping.first()
    if clash is not None:
        raise DomainError(f"与本小区同类优惠活动“{clash.name}”的日期重叠",
                          f"overlaps the community's programme “{clash.name}” of the same kind", code="overlap")
    types = list(ChargeType.objects.filter(pk__in=list(charge_type_ids)))
    programme = IncentiveProgramme.objects.create(
        community_id=community_id, kind=kind, name=name, valid_from=valid_from, valid_to=valid_to, days=days,
        percent=percent, amount=amount, created_by=created_by,
    )
    programme.charge_types.set(types)
    return programme


@transaction.atomic
def end_programme(*, programme_id: int, on: date, staff=None) -> IncentiveProgramme:
    """End a programme on `on` (inclusive); what it already granted stands. The end is an audit event:
    who ended it, and its end before and after (the offer the owners were shown changed).

    One that has not started yet (it starts after today) and is ended before its start is called off:
    it ends the day before it starts, so it is never in force and a corrected one can take its dates.
    """
    programme = IncentiveProgramme.objects.select_for_update().get(pk=programme_id)
    if on < programme.valid_from and programme.valid_from > services.today():
        on = programme.valid_from - timedelta(days=1)
    elif on < programme.valid_from:
        raise DomainError("结束日期早于生效日期", "the end date is before the start date", code="dates")
    if programme.valid_to is not None and programme.valid_to <= on:
        raise DomainError("该活动已在此日期前结束", "the programme already ends on or before that day", code="ended")
    last = programme.grants.filter(withdraws__isnull=True).order_by("-granted_on").values_list("granted_on", flat=True).first()
    if last is not None and on < last:
        # what it granted stands: an end before a grant would leave a discount given by a programme not in force
        raise DomainError(f"该活动在 {last} 仍有发放，结束日期不能早于该日",
                          f"the programme granted a discount on {last}: it cannot end before that day", code="granted")
    old = programme.valid_to
    programme.valid_to = on
    programme.save(update_fields=["valid_to"])
    record(actor=staff, action="incentive_programme_ended", community_id=programme.community_id, programme=programme.pk,
           old_valid_to=None if old is None else old.isoformat(), new_valid_to=on.isoformat())
    return programme


@transaction.atomic
def grant_late_fee_waivers(*, first_reminders: Mapping[tuple[int, int], date], as_of: date,
                           payment_id=None) -> list[IncentiveGrant]:
    """Waive the late fee of owners who paid all their overdue principal within N days of their first reminder.

    `first_reminders`: (unit, owner) → the day of the first message sent or contact attempt on the
    owner's case (collection knows it). The principal counts as paid on the day its last charge's
    principal was cleared; that day must fall within the programme's dates and within N days of
    the reminder. Each charge's late fee still owed on `as_of` is waived; a charge is waived once.
    `payment_id`: the payment just taken that cleared it, named on the grant (and so on its receipt).
    """
    if not first_reminders:
        return []
    unit_ids = sorted({unit_id for unit_id, _ in first_reminders})
    community_of = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "community_id"))
    found = grants.programmes(set(community_of.values()), [IncentiveKind.LATE_FEE_WAIVER])
    pairs = [pair for pair in first_reminders if found.get(community_of.get(pair[0]))]
    if not pairs:
        return []
    list(Unit.objects.select_for_update().filter(pk__in=sorted({u for u, _ in pairs})).order_by("pk").values_list("pk", flat=True))
    accounts = services.load_accounts(pairs)
    open_ids = [c.id for a in accounts.values() for c in a.charges]
    taken = set(IncentiveGrant.objects.filter(charge_id__in=open_ids, component=Component.LATE_FEE,
                                              withdraws__isnull=True).values_list("charge_id", flat=True))
    written, touched = [], []
    for pair, account in sorted(accounts.items()):
        overdue = [c for c in account.charges if c.due_date < as_of]
        fees = [(c, c.late_fee_outstanding(as_of)) for c in overdue if c.id not in taken]
        fees = [(c, fee) for c, fee in fees if fee > 0]
        if not fees or any(c.principal_outstanding > 0 for c in overdue):
            continue
        cleared = max(rules.reached_on(c.principal_events, c.amount) or as_of for c, _ in fees)
        programme = next((p for p in found[account.community_id]
                          if p.in_force(cleared) and cleared <= first_reminders[pair] + timedelta(days=p.days)), None)
        if programme is None:
            continue
        for charge, fee in fees:
            written.append(grants.write_grant(programme=programme, charge_id=charge.id, component=Component.LATE_FEE,
                                              amount=fee, on=as_of, payment_id=payment_id))
            charge.late_fee_events.append((as_of, fee))
        touched.append(account)
    services._refresh_settled(touched, {g.charge_id for g in written})
    return written
