"""Excel in: the import template, and an all-or-nothing import of the workbooks companies keep.

The whole workbook is validated before anything is written; a good file goes in in one
transaction. Rows are matched to what exists, so importing the same file twice changes nothing:

- unit (房屋) by (小区, 楼栋, 单元, 房号), 单元 may be blank; a matched unit takes the file's
  area and status;
- ownership (业主) by (unit, 业主姓名, 起始日期); an owner is reused across units when 小区,
  姓名 and a non-blank 证件号 agree; a unit's earlier open ownership ends the day before;
- tariff (收费标准) by (小区, 收费项目, 生效日期): a match must carry the same terms;
- charge (应收) by (unit, 收费项目, 账期起, 账期止) among imported charges;
- payment (缴费) by (company, 票据号); without 票据号 by (unit, 缴费日期, 金额, 方式), the n-th
  such row of the file matching the n-th such payment in the database.

Keys are compared in the normal form of `normalise_key` (import_files.key). A web import passes
the scope its user may write (WriteScope); every row outside it is an error, so nothing is written.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_noop as N_
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from arrears.core.errors import DomainError
from arrears.core.money import CENT
from arrears.core.text import is_normal_key, normalise_key
from arrears.estate.models import (
    Building,
    Community,
    Company,
    Contact,
    ContactKind,
    ContactRelation,
    Owner,
    Ownership,
    Unit,
    UnitStatus,
)
from arrears.ledger import services
from arrears.ledger.import_files import (
    REQUIRED_REASON,
    Limits,
    RowError,
    _Row,
    explain_formulas,
    read_workbook,
)
from arrears.ledger.import_files import key as _key
from arrears.ledger.import_files import text as _text
from arrears.ledger.models import (
    Charge,
    ChargeOrigin,
    ChargeType,
    Payment,
    PaymentMethod,
    Tariff,
    TariffBasis,
)

DEFAULT_COMPANY = "物业公司"
CREDIT_CHUNK_PAIRS = 400  # SQLite allows 32,766 bound variables; apply_credit binds one per unit and open charge
CREDIT_CHUNK_CHARGES = 20_000

HOUSES, OWNERS, TARIFFS, CHARGES, PAYMENTS, NOTES = "房屋", "业主", "收费标准", "应收", "缴费", "说明"

UNIT_COLUMNS = ["小区", "楼栋", "单元", "房号"]
SHEETS: dict[str, list[str]] = {
    HOUSES: [*UNIT_COLUMNS, "建筑面积", "状态"],
    OWNERS: [*UNIT_COLUMNS, "业主姓名", "手机", "证件号", "起始日期"],
    TARIFFS: ["小区", "收费项目", "计费方式", "单价", "计费周期(月)", "缴费日", "违约金日率", "宽限天数",
              "违约金上限比例", "生效日期", "失效日期"],
    CHARGES: [*UNIT_COLUMNS, "收费项目", "账期起", "账期止", "金额", "到期日"],
    PAYMENTS: [*UNIT_COLUMNS, "缴费日期", "金额", "方式", "票据号"],
}
# The columns that name something stored in a KeyField: matched and written in the normal form.
KEY_COLUMNS = frozenset({*UNIT_COLUMNS, "业主姓名", "手机", "证件号", "收费项目", "票据号"})
OPTIONAL = {
    HOUSES: {"单元", "状态"},
    OWNERS: {"单元", "手机", "证件号"},
    TARIFFS: {"计费周期(月)", "缴费日", "违约金日率", "宽限天数", "违约金上限比例", "失效日期"},
    CHARGES: {"单元"},
    PAYMENTS: {"单元", "票据号"},
}
BASIS_BY_LABEL = {"按面积": TariffBasis.PER_AREA, "固定": TariffBasis.FIXED}
STATUS_BY_LABEL = {str(label): value for value, label in UnitStatus.choices}
METHOD_BY_LABEL = {str(label).upper(): value for value, label in PaymentMethod.choices}

HELP: dict[str, list[tuple[str, str]]] = {
    HOUSES: [
        ("小区", "小区名称；不存在时在该物业公司下新建"),
        ("楼栋", "楼栋名称，如 1栋；不存在时新建"),
        ("单元", "单元号，可留空（无单元的楼栋）"),
        ("房号", "房号，如 1201"),
        ("建筑面积", "平方米，大于 0，最多两位小数"),
        ("状态", "自住 / 出租 / 空置 / 装修，留空为自住"),
    ],
    OWNERS: [
        ("小区、楼栋、单元、房号", "房屋须在本文件“房屋”表或系统中已存在"),
        ("业主姓名", "个人姓名或单位名称"),
        ("手机", "可留空；填写时作为业主本人的手机联系方式"),
        ("证件号", "可留空；系统中只显示打码后的号码"),
        ("起始日期", "成为业主的日期；同一房屋的上一任业主自动在前一天终止"),
    ],
    TARIFFS: [
        ("小区", "须在“房屋”表或系统中已存在"),
        ("收费项目", "物业费 / 车位管理费 / 公摊水电费 / 其他"),
        ("计费方式", "按面积（元/㎡/月）/ 固定（元/户/月）"),
        ("单价", "元，不小于 0，最多四位小数"),
        ("计费周期(月)", "1 / 3 / 6 / 12，留空为 1"),
        ("缴费日", "账期首月的第几日到期，1–28，留空为 1"),
        ("违约金日率", "如 0.0005 即每日万分之五，留空为 0"),
        ("宽限天数", "到期后不计违约金的天数，留空为 0"),
        ("违约金上限比例", "违约金最多为本笔费用的该比例，如 0.3；留空为 1"),
        ("生效日期", "含当日"),
        ("失效日期", "含当日，留空表示长期有效；同一小区同一收费项目的日期不得重叠"),
    ],
    CHARGES: [
        ("小区、楼栋、单元、房号", "房屋须在本文件“房屋”表或系统中已存在"),
        ("收费项目", "同收费标准"),
        ("账期起、账期止", "账期的第一天和最后一天（含）"),
        ("金额", "元，大于 0，最多两位小数"),
        ("到期日", "违约金按到期日当天有效的收费标准计算"),
    ],
    PAYMENTS: [
        ("小区、楼栋、单元、房号", "房屋须在本文件“房屋”表或系统中已存在"),
        ("缴费日期", "不能晚于今天"),
        ("金额", "元，大于 0，最多两位小数"),
        ("方式", "现金 / 银行转账 / 微信 / 支付宝 / POS / 代扣"),
        ("票据号", "可留空；同一物业公司内不能重复"),
    ],
}
MATCHING_NOTE = [
    "整个文件先全部校验：只要有一行有误，就一行也不写入，并列出每一行错误（表、行、列、原因）。",
    "日期可以是 Excel 日期，也可以是文字 2026-01-05 或 2026/1/5。金额最多两位小数。",
    "同一文件导入两次不会重复，匹配规则：",
    "房屋按（小区、楼栋、单元、房号）匹配，单元可留空；已存在的房屋按文件更新面积和状态。",
    "业主按（房屋、业主姓名、起始日期）匹配；小区、姓名和证件号都相同时视为同一业主。",
    "收费标准按（小区、收费项目、生效日期）匹配，已存在的必须条款相同。",
    "应收按（房屋、收费项目、账期起、账期止）在已导入的应收中匹配；已由系统计费的账期不能再导入。",
    "缴费按（物业公司、票据号）匹配；没有票据号的按（房屋、缴费日期、金额、方式）匹配。",
    "缴费按物业公司的冲抵规则冲抵应收（先到期先冲抵），余额作为预存款。",
    "各表都可以省略；后面表里的小区和房屋须在本文件或系统中已存在。",
]


# ----------------------------------------------------------------------------- report


@dataclass(frozen=True)
class WriteScope:
    """Where a web import may write: whole communities, single buildings, and whether it may create
    communities (the admin role). None in place of a scope means the operator: everything."""

    communities: frozenset[int] = frozenset()
    buildings: frozenset[int] = frozenset()
    may_create_communities: bool = False

    @property
    def empty(self) -> bool:
        return not (self.communities or self.buildings)

    def covers(self, community_id: int | None, building_id: int | None) -> bool:
        """A unit is writable when its community is in the scope whole, or its building is."""
        return community_id in self.communities or (building_id is not None and building_id in self.buildings)

    def as_json(self) -> dict:
        return {"communities": sorted(self.communities), "buildings": sorted(self.buildings),
                "may_create_communities": self.may_create_communities}

    @classmethod
    def from_json(cls, data: dict | None) -> WriteScope | None:
        if data is None:
            return None
        return cls(frozenset(data.get("communities", ())), frozenset(data.get("buildings", ())),
                   bool(data.get("may_create_communities")))


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


class _Bad(Exception):
    """One bad cell: the reason as a Chinese msgid and its parameters (translated when shown)."""

    def __init__(self, reason: str, **params):
        super().__init__(reason % params if params else reason)
        self.reason, self.params = reason, params


# ----------------------------------------------------------------------------- cells


def _decimal(value, *, places: int, limit: int = 10**8) -> Decimal:
    """openpyxl gives floats: Decimal(str(cell)) keeps what the user typed, then refuse extra places."""
    if isinstance(value, bool) or isinstance(value, datetime | date):
        raise _Bad(N_("不是数字"))
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise _Bad(N_("不是数字")) from exc
    if not number.is_finite():
        raise _Bad(N_("不是数字"))
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise _Bad(N_("最多%(places)s位小数"), places=places)
    if abs(number) >= limit:
        raise _Bad(N_("数值过大（应小于 %(limit)s）"), limit=limit)
    return number


def _money(value) -> Decimal:
    amount = _decimal(value, places=2, limit=10**12)
    if amount <= 0:
        raise _Bad(N_("金额必须大于零"))
    return amount.quantize(CENT)


def _integer(value, *, allowed=None, low=None, high=None) -> int:
    number = _decimal(value, places=0)
    if (allowed and number not in allowed) or (low is not None and number < low) or (high is not None and number > high):
        choices = "/".join(str(a) for a in allowed) if allowed else f"{low}–{high if high is not None else ''}"
        raise _Bad(N_("应为 %(choices)s"), choices=choices)
    return int(number)


DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = DATE_TEXT.fullmatch(_text(value)) if isinstance(value, str) else None
    if not match:
        raise _Bad(N_("日期格式应为 2026-01-05 或 2026/1/5"))
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError as exc:
        raise _Bad(N_("日期不存在")) from exc


UNKNOWN_COMMUNITY = N_("小区“%(community)s”不存在（本文件和系统中都没有）")
UNKNOWN_CHOICE = {
    "状态": N_("未知状态，应为 %(choices)s"), "计费方式": N_("未知计费方式，应为 %(choices)s"),
    "收费项目": N_("未知收费项目，应为 %(choices)s"), "方式": N_("未知缴费方式，应为 %(choices)s"),
}


def _choice(value, mapping: dict, *, what: str):
    key = _text(value).upper() if mapping is METHOD_BY_LABEL else _text(value)
    if key not in mapping:
        raise _Bad(UNKNOWN_CHOICE[what], choices="/".join(mapping))
    return mapping[key]


PHONE = re.compile(r"\+?[0-9][0-9 -]{5,19}")


def _phone(value) -> str:
    text = _text(value)
    if not PHONE.fullmatch(text):
        raise _Bad(N_("手机号码无效"))
    return re.sub(r"[ -]", "", text)


# ----------------------------------------------------------------------------- planning

UnitKey = tuple[str, str, str, str]


def _label(key: UnitKey) -> str:
    community, building, entrance, room = key
    return f"{community} {building}{entrance + '单元' if entrance else ''}{room}"


@dataclass
class _Holding:
    start: date
    end: date | None
    owner: tuple  # ("db", pk) or ("new", index)
    db_pk: int | None = None
    row: _Row | None = None
    name: str = ""


@dataclass
class _NewOwner:
    community: str
    name: str
    id_number: str
    pk: int | None = None


class _Importer:
    """Validate every sheet against the database and the file, then (if clean) write in one go."""

    def __init__(self, sheets: dict[str, list[_Row]], company_name: str | None, errors: list[RowError],
                 scope: WriteScope | None = None):
        self.sheets, self.errors, self.scope = sheets, errors, scope
        self.today = services.today()
        self.matched = 0
        self.company_name, self.company = self._find_company(company_name)
        self.charge_types = {t.name: t.pk for t in ChargeType.objects.all()}
        self._load_database()
        # the plan
        self.new_communities: list[str] = []
        self.new_buildings: list[tuple[str, str]] = []
        self.new_units: dict[UnitKey, tuple[Decimal, str]] = {}
        self.changed_units: list[tuple[int, Decimal, str]] = []
        self.new_owners: list[_NewOwner] = []
        self.new_contacts: dict[tuple[tuple, str], str] = {}  # (owner, phone) → community
        self.closed_ownerships: dict[int, date] = {}
        self.new_tariffs: list[tuple[_Row, dict]] = []
        self.new_charges: list[tuple[_Row, dict]] = []
        self.new_payments: list[tuple[_Row, dict]] = []

    # ------------------------------------------------------------------ database state

    def _find_company(self, name):
        if name:
            return name, Company.objects.filter(name=name).first()
        companies = list(Company.objects.order_by("pk")[:2])
        if len(companies) == 1:
            return companies[0].name, companies[0]
        if not companies:
            return DEFAULT_COMPANY, None
        self.errors.append(RowError("", 0, "", N_("系统中有多家物业公司，请指定公司")))
        return "", None

    def _load_database(self):
        # Names in the database are read through normalise_key too: a legacy lookalike matches its normal form.
        names = {_key(row.raw("小区")) for rows in self.sheets.values() for row in rows} - {""}
        communities = Community.objects.filter(company=self.company).order_by("pk").values_list("pk", "name") if self.company else []
        self.communities = {}
        for pk, name in communities:
            if normalise_key(name) in names:
                self.communities.setdefault(normalise_key(name), pk)
        ids = list(self.communities.values())
        self.buildings = {
            (normalise_key(community), normalise_key(name)): pk
            for pk, community, name in Building.objects.filter(community_id__in=ids).values_list("pk", "community__name", "name")
        }
        self.units: dict[UnitKey, int] = {}
        self.unit_facts: dict[int, tuple[Decimal, str]] = {}
        self.unit_buildings: dict[int, int] = {}  # the scope of an existing unit is its own building's
        for pk, community, building_id, building, entrance, room, area, status in Unit.objects.filter(
            community_id__in=ids,
        ).values_list("pk", "community__name", "building_id", "building__name", "entrance", "room", "floor_area", "status"):
            self.units[(normalise_key(community), normalise_key(building), normalise_key(entrance), normalise_key(room))] = pk
            self.unit_facts[pk] = (area, status)
            self.unit_buildings[pk] = building_id
        self.unit_keys = {pk: key for key, pk in self.units.items()}
        self.holdings: dict[UnitKey, list[_Holding]] = defaultdict(list)
        self.db_ownership_names: dict[tuple[int, str, date], tuple[int, int]] = {}
        self.db_owners: dict[tuple[str, str, str], int] = {}
        self.owner_units: dict[int, set[int]] = defaultdict(set)
        for pk, unit_id, owner_id, start, end, name, id_number, community in Ownership.objects.filter(
            community_id__in=ids,
        ).values_list("pk", "unit_id", "owner_id", "start", "end", "owner__name", "owner__id_number", "community__name"):
            self.holdings[self.unit_keys[unit_id]].append(_Holding(start, end, ("db", owner_id), db_pk=pk))
            self.db_ownership_names[(unit_id, normalise_key(name), start)] = (pk, owner_id)
            self.owner_units[owner_id].add(unit_id)
            if id_number:
                self.db_owners[(normalise_key(community), normalise_key(name), normalise_key(id_number))] = owner_id
        owner_ids = {owner for _, owner in self.db_ownership_names.values()}
        self.db_contacts = set(
            Contact.objects.filter(owner_id__in=owner_ids, kind=ContactKind.MOBILE).values_list("owner_id", "value")
        )

    # ------------------------------------------------------------------ helpers

    def _error(self, row: _Row, column: str, bad: _Bad | str, /, **params):
        """Report one cell; `bad` is a bad cell's exception or a msgid with its params."""
        if isinstance(bad, _Bad):
            bad, params = bad.reason, bad.params
        self.errors.append(RowError.of(row.sheet, row.number, column, bad, **params))

    def _cells(self, row: _Row, parsers: dict) -> dict | None:
        """Parse the cells of one row; every bad cell is reported, None if any was bad."""
        values, ok = {}, True
        for column, parse in parsers.items():
            raw = row.raw(column)
            if raw is None:
                if column in OPTIONAL[row.sheet]:
                    values[column] = None
                    continue
                self._error(row, column, REQUIRED_REASON)
                ok = False
                continue
            try:
                values[column] = parse(raw)
            except _Bad as bad:
                self._error(row, column, bad)
                ok = False
        return values if ok else None

    def _unit_key(self, row: _Row) -> UnitKey | None:
        """The unit a row names, known from the file or the database; reports it when unknown."""
        key = tuple(_key(row.raw(c)) for c in UNIT_COLUMNS)
        missing = [c for c, v in zip(UNIT_COLUMNS, key, strict=True) if not v and c != "单元"]
        for column in missing:
            self._error(row, column, REQUIRED_REASON)
        if missing or self._outside_scope(row, key):
            return None
        if key[0] not in self.communities and key[0] not in self.new_communities:
            self._error(row, "小区", UNKNOWN_COMMUNITY, community=key[0])
            return None
        if key not in self.units and key not in self.new_units:
            self._error(row, "房号", N_("房屋“%(unit)s”不存在（本文件和系统中都没有）"), unit=_label(key))
            return None
        return key

    def _outside_scope(self, row: _Row, key: tuple, *, creating: bool = False) -> bool:
        """Report a row outside the scope the user may write; key is (community,) or a unit key.

        A unit is writable when its community is in the scope whole, or its building is; a new
        building or a tariff needs the whole community; a new community needs the admin role.
        A community neither in the system nor planned is left to the "unknown" error.
        """
        if self.scope is None:
            return False
        community = key[0]
        pk = self.communities.get(community)
        if pk is None:
            if self.scope.may_create_communities or not (creating or community in self.new_communities):
                return False
            self._error(row, "小区", N_("新建小区“%(community)s”需要系统管理员角色"), community=community)
            return True
        names_building = len(key) > 1 and bool(key[1])
        # An existing unit is judged by the building it is in, not by the building its key names:
        # two legacy buildings whose names differ only by invisible characters share one key.
        building = None
        if names_building:
            building = self.unit_buildings[self.units[key]] if key in self.units else self.buildings.get(key[:2])
        if self.scope.covers(pk, building):
            return False
        if names_building:
            self._error(row, "小区", N_("房屋“%(unit)s”不在您的管辖范围内，不能导入"), unit=_label(key))
        else:
            self._error(row, "小区", N_("小区“%(community)s”不在您的管辖范围内，不能导入"), community=community)
        return True

    def _owner_writable(self, owner_id: int) -> bool:
        """Whether every unit the owner holds or held is in the scope: a phone added to an owner
        reaches the collection of all their units (an owner is matched across units by ID number)."""
        if self.scope is None:
            return True
        return all(self.scope.covers(self._unit_community(unit_id), self.unit_buildings.get(unit_id))
                   for unit_id in self.owner_units.get(owner_id, ()))

    def _unit_community(self, unit_id: int) -> int | None:
        key = self.unit_keys.get(unit_id)
        return self.communities.get(key[0]) if key else None

    def _holder(self, key: UnitKey, on: date):
        for holding in self.holdings.get(key, ()):
            if holding.start <= on and (holding.end is None or on <= holding.end):
                return holding.owner
        return None

    # ------------------------------------------------------------------ sheets

    def check_houses(self):
        seen = {}
        for row in self.sheets.get(HOUSES, []):
            key = tuple(_key(row.raw(c)) for c in UNIT_COLUMNS)
            if key[0] and self._outside_scope(row, key if key[1] and key[3] else key[:1], creating=True):
                continue
            values = self._cells(row, {"小区": _key, "楼栋": _key, "房号": _key, "建筑面积": self._area, "状态": self._status})
            if key[0] and key[0] not in self.communities and key[0] not in self.new_communities:
                self.new_communities.append(key[0])
            if key[0] and key[1] and key[:2] not in self.buildings and key[:2] not in self.new_buildings:
                self.new_buildings.append(key[:2])
            if not (key[0] and key[1] and key[3]):
                continue
            if key in seen:
                self._error(row, "房号", N_("房屋在文件中重复（第%(row)s行）"), row=seen[key])
                continue
            seen[key] = row.number
            area, status = (values["建筑面积"], values["状态"] or UnitStatus.OCCUPIED) if values else (None, None)
            if key in self.units:
                pk = self.units[key]
                if values and self.unit_facts[pk] != (area, status):
                    self.changed_units.append((pk, area, status))
                elif values:
                    self.matched += 1
            else:
                self.new_units[key] = (area, status)

    @staticmethod
    def _area(value) -> Decimal:
        area = _decimal(value, places=2)
        if area <= 0:
            raise _Bad(N_("建筑面积必须大于零"))
        return area

    @staticmethod
    def _status(value) -> str:
        return _choice(value, STATUS_BY_LABEL, what="状态")

    def check_owners(self):
        new_by_identity: dict[tuple[str, str, str], int] = {}
        added: list[_Holding] = []
        for row in self.sheets.get(OWNERS, []):
            key = self._unit_key(row)
            values = self._cells(row, {"业主姓名": _key, "手机": _phone, "证件号": _key, "起始日期": _date})
            if key is None or values is None:
                continue
            name, start, id_number = values["业主姓名"], values["起始日期"], values["证件号"] or ""
            unit_id = self.units.get(key)
            if unit_id is not None and (unit_id, name, start) in self.db_ownership_names:
                self.matched += 1
                owner = ("db", self.db_ownership_names[(unit_id, name, start)][1])
            else:
                clash = next((h for h in self.holdings[key] if h.start == start), None)
                if clash is not None and clash.row is not None and clash.name == name:
                    self._error(row, "业主姓名", N_("业主在文件中重复（第%(row)s行）"), row=clash.row.number)
                    continue
                if clash is not None:
                    self._error(row, "起始日期", N_("同一房屋同一起始日期已有另一位业主"))
                    continue
                identity = (key[0], name, id_number)
                if id_number and identity in self.db_owners:
                    owner = ("db", self.db_owners[identity])
                elif id_number and identity in new_by_identity:
                    owner = ("new", new_by_identity[identity])
                else:
                    self.new_owners.append(_NewOwner(key[0], name, id_number))
                    owner = ("new", len(self.new_owners) - 1)
                    if id_number:
                        new_by_identity[identity] = owner[1]
                holding = _Holding(start, None, owner, row=row, name=name)
                self.holdings[key].append(holding)
                added.append(holding)
            if values["手机"] and not (owner[0] == "db" and (owner[1], values["手机"]) in self.db_contacts):
                if owner[0] == "db" and not self._owner_writable(owner[1]):
                    self._error(row, "手机", N_("业主“%(owner)s”在您的管辖范围外还有房屋，不能在此添加其联系方式"), owner=name)
                    continue
                self.new_contacts[(owner, values["手机"])] = key[0]
        self._chain_holdings({id(h) for h in added})

    def _chain_holdings(self, added: set[int]):
        """End each ownership the day before the unit's next one starts; refuse overlaps with the database."""
        for holdings in self.holdings.values():
            if not any(id(h) in added for h in holdings):
                continue
            holdings.sort(key=lambda h: h.start)
            for current, following in zip(holdings, holdings[1:], strict=False):
                day_before = following.start - timedelta(days=1)
                if id(current) in added:
                    current.end = day_before
                elif id(following) in added and current.end is None:
                    self.closed_ownerships[current.db_pk] = day_before
                    current.end = day_before
                elif id(following) in added and current.end >= following.start:
                    self._error(following.row, "起始日期", N_("与系统中已有的产权期重叠"))

    def check_tariffs(self):
        parsers = {
            "小区": _key, "收费项目": self._charge_type, "计费方式": lambda v: _choice(v, BASIS_BY_LABEL, what="计费方式"),
            "单价": self._price, "计费周期(月)": lambda v: _integer(v, allowed=(1, 3, 6, 12)),
            "缴费日": lambda v: _integer(v, low=1, high=28), "违约金日率": lambda v: self._fraction(v, 6, 1),
            "宽限天数": lambda v: _integer(v, low=0, high=366), "违约金上限比例": lambda v: self._fraction(v, 4, 100),
            "生效日期": _date, "失效日期": _date,
        }
        planned: dict[tuple[str, int], list[tuple[_Row, dict]]] = defaultdict(list)
        for row in self.sheets.get(TARIFFS, []):
            values = self._cells(row, parsers)
            community = _key(row.raw("小区"))
            if community and community not in self.communities and community not in self.new_communities:
                self._error(row, "小区", UNKNOWN_COMMUNITY, community=community)
                continue
            if community and self._outside_scope(row, (community,)):
                continue
            if values is None:
                continue
            fields = {
                "basis": values["计费方式"], "price": values["单价"], "cycle_months": values["计费周期(月)"] or 1,
                "due_day": values["缴费日"] or 1,
                "late_fee_daily_rate": values["违约金日率"] if values["违约金日率"] is not None else Decimal("0"),
                "grace_days": values["宽限天数"] or 0,
                "late_fee_cap": values["违约金上限比例"] if values["违约金上限比例"] is not None else Decimal("1"),
                "effective_from": values["生效日期"], "effective_to": values["失效日期"],
                "community": community, "charge_type_id": values["收费项目"],
            }
            if fields["effective_to"] and fields["effective_to"] < fields["effective_from"]:
                self._error(row, "失效日期", N_("失效日期早于生效日期"))
                continue
            if self._match_tariff(row, fields):
                continue
            for other_row, other in planned[(community, fields["charge_type_id"])]:
                if _overlaps(fields, other):
                    self._error(row, "生效日期", N_("与本文件第%(row)s行的收费标准日期重叠"), row=other_row.number)
                    break
            else:
                planned[(community, fields["charge_type_id"])].append((row, fields))
                self.new_tariffs.append((row, fields))

    def _match_tariff(self, row: _Row, fields: dict) -> bool:
        """True when the row is done with: matched to the database, or refused."""
        community_id = self.communities.get(fields["community"])
        if community_id is None:
            return False
        terms = ("basis", "price", "cycle_months", "due_day", "late_fee_daily_rate", "grace_days", "late_fee_cap", "effective_to")
        same_start = Tariff.objects.filter(
            community_id=community_id, charge_type_id=fields["charge_type_id"], effective_from=fields["effective_from"],
        ).values("pk", *terms).first()
        if same_start is not None:
            if all(same_start[t] == fields[t] for t in terms):
                self.matched += 1
            else:
                self._error(row, "生效日期", N_("系统中同一生效日期的收费标准条款不同"))
            return True
        if services.overlapping_tariffs(
            community_id=community_id, charge_type_id=fields["charge_type_id"],
            effective_from=fields["effective_from"], effective_to=fields["effective_to"],
        ).exists():
            self._error(row, "生效日期", N_("与系统中同一小区同一收费项目的收费标准日期重叠"))
            return True
        return False

    def _charge_type(self, value) -> int:
        return _choice(value, self.charge_types, what="收费项目")

    @staticmethod
    def _price(value) -> Decimal:
        price = _decimal(value, places=4)
        if price < 0:
            raise _Bad(N_("单价不能为负"))
        return price

    @staticmethod
    def _fraction(value, places: int, limit: int) -> Decimal:
        number = _decimal(value, places=places, limit=limit)
        if number < 0:
            raise _Bad(N_("不能为负"))
        return number

    def check_charges(self):
        rows = []
        for row in self.sheets.get(CHARGES, []):
            key = self._unit_key(row)
            values = self._cells(row, {"收费项目": self._charge_type, "账期起": _date, "账期止": _date, "金额": _money, "到期日": _date})
            if key is None or values is None:
                continue
            if values["账期止"] < values["账期起"]:
                self._error(row, "账期止", N_("账期止早于账期起"))
                continue
            owner = self._holder(key, values["账期起"]) or self._holder(key, values["账期止"])
            if owner is None:
                self._error(row, "账期起", N_("账期内该房屋没有业主，请先在“业主”表登记"))
                continue
            rows.append((row, key, values, owner))
        existing = self._existing_charges({key for _, key, _, _ in rows}, rows)
        spans: dict[tuple, list[tuple[date, date, _Row]]] = defaultdict(list)
        for row, key, values, owner in rows:
            type_id, start, end = values["收费项目"], values["账期起"], values["账期止"]
            same = next((c for c in existing.get((key, type_id), ()) if (c[0], c[1]) == (start, end) and c[3] == ChargeOrigin.IMPORTED), None)
            if same is not None and same[2] == values["金额"] and not same[4]:
                same[4] = True  # each charge in the database matches one row only
                self.matched += 1
                continue
            if same is not None and same[2] != values["金额"]:
                self._error(row, "金额", N_("与已导入的同一账期应收金额 %(amount)s 不同"), amount=str(same[2]))
                continue
            clash = next((c for c in existing.get((key, type_id), ()) if c[0] <= end and start <= c[1]), None)
            if clash is not None:
                self._error(row, "账期起", N_("与系统中已有应收的账期重叠（%(start)s–%(end)s）"), start=str(clash[0]), end=str(clash[1]))
                continue
            other = next((r for s, e, r in spans[(key, type_id)] if s <= end and start <= e), None)
            if other is not None:
                self._error(row, "账期起", N_("与本文件第%(row)s行的账期重叠"), row=other.number)
                continue
            spans[(key, type_id)].append((start, end, row))
            self.new_charges.append((row, {"key": key, "owner": owner, **values}))

    def _existing_charges(self, keys, rows) -> dict:
        unit_ids = [self.units[k] for k in keys if k in self.units]
        if not unit_ids:
            return {}
        low = min(v["账期起"] for _, _, v, _ in rows)
        high = max(v["账期止"] for _, _, v, _ in rows)
        found = defaultdict(list)
        for chunk in _chunks(unit_ids, 500):
            for unit_id, type_id, start, end, amount, origin in Charge.objects.filter(
                unit_id__in=chunk, period_start__lte=high, period_end__gte=low,
            ).values_list("unit_id", "charge_type_id", "period_start", "period_end", "amount", "origin"):
                found[(self.unit_keys[unit_id], type_id)].append([start, end, amount, origin, False])
        return found

    def check_payments(self):
        rows = []
        parsers = {"缴费日期": _date, "金额": _money, "方式": lambda v: _choice(v, METHOD_BY_LABEL, what="方式"),
                   "票据号": _key}
        for row in self.sheets.get(PAYMENTS, []):
            key = self._unit_key(row)
            values = self._cells(row, parsers)
            if key is None or values is None:
                continue
            if values["缴费日期"] > self.today:
                self._error(row, "缴费日期", N_("缴费日期不能晚于今天"))
                continue
            owner = self._holder(key, values["缴费日期"])
            if owner is None:
                self._error(row, "缴费日期", N_("缴费日期时该房屋没有业主，请先在“业主”表登记"))
                continue
            rows.append((row, key, values, owner))
        receipts = self._existing_receipts({v["票据号"] for _, _, v, _ in rows if v["票据号"]})
        anonymous = self._existing_anonymous(rows)
        seen_receipts: dict[str, int] = {}
        for row, key, values, owner in rows:
            receipt = values["票据号"] or ""
            if receipt:
                if receipt in seen_receipts:
                    self._error(row, "票据号", N_("票据号在文件中重复（第%(row)s行）"), row=seen_receipts[receipt])
                    continue
                seen_receipts[receipt] = row.number
                if receipt in receipts:
                    if receipts[receipt] == (self.units.get(key), values["缴费日期"], values["金额"]):
                        self.matched += 1
                    else:
                        self._error(row, "票据号", N_("票据号 %(receipt)s 已被系统中另一笔缴费使用"), receipt=receipt)
                    continue
            else:
                match = (self.units.get(key), values["缴费日期"], values["金额"], values["方式"])
                if anonymous[match] > 0:
                    anonymous[match] -= 1
                    self.matched += 1
                    continue
            self.new_payments.append((row, {"key": key, "owner": owner, **values}))

    def _existing_receipts(self, numbers: set[str]) -> dict[str, tuple]:
        if not numbers or self.company is None:
            return {}
        found = {}
        for chunk in _chunks(sorted(numbers), 500):
            for receipt, unit_id, paid_on, amount in Payment.objects.filter(
                company=self.company, receipt_number__in=chunk,
            ).values_list("receipt_number", "unit_id", "paid_on", "amount"):
                found[receipt] = (unit_id, paid_on, amount)
        # A receipt number stored before keys had a normal form is append-only evidence, left as
        # written ("R2\u200b"): the file's "R2" is still that payment, not a second one.
        # Only a number with a character outside printable ASCII (or a space) can be a lookalike: the
        # database narrows to those, so the import does not read the company's whole payment history.
        stored = Payment.objects.filter(company=self.company, receipt_number__regex=r"[^!-~]").order_by("pk").values_list(
            "receipt_number", "unit_id", "paid_on", "amount")
        for receipt, unit_id, paid_on, amount in stored.iterator(chunk_size=5000):
            if not is_normal_key(receipt) and normalise_key(receipt) in numbers:
                found.setdefault(normalise_key(receipt), (unit_id, paid_on, amount))
        return found

    def taken_receipts(self) -> list[RowError]:
        """After a refused write: the file's new payments whose 票据号 another import or desk took
        (and committed) meanwhile, each refused as the check would have refused it."""
        taken = self._existing_receipts({v["票据号"] for _, v in self.new_payments if v["票据号"]})
        return [RowError.of(row.sheet, row.number, "票据号", N_("票据号 %(receipt)s 已登记（另一笔缴费刚刚写入），本文件未写入任何数据"),
                            receipt=v["票据号"])
                for row, v in self.new_payments if v["票据号"] in taken]

    def _existing_anonymous(self, rows) -> Counter:
        unit_ids = sorted({self.units[k] for _, k, v, _ in rows if k in self.units and not v["票据号"]})
        counter: Counter = Counter()
        if not unit_ids:
            return counter
        low = min(v["缴费日期"] for _, _, v, _ in rows)
        for chunk in _chunks(unit_ids, 500):
            counter.update(Payment.objects.filter(unit_id__in=chunk, receipt_number="", paid_on__gte=low).values_list(
                "unit_id", "paid_on", "amount", "method",
            ))
        return counter

    # ------------------------------------------------------------------ counts and writing

    def plan_counts(self) -> dict[str, int]:
        counts = {
            "小区": len(self.new_communities), "楼栋": len(self.new_buildings), "房屋": len(self.new_units),
            "房屋（更新）": len(self.changed_units), "业主": len(self.new_owners), "产权": sum(1 for hs in self.holdings.values() for h in hs if h.row is not None),
            "联系方式": len(self.new_contacts), "收费标准": len(self.new_tariffs), "应收": len(self.new_charges),
            "缴费": len(self.new_payments), "已存在（跳过）": self.matched,
        }
        if self.company is None:
            counts = {"物业公司": 1, **counts}
        return counts

    def write(self) -> int:
        """Write the plan; returns the number of allocations made. Runs inside transaction.atomic."""
        company = self.company or Company.objects.create(name=self.company_name)
        for name in self.new_communities:
            self.communities[name] = Community.objects.create(company=company, name=name).pk
        created = Building.objects.bulk_create(
            [Building(community_id=self.communities[c], name=b) for c, b in self.new_buildings], batch_size=500,
        )
        self.buildings.update({key: b.pk for key, b in zip(self.new_buildings, created, strict=True)})
        keys = list(self.new_units)
        created = Unit.objects.bulk_create(
            [
                Unit(community_id=self.communities[k[0]], building_id=self.buildings[k[:2]], entrance=k[2], room=k[3],
                     floor_area=self.new_units[k][0], status=self.new_units[k][1])
                for k in keys
            ],
            batch_size=500,
        )
        self.units.update({key: u.pk for key, u in zip(keys, created, strict=True)})
        for pk, area, status in self.changed_units:
            Unit.objects.filter(pk=pk).update(floor_area=area, status=status)
        created = Owner.objects.bulk_create(
            [Owner(community_id=self.communities[o.community], name=o.name, id_number=o.id_number) for o in self.new_owners],
            batch_size=500,
        )
        for planned, owner in zip(self.new_owners, created, strict=True):
            planned.pk = owner.pk
        for pk, end in self.closed_ownerships.items():
            Ownership.objects.filter(pk=pk).update(end=end)
        Ownership.objects.bulk_create(
            [
                Ownership(community_id=self.communities[key[0]], unit_id=self.units[key], owner_id=self._owner_pk(h.owner),
                          start=h.start, end=h.end)
                for key, holdings in self.holdings.items() for h in holdings if h.row is not None
            ],
            batch_size=500,
        )
        Contact.objects.bulk_create(
            [
                Contact(community_id=self.communities[community], owner_id=self._owner_pk(owner), kind=ContactKind.MOBILE,
                        value=phone, relation=ContactRelation.SELF)
                for (owner, phone), community in self.new_contacts.items()
            ],
            batch_size=500,
        )
        self._write_tariffs()
        touched = self._write_charges() | self._write_payments(company)
        return self._allocate(touched)

    def _owner_pk(self, owner: tuple) -> int:
        return owner[1] if owner[0] == "db" else self.new_owners[owner[1]].pk

    def _write_tariffs(self):
        for row, fields in self.new_tariffs:
            values = {k: v for k, v in fields.items() if k != "community"}
            tariff = Tariff(community_id=self.communities[fields["community"]], **values)
            try:
                services.validate_tariff(tariff)
            except DomainError as exc:
                # The service's refusal carries both languages; the page shows the viewer's half.
                raise _Refused(RowError(row.sheet, row.number, "生效日期", str(exc))) from exc
            tariff.save()

    def _write_charges(self) -> set[tuple[int, int]]:
        """Bulk-create imported charges; late-fee terms from the tariff in force on each due date."""
        tariffs: dict[tuple, Tariff | None] = {}
        charges = []
        for _row, values in self.new_charges:
            community_id = self.communities[values["key"][0]]
            lookup = (community_id, values["收费项目"], values["到期日"])
            if lookup not in tariffs:
                tariffs[lookup] = services.tariff_on(community_id=community_id, charge_type_id=values["收费项目"], on=values["到期日"])
            tariff = tariffs[lookup]
            charges.append(Charge(
                community_id=community_id, unit_id=self.units[values["key"]], owner_id=self._owner_pk(values["owner"]),
                charge_type_id=values["收费项目"], tariff=tariff, period_start=values["账期起"], period_end=values["账期止"],
                amount=values["金额"], due_date=values["到期日"], origin=ChargeOrigin.IMPORTED,
                late_fee_daily_rate=tariff.late_fee_daily_rate if tariff else Decimal("0"),
                grace_days=tariff.grace_days if tariff else 0,
                late_fee_cap=tariff.late_fee_cap if tariff else Decimal("1"),
            ))
        Charge.objects.bulk_create(charges, batch_size=1000)
        self.touched_since = [c.period_start for c in charges]
        return {(c.unit_id, c.owner_id) for c in charges}

    def _write_payments(self, company: Company) -> set[tuple[int, int]]:
        payments = [
            Payment(
                company=company, community_id=self.communities[v["key"][0]], unit_id=self.units[v["key"]],
                owner_id=self._owner_pk(v["owner"]), amount=v["金额"], unallocated=v["金额"], paid_on=v["缴费日期"],
                method=v["方式"], receipt_number=v["票据号"] or "",
            )
            for _row, v in self.new_payments
        ]
        Payment.objects.bulk_create(payments, batch_size=1000)
        self.touched_since += [p.paid_on for p in payments]
        return {(p.unit_id, p.owner_id) for p in payments}

    def _allocate(self, touched: set[tuple[int, int]]) -> int:
        """Replay allocation day by day from the earliest new date: the figures of day-by-day entry."""
        if not touched:
            return 0
        since = min(self.touched_since)
        weight: Counter = Counter()
        for _row, values in self.new_charges:
            weight[(self.units[values["key"]], self._owner_pk(values["owner"]))] += 1
        made, chunk, load = 0, [], 0
        for pair in sorted(touched):
            if chunk and (len(chunk) >= CREDIT_CHUNK_PAIRS or load + weight[pair] > CREDIT_CHUNK_CHARGES):
                made += services.apply_credit(pairs=chunk, since=since)
                chunk, load = [], 0
            chunk.append(pair)
            load += weight[pair]
        if chunk:
            made += services.apply_credit(pairs=chunk, since=since)
        return made


class _Refused(Exception):
    def __init__(self, error: RowError):
        super().__init__(str(error))
        self.error = error


def _overlaps(a: dict, b: dict) -> bool:
    return (a["effective_to"] is None or b["effective_from"] <= a["effective_to"]) and (
        b["effective_to"] is None or a["effective_from"] <= b["effective_to"]
    )


def _chunks(items, size):
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i:i + size]


# ----------------------------------------------------------------------------- API


NO_SCOPE = N_("您没有任何小区的管辖范围，不能导入")


def run_import(
    fileobj_or_path, *, dry_run: bool, company_name: str | None = None, scope: WriteScope | None = None,
    limits: Limits | None = None, progress=None,
) -> ImportReport:
    """Validate the whole workbook, then import it in one transaction unless dry_run or any row is bad.

    Never raises for bad data: the report lists every bad cell (sheet, row, column, reason).
    `scope` is where the caller may write (None: the operator's command, everywhere); a row outside
    it is an error, so nothing is written. `progress(stage, done, total)` follows the work.
    """
    if scope is not None and scope.empty:
        return ImportReport(errors=[RowError("", 0, "", NO_SCOPE)], dry_run=dry_run)

    def reading(done, total):
        if progress is not None:
            progress("read", done, total)

    sheets, errors = read_workbook(fileobj_or_path, SHEETS, OPTIONAL, limits=limits or Limits.from_settings(),
                                   progress=reading)
    report = ImportReport(errors=errors, dry_run=dry_run)
    if errors and not sheets:
        return report
    if progress is not None:
        progress("check", 0, 0)
    importer = _Importer(sheets, company_name, errors, scope)
    importer.check_houses()
    importer.check_owners()
    importer.check_tariffs()
    importer.check_charges()
    importer.check_payments()
    report.counts = importer.plan_counts()
    if errors:
        report.errors = explain_formulas(fileobj_or_path, errors, SHEETS)
    if errors or dry_run:
        return report
    if progress is not None:
        progress("write", 0, 0)
    try:
        with transaction.atomic():
            report.counts["冲抵"] = importer.write()
    except _Refused as refused:
        report.errors.append(refused.error)
    except IntegrityError as exc:  # a concurrent write took a receipt number or a unit between check and write
        report.errors.extend(importer.taken_receipts() or [
            RowError.of("", 0, "", N_("写入时与其他操作冲突，未写入任何数据，请重试（%(detail)s）"), detail=str(exc)[:200]),
        ])
    return report


# ----------------------------------------------------------------------------- template

EXAMPLES: dict[str, list[list]] = {
    HOUSES: [
        ["阳光花园", "1栋", "1", "101", 89.5, "自住"],
        ["阳光花园", "1栋", "1", "102", 120, "出租"],
        ["阳光花园", "2栋", None, "301", 75.25, "空置"],
    ],
    OWNERS: [
        ["阳光花园", "1栋", "1", "101", "张伟", "13800138000", "110101198001011234", date(2020, 1, 1)],
        ["阳光花园", "1栋", "1", "102", "李娜", "13900139000", None, date(2021, 3, 15)],
        ["阳光花园", "2栋", None, "301", "王芳", None, None, "2023/6/15"],
    ],
    TARIFFS: [
        ["阳光花园", "物业费", "按面积", 2.5, 1, 5, 0.0005, 15, 0.3, date(2025, 1, 1), None],
        ["阳光花园", "公摊水电费", "固定", 20, 3, 10, 0.0003, 0, 0.2, date(2025, 1, 1), None],
    ],
    CHARGES: [
        ["阳光花园", "1栋", "1", "101", "物业费", date(2026, 9, 1), date(2026, 9, 30), 223.75, date(2026, 9, 5)],
        ["阳光花园", "1栋", "1", "101", "物业费", date(2026, 10, 1), date(2026, 10, 31), 223.75, date(2026, 10, 5)],
        ["阳光花园", "2栋", None, "301", "物业费", "2026-09-01", "2026-09-30", 188.13, "2026-09-05"],
    ],
    PAYMENTS: [
        ["阳光花园", "1栋", "1", "101", date(2026, 9, 20), 223.75, "微信", "SJ2026090001"],
        ["阳光花园", "2栋", None, "301", date(2026, 10, 8), 100, "现金", None],
    ],
}
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
REQUIRED_FILL = PatternFill("solid", fgColor="C00000")
DATE_FORMAT = "yyyy-mm-dd"


def write_template(path_or_file) -> None:
    """Write the import template: one sheet per kind with example rows, and a 说明 sheet."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, columns in SHEETS.items():
        sheet = workbook.create_sheet(name)
        sheet.append(columns)
        for i, column in enumerate(columns, start=1):
            cell = sheet.cell(row=1, column=i)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL if column in OPTIONAL[name] else REQUIRED_FILL
            cell.alignment = Alignment(horizontal="center")
            sheet.column_dimensions[get_column_letter(i)].width = max(10, len(column) * 2 + 4)
        for example in EXAMPLES[name]:
            sheet.append(example)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, date):
                    cell.number_format = DATE_FORMAT
        sheet.freeze_panes = "A2"
    notes = workbook.create_sheet(NOTES, 0)
    notes.append(["表", "列", "说明"])
    for cell in notes[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    notes.append(["", "", "红色表头为必填列，蓝色表头可留空。"])
    for line in MATCHING_NOTE:
        notes.append(["", "", line])
    for name, items in HELP.items():
        for column, text in items:
            notes.append([name, column, text])
    for letter, width in (("A", 12), ("B", 24), ("C", 90)):
        notes.column_dimensions[letter].width = width
    workbook.save(path_or_file)
