import os
import tempfile

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from arrears.core.errors import DomainError
from arrears.legal import evidence_pack


class Command(BaseCommand):
    help = (
        "证据包 / Court evidence pack. `evidence-pack --case N --date YYYY-MM-DD --output FILE.zip`: one ZIP of "
        "the case's evidence as of the date (index PDF, contract, ownership, statement, letters, contact log with "
        "recordings, promises and plans, payments, complaints, limitation proofs, manifest of SHA-256)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--case", required=True, help="催收案件编号 / collection case number")
        parser.add_argument("--date", required=True, help="证据截至日期 / evidence as of, YYYY-MM-DD")
        parser.add_argument("--output", required=True, help="输出 ZIP 文件 / output ZIP file")

    def handle(self, *args, case, date, output, **options):
        try:
            as_of = evidence_pack.parse_date(date, today=timezone.localdate())
            found = evidence_pack.find_case(case)
            pack = evidence_pack.build(found, as_of)
        except DomainError as error:
            raise CommandError(f"{error.message}") from error
        for warning in pack.warnings:
            self.stderr.write(self.style.WARNING(f"注意 / warning: {warning.message}"))
        folder = os.path.dirname(os.path.abspath(output))
        if not os.path.isdir(folder):
            raise CommandError(f"输出目录不存在：{folder} / the output folder does not exist: {folder}")
        # Written beside the target and renamed into place: a failure leaves no half-written pack.
        handle, temporary = tempfile.mkstemp(prefix=".evidence-pack-", suffix=".zip", dir=folder)
        try:
            with os.fdopen(handle, "wb") as file:
                evidence_pack.write(pack, file)
            os.replace(temporary, output)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        self.stdout.write(f"已写入 / written: {output}（{len(pack.names)} 个文件 / files）")
