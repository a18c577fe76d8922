from datetime import date

from django.core.management.base import BaseCommand, CommandError

from arrears.core.text import normalise_key
from arrears.estate.models import Community
from arrears.ledger import exports


class Command(BaseCommand):
    help = "导出收费台账 / Export the ledger: `export ledger FILE.xlsx [--community NAME] [--from D] [--to D]`."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["ledger"])
        parser.add_argument("file", help="FILE.xlsx")
        parser.add_argument("--community", help="小区名称 / community name")
        parser.add_argument("--from", dest="date_from", help="YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", help="YYYY-MM-DD")

    def handle(self, *args, kind, file, community=None, date_from=None, date_to=None, **options):
        try:
            start = date.fromisoformat(date_from) if date_from else None
            end = date.fromisoformat(date_to) if date_to else None
        except ValueError as exc:
            raise CommandError("日期格式应为 YYYY-MM-DD / dates must be YYYY-MM-DD") from exc
        community_ids = None
        if community:
            community_ids = list(Community.objects.filter(name=normalise_key(community)).values_list("pk", flat=True))
            if not community_ids:
                raise CommandError(f"没有名为 {community} 的小区 / no community named {community!r}")
        exports.write_ledger_xlsx(file, community_ids=community_ids, date_from=start, date_to=end)
        self.stdout.write(f"已写入 / written: {file}")
