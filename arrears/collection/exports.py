"""The case list as xlsx: the same filters as the page, one streamed query, money as Decimal numbers, text as text."""

from __future__ import annotations

from datetime import date

from arrears.collection import rules
from arrears.collection.models import Bucket, Persona, Tier
from arrears.core import roles
from arrears.core.xlsx import DATE, MONEY, NUMBER, TEXT, Book

COLUMNS = [
    ("小区", TEXT, 14), ("楼栋", TEXT, 8), ("单元", TEXT, 6), ("房号", TEXT, 8), ("业主", TEXT, 12), ("分类", TEXT, 6),
    ("账龄", TEXT, 12), ("欠费本金", MONEY, 12), ("违约金", MONEY, 10), ("合计", MONEY, 12), ("最早到期日", DATE, 12),
    ("逾期天数", NUMBER, 10), ("欠费月数", NUMBER, 10), ("业主类型", TEXT, 10), ("情形", TEXT, 30), ("建议招式", TEXT, 30),
    ("催收员", TEXT, 12), ("最近步骤", TEXT, 20), ("诉讼时效届满", DATE, 14),
]


def write_cases_xlsx(cases, *, as_of: date, filters: dict, path_or_file) -> int:
    """Write the open cases (a queryset from `selectors.open_cases`); returns the number of rows."""
    workbook = Book()
    sheet = workbook.sheet("欠费列表", COLUMNS)
    tiers, buckets, personas = dict(Tier.choices), dict(Bucket.choices), dict(Persona.choices)
    count = 0
    for case in cases.iterator(chunk_size=2000) if not cases._prefetch_related_lookups else cases:
        unit = case.unit
        profile = getattr(case.owner, "collection_profile", None)
        persona = profile.persona if profile and profile.persona else ""
        collector = roles.staff_label(case.collector, nobody="")
        sheet.append([
            case.community.name, unit.building.name, unit.entrance, unit.room, case.owner.name, str(tiers.get(case.tier, case.tier)),
            str(buckets.get(case.bucket, case.bucket)), case.principal, case.late_fee, case.principal + case.late_fee,
            case.oldest_due, case.days_overdue, case.months_overdue, str(personas.get(persona, "")),
            "、".join(f"{n} {rules.SITUATION_LABELS[n][0]}" for n in case.situation_list),
            "、".join(f"{n} {rules.TECHNIQUE_LABELS[n][0]}" for n in case.technique_list),
            collector, case.last_step.name if case.last_step else "", case.limitation_deadline,
        ])
        count += 1
    sheet.close()
    workbook.notes([
        ("报表", "欠费列表 / open cases"),
        ("数据日期", as_of),
        ("筛选", "；".join(f"{key}={value}" for key, value in filters.items()) or "无"),
        ("口径", "进行中的催收案件，金额为最近一次每日运行的快照；最后一行为合计。"),
    ])
    workbook.save(path_or_file)
    return count
