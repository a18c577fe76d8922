import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from arrears.core.text import normalise_key
from arrears.estate.models import Community
from arrears.insights.kpis import EARLIEST
from arrears.ledger import selectors


class Command(BaseCommand):
    help = (
        "报表 / Reports. `report statement --date YYYY-MM-DD --format json|xlsx [--community NAME] [--output FILE]`; "
        "`report cases --date YYYY-MM-DD --format json [--community NAME]`; "
        "`report limitation --date YYYY-MM-DD --format json [--community NAME]` (时效 90 天内到期 / limitation "
        "deadlines within 90 days); "
        "`report kpis --date YYYY-MM-DD --format json|xlsx [--community NAME] [--by community|building|collector]` "
        "(经营指标 / KPIs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["statement", "cases", "limitation", "kpis"])
        parser.add_argument("--date", required=True, help="YYYY-MM-DD")
        parser.add_argument("--format", choices=["json", "xlsx"], default="json")
        parser.add_argument("--community", help="小区名称 / community name")
        parser.add_argument("--output", help="xlsx 输出文件 / xlsx output file (default KIND-DATE.xlsx)")
        parser.add_argument("--by", choices=["community", "building", "collector"],
                            help="kpis：按小区、楼栋或催收员分行 / kpis: one row per community, building or collector")

    def handle(self, *args, kind, date: str, format: str, community=None, output=None, by=None, **options):
        try:
            as_of = _parse_date(date)
        except ValueError as exc:
            raise CommandError(f"日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD: {date!r}") from exc
        if as_of < EARLIEST:
            raise CommandError(f"日期不能早于 {EARLIEST} / the date cannot be before {EARLIEST}")
        community_ids = None
        if community:
            community_ids = list(Community.objects.filter(name=normalise_key(community)).values_list("pk", flat=True))
            if not community_ids:
                raise CommandError(f"没有名为 {community} 的小区 / no community named {community!r}")
        if by and kind != "kpis":
            raise CommandError("--by 只用于 kpis / --by is for the kpis report only")
        if kind == "kpis":
            from arrears.insights.reports import kpi_report, write_kpi_xlsx

            report = kpi_report(as_of, community_ids=community_ids, by=by)
            if format == "json":
                self.stdout.write(json.dumps(report, ensure_ascii=False, indent=1))
                return
            path = output or f"kpis-{as_of.isoformat()}.xlsx"
            write_kpi_xlsx(report, path)
            self.stdout.write(f"已写入 / written: {path}")
            return
        if kind == "limitation":
            if format != "json":
                raise CommandError("时效报表只支持 json / the limitation report is json only")
            from arrears.collection.reports import limitation_report

            self.stdout.write(json.dumps(limitation_report(as_of, community_ids=community_ids), ensure_ascii=False, indent=1))
            return
        if kind == "cases":
            if format != "json":
                raise CommandError("案件报表只支持 json / the cases report is json only")
            from arrears.collection.reports import case_rows

            self.stdout.write(json.dumps(case_rows(as_of, community_ids=community_ids), ensure_ascii=False, indent=1))
            return
        statements = selectors.statement(as_of, community_ids=community_ids)
        if format == "json":
            self.stdout.write(json.dumps(selectors.statement_as_dicts(statements), ensure_ascii=False, indent=1))
            return
        from arrears.ledger import exports

        path = output or f"statement-{as_of.isoformat()}.xlsx"
        exports.write_statement_xlsx(statements, as_of, path)
        self.stdout.write(f"已写入 / written: {path}")


def _parse_date(text: str):
    return date.fromisoformat(text.strip())
