from django.core.management.base import BaseCommand

from arrears.ledger import importers


class Command(BaseCommand):
    help = "写出导入模板（含示例行和说明）/ Write the import template with example rows and notes."

    def add_arguments(self, parser):
        parser.add_argument("file", help="FILE.xlsx")

    def handle(self, *args, file, **options):
        importers.write_template(file)
        self.stdout.write(f"已写入模板 / template written: {file}")
