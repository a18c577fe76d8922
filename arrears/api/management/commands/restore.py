from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from arrears.api.backup import restore
from arrears.core.errors import DomainError


class Command(BaseCommand):
    help = ("从备份恢复到新建的空数据库 / Restore a backup into a new, empty database (and MEDIA_ROOT). "
            "`restore ARCHIVE [--check]`: every checksum is verified first; --check verifies only.")

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument("--check", action="store_true", help="只校验不恢复 / verify the archive, restore nothing")

    def handle(self, *args, archive, check, **options):
        try:
            done = restore(Path(archive), check_only=check)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        except Exception as exc:
            raise CommandError(f"恢复失败 / restore failed: {getattr(exc, 'stderr', b'') or exc}") from exc
        verb = "校验通过 / verified" if check else "已恢复 / restored"
        self.stdout.write(f"{verb}: {done.vendor}, {done.taken_at}, {done.files} files")
