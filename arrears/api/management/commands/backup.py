from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from arrears.api.backup import backup


class Command(BaseCommand):
    help = ("备份数据库与全部上传文件（证据）到一个归档 / Back up the database and every uploaded file into one archive. "
            "`backup [--output DIR]` (default DATA_DIR/backups); PostgreSQL via pg_dump, SQLite via its online backup.")

    def add_arguments(self, parser):
        parser.add_argument("--output", help="输出目录 / folder to write into (default DATA_DIR/backups)")

    def handle(self, *args, output=None, **options):
        folder = Path(output) if output else Path(settings.DATA_DIR) / "backups"
        try:
            archive = backup(folder)
        except FileNotFoundError as exc:
            raise CommandError(f"缺少工具 / missing tool: {exc.filename} (apt-get install postgresql-client)") from exc
        except Exception as exc:  # pg_dump's own message says why
            raise CommandError(f"备份失败 / backup failed: {getattr(exc, 'stderr', b'') or exc}") from exc
        self.stdout.write(str(archive))
