from django.core.management.base import BaseCommand, CommandError

from arrears.ledger import rules, services


class Command(BaseCommand):
    help = "按收费标准生成截至指定月份的全部应收（可重复运行）/ Bill every charge due by the tariffs up to a month (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--through", required=True, help="YYYY-MM")
        parser.add_argument("--since", help="YYYY-MM: only periods starting in or after this month (default: each tariff's start)")

    def handle(self, *args, through, since=None, **options):
        try:
            through_month = rules.parse_month(through)
            since_month = rules.parse_month(since) if since else None
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        result = services.bill(through=through_month, since=since_month)
        self.stdout.write(
            f"新增应收 {result.charges_created} 笔，合计 ¥{result.amount_billed:.2f}；预存冲抵 {result.allocations_made} 笔 / "
            f"{result.charges_created} charges, ¥{result.amount_billed:.2f}; {result.allocations_made} credit allocations"
        )
