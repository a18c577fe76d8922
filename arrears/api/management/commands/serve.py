import os
import shutil
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from arrears.api.server import gunicorn_argv


class Command(BaseCommand):
    help = ("生产环境的网站进程（gunicorn）/ Serve the site with gunicorn in production. "
            "`serve [--bind 127.0.0.1:8000] [--workers N] [--timeout S]`; put nginx (deploy/) in front of it.")

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=settings.ARREARS_BIND,
                            help="监听地址 / address to listen on (default 127.0.0.1:8000, or ARREARS_BIND)")
        parser.add_argument("--workers", type=int, default=None,
                            help="工作进程数 / worker processes (default 2 × CPU cores + 1, at most 9)")
        parser.add_argument("--timeout", type=int, default=60, help="请求超时秒数 / seconds before a stuck worker is restarted")

    def handle(self, *args, bind, workers, timeout, **options):
        if workers is not None and workers < 1:
            raise CommandError("工作进程数至少为 1 / --workers must be at least 1")
        if timeout < 1:
            raise CommandError("超时至少 1 秒 / --timeout must be at least 1")
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which("gunicorn")
        if gunicorn is None:
            raise CommandError("未安装 gunicorn / gunicorn is not installed (pip install gunicorn)")
        argv = gunicorn_argv(bind=bind, workers=workers, timeout=timeout,
                             forwarded_allow_ips=settings.ARREARS_FORWARDED_ALLOW_IPS)
        self.stdout.write(" ".join(argv))
        self.stdout.flush()
        os.execv(gunicorn, argv)  # the service manager (systemd) supervises gunicorn itself from here
