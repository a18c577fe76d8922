"""The demo's insights: targets for this month and quarter, one incentive programme of each kind, and a
trained early-warning model, so the dashboard, 目标考核 and 优惠活动 pages open on something real."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model

from arrears.collection.models import CollectorAssignment
from arrears.core.errors import DomainError
from arrears.estate.models import Community, Company
from arrears.insights import kpis, risk, targets
from arrears.insights.models import PeriodKind
from arrears.ledger import incentives
from arrears.ledger.models import IncentiveKind, IncentiveProgramme
from arrears.ledger.rules import add_months

HUNDRED = Decimal("100")


def _goal(recovered: Decimal, months: int) -> Decimal:
    """Last month's recovery, 10% more, per month of the period, in whole hundreds (at least ¥1,000)."""
    wanted = recovered * Decimal("1.1") * months / HUNDRED
    return max(Decimal("1000"), wanted.quantize(Decimal("1"), rounding=ROUND_HALF_UP) * HUNDRED).quantize(Decimal("0.01"))


def seed_targets(manager, *, today: date) -> int:
    """A month and a quarter target per community and per collector, from last month's recovered amount."""
    last_month_end = date.fromordinal(today.replace(day=1).toordinal() - 1)
    by_building = kpis.building_figures(last_month_end)
    users = get_user_model().objects
    made = 0
    for community in Community.objects.order_by("pk"):
        buildings = list(community.buildings.values_list("pk", flat=True))
        recovered = kpis.total(by_building[pk] for pk in buildings if pk in by_building).recovered
        people = {}
        for row in CollectorAssignment.objects.filter(community=community).values("user_id", "building_id"):
            people.setdefault(row["user_id"], []).append(row["building_id"])
        for kind, months in ((PeriodKind.MONTH, 1), (PeriodKind.QUARTER, 3)):
            start = targets.period_of(kind, today).start
            targets.set_target(staff=manager, community=community, kind=kind, period_start=start,
                               amount=_goal(recovered, months))
            made += 1
            for user_id, own in sorted(people.items()):
                mine = kpis.total(by_building[pk] for pk in own if pk in by_building).recovered
                targets.set_target(staff=manager, community=community, kind=kind, period_start=start,
                                   collector=users.get(pk=user_id), amount=_goal(mine, months))
                made += 1
    return made


def seed_programmes(manager, *, today: date) -> int:
    """From this month: 2% off for paying 10 days early and 5% off a prepaid year in the first community;
    late fees waived for owners who clear their arrears within 15 days of the first reminder in every one."""
    start = today.replace(day=1)
    communities = list(Community.objects.order_by("pk"))
    made = 0
    for index, community in enumerate(communities):
        if IncentiveProgramme.objects.filter(community=community).exists():
            continue
        wanted = [(IncentiveKind.LATE_FEE_WAIVER, "主动缴清免滞纳金", {"days": 15})]
        if index == 0:
            wanted += [(IncentiveKind.EARLY_PAYMENT, "提前十天缴费九八折", {"days": 10, "percent": "2"}),
                       (IncentiveKind.PREPAY_YEAR, "预缴全年九五折", {"percent": "5"})]
        for kind, name, shape in wanted:
            incentives.create_programme(community_id=community.pk, kind=kind, name=name, valid_from=start,
                                        valid_to=date.fromordinal(add_months(start, 12).toordinal() - 1),
                                        created_by=manager, **shape)
            made += 1
    return made


def train_models(*, today: date) -> list[dict]:
    """Train each company's model on the demo history; too little history is skipped, as in production."""
    reports = []
    for company_id in Company.objects.order_by("pk").values_list("pk", flat=True):
        try:
            reports.append(risk.train(company_id=company_id, today=today))
        except DomainError:
            continue
        risk.score(company_id=company_id, as_of=today)
    return reports


def seed_insights(*, today: date) -> dict:
    manager = get_user_model().objects.get(username="manager")
    return {"targets": seed_targets(manager, today=today), "programmes": seed_programmes(manager, today=today),
            "models": train_models(today=today)}
