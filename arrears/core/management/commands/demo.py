import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings
from django.utils import timezone

from arrears.collection.models import CollectorAssignment
from arrears.collection.run import run_collection
from arrears.estate.models import Community, Company, StaffScope
from arrears.notices.outbox import dispatch
from arrears.portal.demo import demo_providers, ensure_fee_compositions, sample_link

DEMO_PASSWORD = "demo-pass-2026"
DEMO_USERS = [
    # username, role, superuser
    ("admin", "admin", True),
    ("manager", "manager", False),
    ("collector", "collector", False),
    ("finance", "finance", False),
    ("frontdesk", "front_desk", False),
    ("legal", "legal", False),
]


def ensure_demo_users() -> list[tuple[str, str]]:
    """Demo logins, one per role, scoped to every community (the collector to one building)."""
    User = get_user_model()
    communities = list(Community.objects.order_by("pk"))
    made = []
    for username, role, superuser in DEMO_USERS:
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True, "is_superuser": superuser})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get(name=role))
        for community in communities:
            if role == "collector":
                building = community.buildings.order_by("name").first()
                StaffScope.objects.get_or_create(user=user, community=community, building=building)
                CollectorAssignment.objects.get_or_create(community=community, building=building, user=user)
            else:
                StaffScope.objects.get_or_create(user=user, community=community, building=None)
        made.append((username, role))
    return made


class Command(BaseCommand):
    help = "演示：迁移数据库、生成演示数据（首次）、创建演示账号并启动员工站点 / Bring the demo up."

    def add_arguments(self, parser):
        parser.add_argument("--units", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="set up only, do not start the server")

    def handle(self, *args, units, seed, addrport, no_serve, **options):
        # The demo logs in with a public password (a superuser among them) and serves the sandbox, which
        # settles debts without money, whatever DEBUG says: never over a deployment's database.
        if os.environ.get("SECRET_KEY") or getattr(settings, "ARREARS_HTTPS", False):
            raise CommandError(
                "这是部署环境（环境变量中设置了 SECRET_KEY 或开启了 ARREARS_HTTPS）：演示会创建公开密码的账号并启用模拟支付，"
                "不能在此运行 / this is a deployment (SECRET_KEY in the environment or ARREARS_HTTPS on): the demo "
                "makes logins with a public password and turns the sandbox payment on, so it does not run here"
            )
        call_command("migrate", verbosity=0)
        if not Company.objects.exists():
            self.stdout.write("生成演示数据（约一分钟）/ building demo data (about a minute)…")
            call_command("demo-data", units=units, seed=seed)
        call_command("collectstatic", interactive=False, verbosity=0)
        users = ensure_demo_users()
        ensure_fee_compositions(published_on=timezone.localdate().replace(month=1, day=1))
        run_collection(as_of=timezone.localdate())  # the day's run: idempotent, gives the collector their cases
        # Send what is due now into files (not the terminal), so the outbox page shows sent messages.
        with override_settings(NOTICES_CHANNELS={"sms": {"BACKEND": "arrears.notices.channels.file.FileBackend",
                                                         "directory": str(settings.DATA_DIR / "outbox")}}):
            sent = dispatch(limit=300)
        self.stdout.write(f"已处理待发短信 / outbox: {dict(sent)}（写入 / written to {settings.DATA_DIR / 'outbox'}）")
        self.stdout.write("")
        self.stdout.write(f"员工站点 / staff site: http://{addrport}/")
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）/ demo logins (password {DEMO_PASSWORD}):")
        for username, role in users:
            self.stdout.write(f"  {username:<10} {role}")
        link = sample_link()
        if link:
            self.stdout.write(f"业主账单链接示例（手机打开，可用模拟支付缴费）/ an owner's statement link (sandbox payment): {link}")
        self.stdout.write("模拟支付不会转移任何真实款项 / the sandbox moves no money")
        self.stdout.write(f"数据目录 / data folder: {settings.DATA_DIR}")
        if not no_serve:
            # The demo names the sandbox itself: outside DEBUG it is never a default (arrears.E002).
            with override_settings(PORTAL_PAYMENT_PROVIDERS=demo_providers()):
                call_command("runserver", addrport, use_reloader=False, insecure_serving=True)
