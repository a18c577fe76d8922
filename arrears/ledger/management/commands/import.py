from django.core.management.base import BaseCommand, CommandError

from arrears.ledger import importers


class Command(BaseCommand):
    help = (
        "导入 Excel（先校验整个文件，有错则一行也不写入）/ "
        "Import a workbook: the whole file is validated first; any bad row means nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="FILE.xlsx")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入 / validate only")
        parser.add_argument("--company", help="物业公司名称 / company name (default: the only company, or 物业公司)")

    def handle(self, *args, file, dry_run=False, company=None, **options):
        report = importers.run_import(file, dry_run=dry_run, company_name=company)
        for error in report.errors:
            self.stderr.write(str(error))
        counts = "，".join(f"{kind} {number}" for kind, number in report.counts.items())
        if not report.ok:
            raise CommandError(f"{len(report.errors)} 处错误，未写入任何数据 / {len(report.errors)} errors, nothing written")
        if dry_run:
            self.stdout.write(f"校验通过（未写入）/ valid, nothing written (dry run): {counts}")
        else:
            self.stdout.write(f"导入完成 / imported: {counts}")
