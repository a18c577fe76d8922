"""Reconciliation: a provider's statement against our orders, as a service and as `arrears reconcile`."""

from datetime import datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from arrears.core.errors import DomainError
from arrears.portal import payments
from arrears.portal.providers.base import Notification
from arrears.portal.reconcile import Difference, reconcile
from tests.portal.conftest import charges

CHINA = ZoneInfo("Asia/Shanghai")
WECHAT_HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
                 "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,"
                 "商户数据包,手续费,费率,订单金额,申请退款金额,费率备注")
ALIPAY_HEADER = ("支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,"
                 "商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,"
                 "商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注")


def wechat_bill(*rows) -> str:
    """A 交易账单 (ALL) as WeChat Pay writes it; rows are (time, transaction_id, out_trade_no, state, amount)."""
    lines = [WECHAT_HEADER]
    for at, trade_no, number, state, amount in rows:
        refund = state == "REFUND"
        fields = [at, "wxd678efh567hg6787", "1900000109", "0", "", trade_no, number, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
                  "NATIVE", state, "OTHERS", "CNY", "0.00" if refund else amount, "0.00",
                  "50300002026051012345678901" if refund else "0", "RF1" if refund else "0", amount if refund else "0.00",
                  "0.00", "ORIGINAL" if refund else "", "SUCCESS" if refund else "", f"物业费 {number}", "", "0.00000",
                  "0.60%", "0.00" if refund else amount, amount if refund else "0.00", ""]
        lines.append(",".join("`" + field for field in fields))
    lines += ["总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
              f"`{len(rows)},`0.00,`0.00,`0.00,`0.00000,`0.00,`0.00"]
    return "\ufeff" + "\r\n".join(lines) + "\r\n"


def alipay_detail(*rows, day="2026年05月10日", next_day="2026年05月11日") -> str:
    """A 业务明细 as Alipay writes it; rows are (time, trade_no, out_trade_no, 业务类型, amount)."""
    lines = ["#支付宝业务明细查询", "#账号：[20881021773004500156]",
             f"#起始日期：[{day} 00:00:00]   终止日期：[{next_day} 00:00:00]",
             "#-----------------------------------------业务明细列表----------------------------------------", ALIPAY_HEADER]
    for at, trade_no, number, kind, amount in rows:
        lines.append(",".join([f"{trade_no}\t", f"{number}\t", f"{kind}\t", f"物业费 {number}", at, at, "\t", "\t", "\t",
                               "\t", "wxm***@example.com\t", amount, amount, "0.00", "0.00", "0.00", "0.00", "0.00", "",
                               "0.00\t", "0.00", "\t", "-0.60", "0.00", ""]))
    lines += ["#-----------------------------------------业务明细列表结束------------------------------------",
              f"#交易合计：{len(rows)}笔，商家实收：0.00元，商家优惠：0.00元", "#导出时间：[2026年05月11日 09:41:13]"]
    return "\r\n".join(lines) + "\r\n"


def credit(order, trade_no, paid_at):
    payments.credit_order(order, Notification(order.number, trade_no, order.amount, True, paid_at))
    order.refresh_from_db()
    return order


@pytest.fixture
def books(estate, make_order):
    """WeChat orders of 10 May: A, B, C, G credited that day, E credited the day before, D never paid."""
    feb, mar, apr = charges(estate)[1:]
    a, b, c, d, g, e = (make_order("wechat", [charge]) for charge in (feb, mar, apr, feb, mar, apr))

    def at(hour, minute, second):
        return datetime(2026, 5, 10, hour, minute, second, tzinfo=CHINA)

    credit(a, "4200000001", at(9, 0, 0))
    credit(b, "4200000002", at(9, 30, 0))
    credit(c, "4200000003", at(10, 0, 0))
    credit(g, "4200000007", at(0, 0, 0))  # the first second of the day: inside
    credit(e, "4200000005", datetime(2026, 5, 9, 23, 59, 59, tzinfo=CHINA))  # the day before: outside
    return {"A": a, "B": b, "C": c, "D": d, "G": g, "E": e}


def test_it_lists_every_kind_of_difference(books):
    # given WeChat's bill of 10 May
    a, b, c, d, g = (books[name] for name in "ABCDG")
    bill = wechat_bill(
        ("2026-05-10 09:00:00", "4200000001", a.number, "SUCCESS", "209.40"),  # as we have it
        ("2026-05-10 09:30:00", "4200000002", b.number, "SUCCESS", "206.50"),  # we have 206.60
        ("2026-05-10 10:00:00", "4200000099", c.number, "SUCCESS", "203.50"),  # we have trade 4200000003
        ("2026-05-10 11:00:00", "4200000004", d.number, "SUCCESS", "209.40"),  # we never heard of the payment
        ("2026-05-10 12:00:00", "4200000008", "PO20260510120000NOTOURS01", "SUCCESS", "1.00"),  # not our order
        ("2026-05-10 15:00:00", "4200000001", a.number, "REFUND", "209.40"),  # a refund is not a payment
    )

    # when it is reconciled
    report = reconcile("wechat", bill)

    # then each difference is listed once, with both sides' figures; G is missing there, E is another day
    assert report.differences == [
        Difference("amount_mismatch", b.number, "4200000002", Decimal("206.50"), Decimal("206.60"), "4200000002"),
        Difference("trade_no_mismatch", c.number, "4200000099", Decimal("203.50"), Decimal("203.50"), "4200000003"),
        Difference("missing_here", d.number, "4200000004", Decimal("209.40"), Decimal("209.40")),
        Difference("missing_here", "PO20260510120000NOTOURS01", "4200000008", Decimal("1.00"), None),
        Difference("missing_there", g.number, "4200000007", None, Decimal("206.60"), "4200000007"),
    ]
    assert report.span == (datetime(2026, 5, 10, tzinfo=CHINA), datetime(2026, 5, 11, tzinfo=CHINA))
    assert (report.provider_count, report.provider_total) == (5, Decimal("829.80"))
    assert (report.our_count, report.our_total) == (4, Decimal("826.10"))
    assert (report.matched_count, report.matched_total) == (1, Decimal("209.40"))
    assert not report.ok


def test_a_bill_that_agrees_has_no_differences(books):
    a, b, c, g = (books[name] for name in "ABCG")
    bill = wechat_bill(*[(f"2026-05-10 {hour:02d}:00:00", order.provider_trade_no, order.number, "SUCCESS", str(order.amount))
                         for hour, order in enumerate((g, a, b, c))])

    report = reconcile("wechat", bill)

    assert report.differences == []
    assert (report.matched_count, report.matched_total, report.our_count) == (4, Decimal("826.10"), 4)
    assert report.ok


def test_orders_of_another_provider_are_not_compared(make_order):
    order = credit(make_order("alipay"), "2026051022001446881400000001", datetime(2026, 5, 10, 9, tzinfo=CHINA))

    report = reconcile("wechat", wechat_bill(("2026-05-10 09:00:00", order.provider_trade_no, order.number, "SUCCESS", "203.50")))

    assert report.differences == [Difference("missing_here", order.number, order.provider_trade_no, Decimal("203.50"), None)]


def test_an_alipay_detail_is_reconciled_over_the_dates_in_its_heading(estate, make_order):
    order = credit(make_order("alipay"), "2026051022001446881400000001", datetime(2026, 5, 10, 9, tzinfo=CHINA))
    late = credit(make_order("alipay", charges(estate)[1:2]), "2026051122001446881400000002",
                  datetime(2026, 5, 11, 0, 0, 0, tzinfo=CHINA))  # the first second of the next day: outside

    report = reconcile("alipay", alipay_detail(("2026-05-10 09:00:00", order.provider_trade_no, order.number, "交易", "203.50")))

    assert report.differences == []
    assert (report.matched_count, report.our_count) == (1, 1)
    assert late.status == "paid"


def test_a_statement_of_the_wrong_provider_is_refused():
    with pytest.raises(DomainError) as refused:
        reconcile("wechat", alipay_detail())

    assert refused.value.code == "statement"


def test_a_bad_sandbox_statement_is_refused_in_both_languages():
    with pytest.raises(DomainError) as refused:
        reconcile("sandbox", "order,amount\nPO1,1.00\n")

    assert (refused.value.zh, refused.value.code) == ("对账单无法读取：格式不对", "statement")


# ---- arrears reconcile --------------------------------------------------------------------------------


def test_the_command_prints_the_differences_and_exits_1(books, tmp_path):
    b = books["B"]
    path = tmp_path / "bill.csv"
    path.write_text(wechat_bill(("2026-05-10 09:30:00", "4200000002", b.number, "SUCCESS", "206.50")), encoding="utf-8")
    out = StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("reconcile", provider="wechat", file=str(path), stdout=out)

    assert exited.value.code == 1
    a, c, g = books["A"], books["C"], books["G"]
    assert out.getvalue().splitlines() == [
        "对账 wechat：2026-05-10 00:00 至 2026-05-11 00:00",
        "差异类型\t商户订单号\t渠道交易号\t渠道金额\t我方金额\t我方交易号",
        f"金额不符\t{b.number}\t4200000002\t206.50\t206.60\t4200000002",
        f"我方已入账，渠道无此成功交易\t{g.number}\t4200000007\t-\t206.60\t4200000007",
        f"我方已入账，渠道无此成功交易\t{a.number}\t4200000001\t-\t209.40\t4200000001",
        f"我方已入账，渠道无此成功交易\t{c.number}\t4200000003\t-\t203.50\t4200000003",
        "渠道成功 1 笔 206.50 元；我方已入账 4 笔 826.10 元；一致 0 笔 0.00 元；差异 4 项",
    ]


def test_the_command_exits_0_when_the_statement_agrees(estate, make_order, tmp_path):
    order = credit(make_order("alipay"), "2026051022001446881400000001", datetime(2026, 5, 10, 9, tzinfo=CHINA))
    path = tmp_path / "20881021773004500156_20260510_业务明细.csv"
    path.write_bytes(alipay_detail(("2026-05-10 09:00:00", order.provider_trade_no, order.number, "交易", "203.50"))
                     .encode("gbk"))  # as Alipay's zip holds it
    out = StringIO()

    call_command("reconcile", provider="alipay", file=str(path), stdout=out)

    assert out.getvalue().splitlines() == [
        "对账 alipay：2026-05-10 00:00 至 2026-05-11 00:00",
        "渠道成功 1 笔 203.50 元；我方已入账 1 笔 203.50 元；一致 1 笔 203.50 元；差异 0 项",
    ]


@pytest.mark.parametrize(("provider", "content", "message"), [
    ("wechat", None, "找不到对账单文件"),
    ("wechat", "交易时间,微信订单号\n", "对账单无法读取：不是微信支付交易账单：缺少列 交易状态、商户订单号 / cannot read the statement"),
    ("paypal", "", "未启用的支付方式：paypal / payment provider not enabled: paypal"),
])
def test_a_bad_file_is_a_clear_error(db, tmp_path, provider, content, message):
    path = tmp_path / "bill.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")

    with pytest.raises(CommandError) as failed:
        call_command("reconcile", provider=provider, file=str(path), stdout=StringIO())

    assert message in str(failed.value)
    assert failed.value.returncode == 2
