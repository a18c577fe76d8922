"""Excel out: the statement list and the ledger finance reconciles, as xlsx.

Money goes in as Decimal numbers with a two-decimal format, never as text or float, so a SUM in
Excel gives the figure the database gives; text stays text (`arrears.core.xlsx`, the one writer).
Rows stream from one `values_list` query per sheet (write-only workbook): the cost follows the
rows, with no query per row.
"""

from __future__ import annotations

from datetime import date

from arrears.core.xlsx import DATE, MONEY, NUMBER, TEXT, Book
from arrears.ledger.models import (
    Allocation,
    Charge,
    ChargeOrigin,
    Component,
    Payment,
    PaymentMethod,
    PaymentReversal,
    Waiver,
    WaiverStatus,
)

UNIT_COLUMNS = [("小区", TEXT, 14), ("楼栋", TEXT, 8), ("单元", TEXT, 6), ("房号", TEXT, 8), ("业主", TEXT, 12)]


# ----------------------------------------------------------------------------- statement


def write_statement_xlsx(statements, as_of: date, path_or_file) -> None:
    """The statement list of `arrears report statement` as a workbook: a units sheet and a charges sheet."""
    workbook = Book()
    units = workbook.sheet("欠费汇总", [
        *UNIT_COLUMNS, ("欠费本金", MONEY, 12), ("违约金", MONEY, 10), ("合计", MONEY, 12), ("预存款", MONEY, 10),
        ("最早欠费到期日", DATE, 14), ("逾期天数", NUMBER, 10),
    ])
    charges = workbook.sheet("应收明细", [
        *UNIT_COLUMNS, ("收费项目", TEXT, 12), ("账期起", DATE, 12), ("账期止", DATE, 12), ("到期日", DATE, 12),
        ("金额", MONEY, 12), ("已缴", MONEY, 12), ("减免", MONEY, 10), ("未缴本金", MONEY, 12), ("违约金", MONEY, 10),
        ("逾期天数", NUMBER, 10),
    ])
    for s in statements:
        address = [s.community, s.building, s.entrance, s.room, s.owner]
        units.append([*address, s.principal, s.late_fee, s.total, s.prepaid, s.oldest_due, s.days_overdue])
        for c in s.charges:
            charges.append([*address, c.charge_type, c.period_start, c.period_end, c.due, c.amount, c.paid, c.waived,
                            c.outstanding, c.late_fee, c.days_overdue])
    units.close()
    charges.close()
    workbook.notes([
        ("报表", "欠费明细 / statement"),
        ("截至日期", as_of),
        ("口径", "到期日早于截至日期且仍有本金或违约金未缴的应收；违约金按截至日期计算；最后一行为合计。"),
    ])
    workbook.save(path_or_file)


# ----------------------------------------------------------------------------- ledger


def _labels(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


def _between(queryset, field: str, date_from: date | None, date_to: date | None):
    if date_from is not None:
        queryset = queryset.filter(**{f"{field}__gte": date_from})
    if date_to is not None:
        queryset = queryset.filter(**{f"{field}__lte": date_to})
    return queryset


def ledger_querysets(*, community_ids=None, date_from: date | None = None, date_to: date | None = None) -> dict:
    """The rows of each ledger sheet, filtered by community and by that sheet's date of record."""
    querysets = {
        "应收": _between(Charge.objects.all(), "period_start", date_from, date_to),
        "缴费": _between(Payment.objects.all(), "paid_on", date_from, date_to),
        "冲抵": _between(Allocation.objects.all(), "value_date", date_from, date_to),
        "减免": _between(Waiver.objects.filter(status=WaiverStatus.APPROVED), "decided_on", date_from, date_to),
        "冲正": _between(PaymentReversal.objects.all(), "reversed_on", date_from, date_to),
    }
    if community_ids is not None:
        ids = list(community_ids)
        querysets = {name: qs.filter(community_id__in=ids) for name, qs in querysets.items()}
    return querysets


def write_ledger_xlsx(path_or_file, *, community_ids=None, date_from: date | None = None, date_to: date | None = None) -> None:
    """The charge/payment ledger finance reconciles: 应收, 缴费, 冲抵, 减免, 冲正, each with a totals row."""
    origins, methods, components = _labels(ChargeOrigin.choices), _labels(PaymentMethod.choices), _labels(Component.choices)
    qs = ledger_querysets(community_ids=community_ids, date_from=date_from, date_to=date_to)
    workbook = Book()

    sheet = workbook.sheet("应收", [
        ("应收编号", NUMBER, 10), *UNIT_COLUMNS, ("收费项目", TEXT, 12), ("账期起", DATE, 12), ("账期止", DATE, 12),
        ("到期日", DATE, 12), ("金额", MONEY, 12), ("来源", TEXT, 10),
    ])
    for row in qs["应收"].order_by("period_start", "pk").values_list(
        "pk", "community__name", "unit__building__name", "unit__entrance", "unit__room", "owner__name",
        "charge_type__name", "period_start", "period_end", "due_date", "amount", "origin",
    ).iterator(chunk_size=2000):
        sheet.append([*row[:-1], origins.get(row[-1], row[-1])])
    sheet.close()

    sheet = workbook.sheet("缴费", [
        ("缴费编号", NUMBER, 10), *UNIT_COLUMNS, ("缴费日期", DATE, 12), ("金额", MONEY, 12), ("方式", TEXT, 10),
        ("票据号", TEXT, 16), ("交易参考号", TEXT, 16), ("冲正日期", DATE, 12),
    ])
    for row in qs["缴费"].order_by("paid_on", "pk").values_list(
        "pk", "community__name", "unit__building__name", "unit__entrance", "unit__room", "owner__name",
        "paid_on", "amount", "method", "receipt_number", "reference", "reversal__reversed_on",
    ).iterator(chunk_size=2000):
        sheet.append([*row[:8], methods.get(row[8], row[8]), *row[9:]])
    sheet.close()

    sheet = workbook.sheet("冲抵", [
        ("冲抵编号", NUMBER, 10), ("缴费编号", NUMBER, 10), ("票据号", TEXT, 16), ("应收编号", NUMBER, 10), *UNIT_COLUMNS,
        ("收费项目", TEXT, 12), ("账期起", DATE, 12), ("冲抵项", TEXT, 8), ("金额", MONEY, 12), ("起息日", DATE, 12),
        ("冲正", TEXT, 6),
    ])
    for row in qs["冲抵"].order_by("value_date", "pk").values_list(
        "pk", "payment_id", "payment__receipt_number", "charge_id", "community__name", "charge__unit__building__name",
        "charge__unit__entrance", "charge__unit__room", "charge__owner__name", "charge__charge_type__name",
        "charge__period_start", "component", "amount", "value_date", "reversal_id",
    ).iterator(chunk_size=2000):
        sheet.append([*row[:11], components.get(row[11], row[11]), row[12], row[13], "是" if row[14] else ""])
    sheet.close()

    sheet = workbook.sheet("减免", [
        ("减免编号", NUMBER, 10), ("应收编号", NUMBER, 10), *UNIT_COLUMNS, ("收费项目", TEXT, 12), ("账期起", DATE, 12),
        ("减免项", TEXT, 8), ("金额", MONEY, 12), ("原因", TEXT, 24), ("申请人", TEXT, 10), ("申请日期", DATE, 12),
        ("审批人", TEXT, 10), ("生效日期", DATE, 12),
    ])
    for row in qs["减免"].order_by("decided_on", "pk").values_list(
        "pk", "charge_id", "community__name", "charge__unit__building__name", "charge__unit__entrance",
        "charge__unit__room", "charge__owner__name", "charge__charge_type__name", "charge__period_start", "component",
        "amount", "reason", "requested_by__username", "requested_on", "approved_by__username", "decided_on",
    ).iterator(chunk_size=2000):
        sheet.append([*row[:9], components.get(row[9], row[9]), *row[10:]])
    sheet.close()

    sheet = workbook.sheet("冲正", [
        ("冲正编号", NUMBER, 10), ("缴费编号", NUMBER, 10), ("票据号", TEXT, 16), *UNIT_COLUMNS, ("缴费日期", DATE, 12),
        ("冲正日期", DATE, 12), ("金额", MONEY, 12), ("原因", TEXT, 24), ("申请人", TEXT, 10), ("审批人", TEXT, 10),
    ])
    for row in qs["冲正"].order_by("reversed_on", "pk").values_list(
        "pk", "payment_id", "payment__receipt_number", "community__name", "payment__unit__building__name",
        "payment__unit__entrance", "payment__unit__room", "payment__owner__name", "payment__paid_on", "reversed_on",
        "payment__amount", "reason", "requested_by__username", "approved_by__username",
    ).iterator(chunk_size=2000):
        sheet.append(list(row))
    sheet.close()

    workbook.notes([
        ("报表", "收费台账 / ledger"),
        ("起始日期", date_from or "（不限）"),
        ("截止日期", date_to or "（不限）"),
        ("口径", "应收按账期起、缴费按缴费日期、冲抵按起息日、减免按审批生效日期（仅已批准）、冲正按冲正日期筛选；"
                 "冲正产生的冲抵为负数；每表最后一行为合计。"),
    ])
    workbook.save(path_or_file)
