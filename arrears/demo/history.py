"""Demo data: one company, two communities, ~N units, three years of bills and payments.

Owners behave like the personas and situations of DESIGN.md §2 so that every later screen
(lists, cases, letters) has someone to show. Everything is drawn from one seed: the same seed
gives the same database content. Speed comes from bulk_create for the estate and the payments,
`services.bill` for the charges and `services.apply_credit` for allocation, which replays the
payments day by day with the company's rule, exactly as if they had been entered one by one.
"""

from __future__ import annotations

import random
import string
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop
from faker import Faker

from arrears.core.errors import DomainError
from arrears.core.money import ZERO, round_money
from arrears.estate.models import (
    Building,
    Community,
    Company,
    Contact,
    ContactKind,
    ContactRelation,
    Owner,
    OwnerKind,
    Ownership,
    Unit,
    UnitStatus,
    Vehicle,
)
from arrears.ledger import rules, selectors, services
from arrears.ledger.models import (
    Charge,
    ChargeType,
    Payment,
    PaymentMethod,
    TariffBasis,
    TariffScope,
)

COMPANY_NAME = "示范物业服务有限公司"
HISTORY_MONTHS = 36
# apply_credit names every unit and charge of a chunk in one IN list: stay far below SQLite's
# variable limit (32766 on many builds) even for units holding two charge types for 36 months.
CREDIT_CHUNK = 300
LATE_FEE = {"late_fee_daily_rate": Decimal("0.0005"), "grace_days": 15, "late_fee_cap": Decimal("0.3")}

# Personas and situations of DESIGN.md §2, as payment behaviour.
PROMPT = "prompt"  # pays each bill by its due date
PREPAID = "prepaid"  # pays a year ahead: prepaid credit (reward for paying a year at once)
LATE = "late"  # 理解型 / 经济压力: pays 1–3 months late, sometimes without the late fee
VACANT = "vacant"  # 忽视型, situation 5: the unit stays empty and the owner stopped paying
DISPUTE = "dispute"  # 抗拒型, situation 4: stopped paying over a defect awaiting rectification
EVASIVE = "evasive"  # 逃避型, situation 3: hard to reach, rarely pays
PROMISE_BREAKER = "promise_breaker"  # situations 2 and 7: promises, pays irregular part sums
PERSONAS = {  # msgids: printed in the installation's language
    PROMPT: gettext_noop("按时缴费"),
    PREPAID: gettext_noop("预交一年"),
    LATE: gettext_noop("经常逾期（理解型）"),
    VACANT: gettext_noop("空置停缴（忽视型）"),
    DISPUTE: gettext_noop("整改纠纷停缴（抗拒型）"),
    EVASIVE: gettext_noop("失联拖欠（逃避型）"),
    PROMISE_BREAKER: gettext_noop("承诺不兑现"),
}
# For owners of occupied or let units; vacant units get VACANT by their own draw.
PERSONA_WEIGHTS = {PROMPT: 750, PREPAID: 100, LATE: 70, DISPUTE: 25, EVASIVE: 25, PROMISE_BREAKER: 30}
METHODS = {
    PROMPT: {PaymentMethod.WECHAT: 40, PaymentMethod.ALIPAY: 25, PaymentMethod.DIRECT_DEBIT: 15,
             PaymentMethod.BANK_TRANSFER: 10, PaymentMethod.POS: 5, PaymentMethod.CASH: 5},
    PREPAID: {PaymentMethod.BANK_TRANSFER: 40, PaymentMethod.POS: 30, PaymentMethod.WECHAT: 30},
    "other": {PaymentMethod.WECHAT: 40, PaymentMethod.CASH: 25, PaymentMethod.ALIPAY: 20, PaymentMethod.POS: 15},
}


@dataclass(frozen=True)
class CommunitySpec:
    name: str
    code: str
    address: str
    contract_number: str
    contract_start: date
    contract_terms: str
    share: int  # percent of the units
    entrances: tuple[str, ...]  # ("",) for towers without 单元
    floors: int
    rooms_per_floor: int
    cycle_months: int
    due_day: int
    prices: tuple[tuple[int, Decimal], ...]  # (years after the history's first year, price per m² per month)
    parking_price: Decimal
    vehicle_percent: int


COMMUNITIES = (
    CommunitySpec(
        name="翠湖花园", code="CH", address="广东省深圳市龙岗区布吉街道翠湖路88号",
        contract_number="SZWY-2018-026", contract_start=date(2018, 7, 1),
        contract_terms="物业费按建筑面积计收，2.00元/㎡/月，经业主大会表决自次年1月1日起调整为2.20元/㎡/月；"
        "按月缴交，每月5日前缴清。逾期超过15日，按欠费金额每日万分之五计收违约金，违约金总额不超过欠费金额的30%。"
        "车位管理费150元/月。",
        share=60, entrances=("1", "2"), floors=18, rooms_per_floor=2, cycle_months=1, due_day=5,
        prices=((0, Decimal("2.00")), (1, Decimal("2.20"))), parking_price=Decimal("150.00"), vehicle_percent=30,
    ),
    CommunitySpec(
        name="锦绣华庭", code="JX", address="广东省深圳市南山区桃源街道锦绣路16号",
        contract_number="SZWY-2020-041", contract_start=date(2020, 3, 1),
        contract_terms="物业费2.80元/㎡/月，按季度缴交，每季度首月10日前缴清。逾期超过15日，按欠费金额每日万分之五计收违约金，"
        "违约金总额不超过欠费金额的30%。车位管理费200元/月，按月缴交。",
        share=40, entrances=("",), floors=26, rooms_per_floor=4, cycle_months=3, due_day=10,
        prices=((0, Decimal("2.80")),), parking_price=Decimal("200.00"), vehicle_percent=40,
    ),
)


@dataclass
class Holding:
    """One owner holding one unit for a time: one ledger account, one behaviour."""

    unit: Unit
    owner: Owner
    start: date
    end: date | None
    persona: str
    rng: random.Random
    spec: CommunitySpec
    has_vehicle: bool
    stop: date | None = None  # when a stopping persona stopped paying
    prices: tuple[tuple[date, Decimal], ...] = ()  # property-fee price per m² by effective date


@dataclass(frozen=True)
class Line:
    amount: Decimal
    period_start: date
    due: date
    terms: rules.LateFeeTerms


@dataclass
class Group:
    """The charges of one account that share a due date: what an owner pays in one go."""

    due: date
    period_start: date
    lines: list[Line] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


@dataclass
class DemoResult:
    units: int
    owners: int
    charges: int
    billed: Decimal
    payments: int
    paid: Decimal
    allocations: int
    principal_overdue: Decimal
    late_fee: Decimal
    prepaid: Decimal
    units_in_arrears: int
    units_owned: int
    personas: dict[str, int]
    seconds: float = 0.0
    owner_personas: dict[int, str] = field(default_factory=dict)  # current owners: owner id → persona

    @property
    def arrears_rate(self) -> Decimal:
        if not self.units_owned:
            return ZERO
        return round_money(Decimal(self.units_in_arrears) * 100 / self.units_owned)


def build_demo(*, units: int = 3000, seed: int = 2026, today: date | None = None) -> DemoResult:
    """Build the whole demo in one transaction; refuse a database that already has a company."""
    started = time.monotonic()
    if units < 20:
        raise DomainError("演示数据至少需要 20 户", "the demo needs at least 20 units", code="units")
    if Company.objects.exists():
        raise DomainError(
            "数据库中已有物业公司数据：演示数据只写入空数据库，请换一个数据库（DATABASE_URL）或先清空",
            "the database already holds a company: demo data goes into an empty database only; "
            "use another DATABASE_URL or empty this one first",
            code="not_empty",
        )
    today = today or timezone.localdate()
    current_month = rules.month_start(today)
    history_start = rules.add_months(current_month, -(HISTORY_MONTHS - 1))
    with transaction.atomic():
        builder = _Builder(seed=seed, today=today, history_start=history_start)
        holdings = builder.build_estate(units)
        services.bill(through=current_month)
        payments = _payments(holdings, today)
        Payment.objects.bulk_create(payments, batch_size=2000)
        allocations = _allocate(holdings, since=builder.billing_start)
        result = _summary(today, holdings, allocations)
    result.seconds = time.monotonic() - started
    return result


# ----------------------------------------------------------------------------- estate


class _Builder:
    def __init__(self, *, seed: int, today: date, history_start: date):
        self.rng = random.Random(seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.seed, self.today, self.history_start = seed, today, history_start
        self.billing_start = history_start
        self.prices: dict[str, tuple[tuple[date, Decimal], ...]] = {}

    def build_estate(self, total_units: int) -> list[Holding]:
        company = Company.objects.create(
            name=COMPANY_NAME, phone="0755-8888 6200", address="广东省深圳市福田区深南大道6008号特区报业大厦18楼",
        )
        holdings: list[Holding] = []
        remaining = total_units
        for index, spec in enumerate(COMMUNITIES):
            count = remaining if index == len(COMMUNITIES) - 1 else total_units * spec.share // 100
            remaining -= count
            community = Community.objects.create(
                company=company, name=spec.name, address=spec.address, contract_number=spec.contract_number,
                contract_start=spec.contract_start, contract_end=rules.add_months(spec.contract_start, 120) - timedelta(days=1),
                contract_terms=spec.contract_terms, service_centre="南门旁物业服务中心", service_hours="每天 8:30–18:00",
            )
            self._tariffs(community, spec)
            holdings.extend(self._units(community, spec, count))
        _ensure_every_persona(holdings, self.rng, self.today, self.history_start)
        for h in holdings:
            h.prices = self.prices[h.spec.code]
        Ownership.objects.bulk_create(
            [Ownership(community_id=h.unit.community_id, unit=h.unit, owner=h.owner, start=h.start, end=h.end) for h in holdings],
            batch_size=2000,
        )
        Unit.objects.bulk_update([h.unit for h in holdings if h.end is None], ["status", "status_since"], batch_size=1000)
        Contact.objects.bulk_create(self._contacts(holdings), batch_size=2000)
        Vehicle.objects.bulk_create(self._vehicles(holdings), batch_size=2000)
        return holdings

    def _tariffs(self, community: Community, spec: CommunitySpec) -> None:
        property_fee = ChargeType.objects.get(code="property_fee")
        parking_fee = ChargeType.objects.get(code="parking_fee")
        # A quarterly tariff starts on its quarter so the first period is a whole one.
        start = rules.add_months(self.history_start, -((self.history_start.month - 1) % spec.cycle_months))
        self.billing_start = min(self.billing_start, start)
        schedule = []
        for position, (years, price) in enumerate(spec.prices):
            effective_from = start if years == 0 else date(self.history_start.year + years, 1, 1)
            effective_to = None
            if position + 1 < len(spec.prices):
                effective_to = date(self.history_start.year + spec.prices[position + 1][0], 1, 1) - timedelta(days=1)
            services.create_tariff(
                community=community, charge_type=property_fee, basis=TariffBasis.PER_AREA, price=price,
                cycle_months=spec.cycle_months, due_day=spec.due_day, effective_from=effective_from,
                effective_to=effective_to, **LATE_FEE,
            )
            schedule.append((effective_from, price))
        self.prices[spec.code] = tuple(schedule)
        services.create_tariff(
            community=community, charge_type=parking_fee, basis=TariffBasis.FIXED, price=spec.parking_price,
            scope=TariffScope.UNITS_WITH_VEHICLE, cycle_months=1, due_day=spec.due_day, effective_from=start, **LATE_FEE,
        )

    def _units(self, community: Community, spec: CommunitySpec, count: int) -> list[Holding]:
        per_building = len(spec.entrances) * spec.floors * spec.rooms_per_floor
        buildings = Building.objects.bulk_create(
            [Building(community=community, name=f"{n}栋") for n in range(1, (count + per_building - 1) // per_building + 1)]
        )
        units = []
        for building in buildings:
            # One floor plan per position: 01 is the same flat on every floor.
            plans = {(e, r): Decimal(self.rng.randint(6000, 18000)) / 100
                     for e in spec.entrances for r in range(1, spec.rooms_per_floor + 1)}
            for entrance in spec.entrances:
                for floor in range(1, spec.floors + 1):
                    for room in range(1, spec.rooms_per_floor + 1):
                        if len(units) < count:
                            units.append(Unit(community=community, building=building, entrance=entrance,
                                              room=f"{floor}{room:02d}", floor_area=plans[(entrance, room)]))
        Unit.objects.bulk_create(units, batch_size=1000)
        developer = Owner(community=community, kind=OwnerKind.ORGANISATION, name=f"深圳市{spec.name[:2]}房地产开发有限公司",
                          id_number="91440300" + "".join(self.rng.choices(string.digits + "ABCDEFGHJKLMNPQRTUWXY", k=10)))
        plans = [self._plan_unit(unit, spec, developer) for unit in units]
        owners = [developer] + [h.owner for plan in plans for h in plan if h.owner is not developer]
        Owner.objects.bulk_create(owners, batch_size=1000)
        return [h for plan in plans for h in plan]

    def _person(self, community: Community) -> Owner:
        return Owner(community=community, kind=OwnerKind.PERSON, name=self.fake.name(), id_number=self.fake.ssn())

    def _plan_unit(self, unit: Unit, spec: CommunitySpec, developer: Owner) -> list[Holding]:
        """Who owned the unit when, how it is used and how its owners pay."""
        rng = self.rng
        has_vehicle = rng.randrange(100) < spec.vehicle_percent
        first_start = spec.contract_start + timedelta(days=rng.randrange(max(1, (self.history_start - spec.contract_start).days)))
        key = f"{self.seed}:{spec.code}:{unit.building.name}:{unit.entrance}:{unit.room}"
        holdings = []
        if rng.randrange(1000) < 12:  # unsold stock: the developer pays for its empty units
            unit.status, unit.status_since = UnitStatus.VACANT, spec.contract_start
            return [Holding(unit, developer, spec.contract_start, None, PROMPT, random.Random(key), spec, False)]
        if rng.randrange(100) < 8:  # sold in the last three years, handed over mid-month
            span = (self.today - self.history_start).days - 120
            change = self.history_start + timedelta(days=60 + rng.randrange(span))
            change = change.replace(day=rng.randint(8, 25))
            previous = self._person(unit.community)
            holdings.append(Holding(unit, previous, first_start, change - timedelta(days=1),
                                    LATE if rng.randrange(100) < 20 else PROMPT, random.Random(key + ":0"), spec, has_vehicle))
            first_start = change
        owner = self._person(unit.community)
        holding = Holding(unit, owner, first_start, None, PROMPT, random.Random(key), spec, has_vehicle)
        status_draw = rng.randrange(100)
        if first_start > self.today - timedelta(days=150):
            unit.status, unit.status_since = UnitStatus.RENOVATING, first_start
        elif status_draw < 9:
            unit.status, unit.status_since = UnitStatus.VACANT, first_start + timedelta(days=rng.randrange(400))
        elif status_draw < 27:
            unit.status, unit.status_since = UnitStatus.LET, first_start + timedelta(days=rng.randrange(700))
        else:
            unit.status, unit.status_since = UnitStatus.OCCUPIED, first_start
        unit.status_since = min(unit.status_since, self.today)
        if unit.status == UnitStatus.VACANT and rng.randrange(100) < 38:
            holding.persona = VACANT
        elif unit.status != UnitStatus.VACANT:
            holding.persona = rng.choices(list(PERSONA_WEIGHTS), weights=list(PERSONA_WEIGHTS.values()))[0]
        _set_stop(holding, self.history_start, self.today)
        holdings.append(holding)
        return holdings

    def _contacts(self, holdings: list[Holding]) -> list[Contact]:
        rng, fake = self.rng, self.fake
        contacts, seen = [], set()

        def add(h, kind, value, relation=ContactRelation.SELF, name="", authorised=False):
            if (h.owner.pk, kind, value) not in seen:
                seen.add((h.owner.pk, kind, value))
                contacts.append(Contact(community_id=h.unit.community_id, owner=h.owner, kind=kind, value=value,
                                        relation=relation, name=name, disclosure_authorised=authorised))

        for h in holdings:
            if h.owner.kind == OwnerKind.ORGANISATION:
                add(h, ContactKind.LANDLINE, f"0755-{rng.randint(2000, 8999)}{rng.randint(1000, 9999)}", name="财务部")
                add(h, ContactKind.ADDRESS, "广东省深圳市福田区福华三路 " + fake.building_number() + "号", name="行政部")
                continue
            add(h, ContactKind.MOBILE, fake.phone_number())
            if rng.randrange(100) < 45:
                add(h, ContactKind.WECHAT, "wxid_" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=12)))
            if rng.randrange(100) < 35:
                add(h, ContactKind.MOBILE, fake.phone_number(), ContactRelation.SPOUSE, fake.name(), rng.randrange(100) < 50)
            if rng.randrange(100) < 10 or h.persona == EVASIVE:
                add(h, ContactKind.MOBILE, fake.phone_number(), ContactRelation.RELATIVE, fake.name(), rng.randrange(100) < 15)
            if h.end is None and h.unit.status == UnitStatus.LET:
                add(h, ContactKind.MOBILE, fake.phone_number(), ContactRelation.TENANT, fake.name())
            if h.end is None and h.unit.status in (UnitStatus.LET, UnitStatus.VACANT) and rng.randrange(100) < 30:
                agency = rng.choice(["链家", "中原地产", "我爱我家", "乐有家"])
                add(h, ContactKind.MOBILE, fake.phone_number(), ContactRelation.AGENT, f"{agency} {fake.last_name()}经理")
            if h.persona in (EVASIVE, VACANT) or rng.randrange(100) < 10:
                add(h, ContactKind.MOBILE, fake.phone_number(), ContactRelation.DEVELOPER_RECORD, "购房登记")
            if h.persona == EVASIVE and rng.randrange(100) < 60:
                add(h, ContactKind.LANDLINE, f"0755-{rng.randint(2000, 8999)}{rng.randint(1000, 9999)}",
                    ContactRelation.EMPLOYER, fake.company())
        return contacts

    def _vehicles(self, holdings: list[Holding]) -> list[Vehicle]:
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        vehicles, plates = [], set()
        for h in holdings:
            if h.end is None and h.has_vehicle:
                plate = ""
                while not plate or plate in plates:
                    plate = "粤B" + self.rng.choice(letters) + "".join(self.rng.choices(string.digits + letters[:8], k=4))
                plates.add(plate)
                vehicles.append(Vehicle(community_id=h.unit.community_id, unit=h.unit, plate=plate))
        return vehicles


def _set_stop(h: Holding, history_start: date, today: date) -> None:
    """The day a stopping persona stopped paying; a vacant unit is empty from then on."""
    def between(first: date, last: date) -> date:
        return first + timedelta(days=h.rng.randrange(max(1, (last - first).days)))

    floor = max(h.start, history_start)
    if h.persona == VACANT:
        h.stop = between(max(floor, history_start + timedelta(days=90)), today - timedelta(days=100))
        h.unit.status, h.unit.status_since = UnitStatus.VACANT, min(h.unit.status_since or h.stop, h.stop)
    elif h.persona == DISPUTE:
        h.stop = between(max(floor, today - timedelta(days=730)), today - timedelta(days=120))
    elif h.persona == PROMISE_BREAKER:
        h.stop = between(max(floor, today - timedelta(days=900)), today - timedelta(days=240))
    elif h.persona == EVASIVE:
        h.stop = between(floor, max(floor, history_start + timedelta(days=240)) + timedelta(days=1))


def _ensure_every_persona(holdings: list[Holding], rng: random.Random, today: date, history_start: date) -> None:
    """A small demo still shows every persona: turn prompt payers into the missing ones."""
    present = {h.persona for h in holdings}
    candidates = [h for h in holdings if h.persona == PROMPT and h.end is None and h.owner.kind == OwnerKind.PERSON
                  and h.start <= history_start]
    for persona in PERSONAS:
        if persona not in present and candidates:
            h = candidates.pop(rng.randrange(len(candidates)))
            h.persona = persona
            if persona != VACANT and h.unit.status == UnitStatus.VACANT:
                h.unit.status = UnitStatus.OCCUPIED
            _set_stop(h, history_start, today)


# ----------------------------------------------------------------------------- payments


def _load_groups() -> dict[tuple[int, int], list[Group]]:
    groups: dict[tuple[int, int], dict[tuple[date, date], Group]] = defaultdict(dict)
    rows = Charge.objects.order_by("unit_id", "owner_id", "due_date", "period_start", "id").values_list(
        "unit_id", "owner_id", "amount", "period_start", "due_date", "late_fee_daily_rate", "grace_days", "late_fee_cap",
    )
    for unit_id, owner_id, amount, start, due, rate, grace, cap in rows:
        account = groups[(unit_id, owner_id)]
        group = account.get((due, start)) or account.setdefault((due, start), Group(due, start))
        group.lines.append(Line(amount, start, due, rules.LateFeeTerms(rate, grace, cap)))
    return {key: sorted(value.values(), key=lambda g: (g.due, g.period_start)) for key, value in groups.items()}


def _payments(holdings: list[Holding], today: date) -> list[Payment]:
    groups = _load_groups()
    drafts = []
    for h in holdings:
        limit = min(today, h.end) if h.end else today
        account = groups.get((h.unit.pk, h.owner.pk), [])
        for paid_on, amount in _behave(h, account, limit):
            if amount > ZERO and paid_on <= limit:
                drafts.append((paid_on, h, amount))
    # Receipts are numbered by day, the way a cashier's book runs.
    drafts.sort(key=lambda d: (d[0], d[1].spec.code, d[1].unit.building_id, d[1].unit.entrance, d[1].unit.room, d[1].start))
    payments, per_day = [], Counter()
    for paid_on, h, amount in drafts:
        per_day[(paid_on, h.spec.code)] += 1
        methods = METHODS.get(h.persona, METHODS["other"])
        method = h.rng.choices(list(methods), weights=list(methods.values()))[0]
        reference = "" if method == PaymentMethod.CASH else f"{paid_on:%Y%m%d}{h.rng.randrange(10**12):012d}"
        payments.append(Payment(
            company_id=h.unit.community.company_id, community_id=h.unit.community_id, unit=h.unit, owner=h.owner,
            amount=amount, unallocated=amount, paid_on=paid_on, method=method, reference=reference,
            receipt_number=f"{h.spec.code}{paid_on:%Y%m%d}{per_day[(paid_on, h.spec.code)]:04d}",
        ))
    return payments


def _behave(h: Holding, groups: list[Group], limit: date) -> list[tuple[date, Decimal]]:
    """The payments an owner of this persona makes on these bills up to `limit`."""
    if h.persona == PREPAID:
        return _prepaid(h, groups)
    if h.persona == LATE:
        payments = _late(h, groups, limit)
    else:
        stop = h.stop or limit
        # Prompt owners pay monthly, or a quarter or half a year at a time (fewer trips to the desk).
        every = h.rng.choices([1, 3, 6], weights=[55, 30, 15])[0] if h.persona == PROMPT else 1
        payments = _on_time(h, [g for g in groups if g.due < stop], every=every)
        if h.persona == PROMISE_BREAKER:
            payments += _part_payments(h, groups, limit, every=(50, 150), share=(25, 60))
        elif h.persona == EVASIVE:
            payments += _part_payments(h, groups, limit, every=(200, 420), share=(10, 35))
    if h.end is not None:  # 过户结清: a sale needs the fees cleared on the handover day
        payments.append((h.end, _outstanding(h, groups, payments, h.end)))
    return payments


def _on_time(h: Holding, groups: list[Group], *, every: int) -> list[tuple[date, Decimal]]:
    """One payment per block of `every` calendar months, by the first due date of the block."""
    blocks: dict[int, list[Group]] = defaultdict(list)
    for g in groups:
        blocks[(g.period_start.year * 12 + g.period_start.month - 1) // every].append(g)
    return [
        (max(h.start, block[0].due - timedelta(days=h.rng.randint(0, 18))), sum((g.total for g in block), ZERO))
        for _, block in sorted(blocks.items())
    ]


def _late(h: Holding, groups: list[Group], limit: date) -> list[tuple[date, Decimal]]:
    """Pays everything billed so far 1–3 months after the oldest due date; the late fee only sometimes."""
    payments, index, fees_owed = [], 0, ZERO
    while index < len(groups):
        paid_on = groups[index].due + timedelta(days=h.rng.randint(20, 95))
        if paid_on > limit:
            break
        amount = ZERO
        while index < len(groups) and groups[index].period_start <= paid_on:
            for line in groups[index].lines:
                amount += line.amount
                fees_owed += rules.late_fee(amount=line.amount, due_date=line.due, terms=line.terms, as_of=paid_on, reductions=[])
            index += 1
        if h.rng.randrange(100) < 60:
            amount, fees_owed = amount + fees_owed, ZERO
        payments.append((paid_on, amount))
    return payments


def _prepaid(h: Holding, groups: list[Group]) -> list[tuple[date, Decimal]]:
    """Pays a round sum for a year ahead whenever the credit would not cover the next bill."""
    payments, credit = [], ZERO
    for g in groups:
        if credit < g.total:
            monthly = h.unit.floor_area * _price(h, g.period_start) + (h.spec.parking_price if h.has_vehicle else ZERO)
            amount = max(_round_to(monthly * 12, ROUND_CEILING), _round_to(g.total - credit, ROUND_CEILING))
            payments.append((max(h.start, g.period_start - timedelta(days=h.rng.randint(0, 20))), amount))
            credit += amount
        credit -= g.total
    return payments


def _part_payments(h: Holding, groups: list[Group], limit: date, *, every: tuple[int, int],
                   share: tuple[int, int]) -> list[tuple[date, Decimal]]:
    """After the stop: now and then a round part of what is owed (the promised sum never comes)."""
    payments, paid = [], ZERO
    day = h.stop + timedelta(days=h.rng.randint(*every))
    while day <= limit:
        owed = sum((g.total for g in groups if g.due >= h.stop and g.period_start <= day), ZERO) - paid
        amount = _round_to(owed * h.rng.randint(*share) / 100, ROUND_FLOOR)
        if amount > ZERO:
            payments.append((day, amount))
            paid += amount
        day += timedelta(days=h.rng.randint(*every))
    return payments


def _outstanding(h: Holding, groups: list[Group], payments: list[tuple[date, Decimal]], on: date) -> Decimal:
    """Principal and late fee left on `on`, by the ledger's own rules (the handover settlement)."""
    charges = [
        rules.ChargeState((n, i), line.period_start, line.due, line.amount, line.terms)
        for n, g in enumerate(groups) for i, line in enumerate(g.lines)
    ]
    funds = [rules.PaymentState(n, paid_on, amount) for n, (paid_on, amount) in enumerate(payments)]
    rules.replay(charges=charges, payments=funds, since=min((c.period_start for c in charges), default=on),
                 rule=h.unit.community.company.allocation_rule)
    owed = sum((c.principal_outstanding + c.late_fee_outstanding(on) for c in charges if c.period_start <= on), ZERO)
    return max(ZERO, owed - sum((p.unallocated for p in funds), ZERO))


def _price(h: Holding, on: date) -> Decimal:
    """The property-fee price per m² in force on a day (the tariffs the builder wrote)."""
    price = h.prices[0][1]
    for effective_from, value in h.prices:
        if effective_from <= on:
            price = value
    return price


def _round_to(value: Decimal, rounding: str) -> Decimal:
    """Owners pay round sums: whole hundreds of yuan."""
    return (value / 100).to_integral_value(rounding=rounding) * 100


# ----------------------------------------------------------------------------- allocation and summary


def _allocate(holdings: list[Holding], *, since: date) -> int:
    pairs = sorted({(h.unit.pk, h.owner.pk) for h in holdings})
    made = 0
    for first in range(0, len(pairs), CREDIT_CHUNK):
        made += services.apply_credit(pairs=pairs[first:first + CREDIT_CHUNK], since=since)
    return made


def owned_units(today: date) -> int:
    """Units with an owner on `today`: the denominator of the arrears rate by households."""
    return (
        Ownership.objects.filter(start__lte=today).filter(Q(end__isnull=True) | Q(end__gte=today))
        .values("unit_id").distinct().count()
    )


def _summary(today: date, holdings: list[Holding], allocations: int) -> DemoResult:
    statements = selectors.statement(today)
    # In arrears = principal overdue today (oldest_due is set only for outstanding principal).
    overdue = sum(1 for s in statements if s.oldest_due is not None)
    owned = owned_units(today)
    charges = Charge.objects.aggregate(total=Sum("amount"))
    payments = Payment.objects.aggregate(total=Sum("amount"))
    return DemoResult(
        units=Unit.objects.count(), owners=Owner.objects.count(), charges=Charge.objects.count(),
        billed=charges["total"] or ZERO, payments=Payment.objects.count(), paid=payments["total"] or ZERO,
        allocations=allocations,
        principal_overdue=sum((s.principal for s in statements), ZERO),
        late_fee=sum((s.late_fee for s in statements), ZERO),
        prepaid=sum((s.prepaid for s in statements), ZERO),
        units_in_arrears=overdue, units_owned=owned,
        personas=dict(Counter(h.persona for h in holdings if h.end is None)),
        owner_personas={h.owner.pk: h.persona for h in holdings if h.end is None},
    )
