"""`arrears reconcile --provider wechat --file bill.csv`: the differences between a provider's
statement and our orders, as a table; exit status 1 when there are any (for cron and scripts),
2 when the file cannot be read."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from arrears.core.errors import DomainError
from arrears.portal.reconcile import reconcile


def _decode(data: bytes) -> str:
    """WeChat's bills are UTF-8; Alipay's 业务明细 comes as GBK (GB18030 is its superset)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _money(value) -> str:
    return "-" if value is None else f"{value:.2f}"


class Command(BaseCommand):
    help = "对账：比较支付渠道的对账单与本系统的支付订单 / reconcile a provider statement with our payment orders"

    def add_arguments(self, parser):
        parser.add_argument("--provider", required=True, help="wechat, alipay or sandbox")
        parser.add_argument("--file", required=True, help="the statement downloaded from the merchant platform")

    def handle(self, *args, provider, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到对账单文件 {file} / statement file not found: {file}", returncode=2)
        try:
            report = reconcile(provider, _decode(path.read_bytes()))
        except (DomainError, UnicodeDecodeError) as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if report.span:
            start, end = (timezone.localtime(moment) for moment in report.span)
            span = f"{start:%Y-%m-%d %H:%M} 至 {end:%Y-%m-%d %H:%M}"
        else:
            span = "（对账单未给出时间范围，不检查我方多出的订单）"
        self.stdout.write(f"对账 {provider}：{span}")
        if report.differences:
            self.stdout.write("差异类型\t商户订单号\t渠道交易号\t渠道金额\t我方金额\t我方交易号")
            for diff in report.differences:
                self.stdout.write("\t".join([diff.label, diff.order_number, diff.trade_no or "-", _money(diff.provider_amount),
                                             _money(diff.our_amount), diff.our_trade_no or "-"]))
        self.stdout.write(
            f"渠道成功 {report.provider_count} 笔 {report.provider_total:.2f} 元；"
            f"我方已入账 {report.our_count} 笔 {report.our_total:.2f} 元；"
            f"一致 {report.matched_count} 笔 {report.matched_total:.2f} 元；差异 {len(report.differences)} 项"
        )
        if report.differences:
            raise SystemExit(1)
