import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.translation import gettext

from arrears.collection.models import MessageStatus, OutgoingMessage
from arrears.demo.banner import login_table, public_url
from arrears.demo.deployment import refuse_on_deployment
from arrears.demo.portal import demo_providers, ensure_fee_compositions, sample_link
from arrears.demo.schedule import Scheduler
from arrears.demo.staff import ensure_demo_staff
from arrears.estate.models import Company


def file_channels() -> dict:
    """Every channel writes files into the data folder: the demo texts nobody, and prints nothing per message."""
    file = {"BACKEND": "arrears.notices.channels.file.FileBackend", "directory": str(settings.DATA_DIR / "outbox")}
    return {channel: dict(file) for channel in ("sms", "wechat", "email")}


class Command(BaseCommand):
    help = "演示：迁移数据库、生成演示数据（首次）、创建演示账号并启动员工站点 / Bring the demo up."

    def add_arguments(self, parser):
        parser.add_argument("--units", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="set up only, do not start the server")

    def handle(self, *args, units, seed, addrport, no_serve, **options):
        refuse_on_deployment()
        call_command("migrate", verbosity=0)
        if not Company.objects.exists():
            self.stdout.write(gettext("生成演示数据并训练逾期风险模型（约一两分钟）…"))
            call_command("demo-data", units=units, seed=seed, stdout=self.stdout)
        call_command("collectstatic", interactive=False, verbosity=0)
        # Links in messages and on this screen point where the demo serves (unless set in the environment).
        url = os.environ.get("ARREARS_PUBLIC_URL") or public_url(addrport)
        with override_settings(ARREARS_PUBLIC_URL=url, NOTICES_CHANNELS=file_channels()):
            logins = ensure_demo_staff()
            ensure_fee_compositions(published_on=timezone.localdate().replace(month=1, day=1))
            scheduler = Scheduler()
            scheduler.tick()  # today's run (idempotent: gives every case its collector) and everything due sent
            self._banner(url, logins, scheduler)
            if no_serve:
                return
            self.stdout.write(gettext("后台每分钟发送待发消息，每天 6:00 执行每日催收运行；按 Ctrl-C 停止。"))
            scheduler.start()
            try:
                # The demo names the sandbox itself: outside DEBUG it is never a default (arrears.E002).
                with override_settings(PORTAL_PAYMENT_PROVIDERS=demo_providers()):
                    call_command("runserver", addrport, use_reloader=False, insecure_serving=True)
            finally:
                scheduler.stop()

    def _banner(self, url, logins, scheduler) -> None:
        write = self.stdout.write
        outbox = settings.DATA_DIR / "outbox"
        write(gettext("已发送待发消息 %(sent)s 条，写入 %(folder)s") % {"sent": scheduler.sent["sent"], "folder": outbox})
        waiting = OutgoingMessage.objects.filter(status=MessageStatus.QUEUED).count()
        if waiting:  # not yet due (the guard's sending hours): the scheduler sends them when they are
            write(gettext("另有 %(waiting)s 条待到允许发送的时段，届时自动发送") % {"waiting": waiting})
        write("")
        write(gettext("员工站点：%(url)s") % {"url": f"{url}/"})
        write(gettext("演示账号："))
        for line in login_table(logins):
            write(line)
        link = sample_link()
        if link:
            write(gettext("业主账单链接示例（手机打开，可用模拟支付缴费）：%(link)s") % {"link": link})
        write(gettext("模拟支付不会转移任何真实款项"))
        write(gettext("数据目录：%(folder)s") % {"folder": settings.DATA_DIR})
