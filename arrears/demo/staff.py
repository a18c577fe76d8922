"""The demo company's staff: one login per role, and named collectors covering every building.

Staff carry real Chinese names (User.last_name/first_name: 姓/名) so that scripts and pages
can greet an owner as a person would. The `collector` login works the first building of each
community, so its day stays small; the other collectors share the remaining buildings, so
every case the daily run opens has a collector.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from arrears.collection.models import CollectorAssignment
from arrears.core import roles
from arrears.core.models import StaffProfile
from arrears.estate.models import Community, StaffScope

DEMO_PASSWORD = "demo-pass-2026"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    last_name: str  # 姓
    first_name: str  # 名
    try_first: str  # what to try first with this login, for the printed table
    superuser: bool = False


TITLES = {roles.COLLECTOR: "管家", roles.MANAGER: "项目经理", roles.LEGAL: "法务专员",  # data, as the names are
          roles.FRONT_DESK: "前台", roles.FINANCE: "出纳", roles.ADMIN: "系统管理员"}
EXTENSIONS = {"collector": "8201", "collector2": "8202", "collector3": "8203", "collector4": "8204", "collector5": "8205",
              "manager": "8101", "legal": "8301", "frontdesk": "8001", "finance": "8401", "admin": "8501"}

# One login per role, in the order the table prints them.
LOGINS = (
    DemoLogin("manager", roles.MANAGER, "王", "丽华", _("给楼栋分配催收员，看欠费清单")),
    DemoLogin("collector", roles.COLLECTOR, "李", "明", _("工作台：今天要打的电话，记录结果和承诺")),
    DemoLogin("legal", roles.LEGAL, "孙", "浩然", _("首页的时效看板；法务案件：登记节点、生成起诉状、下载证据包")),
    DemoLogin("frontdesk", roles.FRONT_DESK, "刘", "芳", _("房屋查询：输入“10栋2504”，记录已提醒")),
    DemoLogin("finance", roles.FINANCE, "陈", "静", _("收银：在房屋页收一笔缴费并打印收据")),
    DemoLogin("admin", roles.ADMIN, "周", "建国", _("后台：账号、权限与全部数据"), superuser=True),
)
# The collectors who share the rest of the buildings: per community (in id order), its collectors.
COLLECTORS = (
    (DemoLogin("collector2", roles.COLLECTOR, "赵", "磊", _("工作台：本人负责楼栋的案件")),
     DemoLogin("collector3", roles.COLLECTOR, "吴", "婷", _("工作台：本人负责楼栋的案件"))),
    (DemoLogin("collector4", roles.COLLECTOR, "郑", "强", _("工作台：本人负责楼栋的案件")),
     DemoLogin("collector5", roles.COLLECTOR, "黄", "雪梅", _("工作台：本人负责楼栋的案件"))),
)


def full_name(login: DemoLogin) -> str:
    """Chinese order: 姓 then 名, no space."""
    return f"{login.last_name}{login.first_name}"


def split(items: list, parts: int) -> list[list]:
    """`items` in `parts` contiguous runs as even as can be (the first runs take the remainder)."""
    size, extra = divmod(len(items), parts)
    runs, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        runs.append(items[start:end])
        start = end
    return runs


def _user(login: DemoLogin):
    """The login's user, made once with the demo password; its name is kept up to date."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=login.username, defaults={"is_staff": True, "is_superuser": login.superuser},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
    if created or (user.last_name, user.first_name) != (login.last_name, login.first_name):
        user.last_name, user.first_name = login.last_name, login.first_name
        user.save()
    user.groups.add(Group.objects.get(name=login.role))
    # scripts and letters give owners a name and a number to call back, never a login
    StaffProfile.objects.get_or_create(user=user, defaults={"title": TITLES.get(login.role, ""),
                                                            "extension": EXTENSIONS.get(login.username, "")})
    return user


def _works(user, community, buildings) -> None:
    for building in buildings:
        StaffScope.objects.get_or_create(user=user, community=community, building=building)
        CollectorAssignment.objects.get_or_create(community=community, building=building, user=user)


@transaction.atomic
def ensure_demo_staff() -> list[DemoLogin]:
    """Make the demo's staff (idempotent); returns the logins that work, in the order to print them.

    Every role but the collector sees every community; `collector` works building one of each
    community; collector2…5 share the other buildings, so every building has a collector.
    """
    communities = list(Community.objects.order_by("pk"))
    made = []
    for login in LOGINS:
        user = _user(login)
        for community in communities:
            if login.role == roles.COLLECTOR:
                _works(user, community, community.buildings.order_by("pk")[:1])
            else:
                StaffScope.objects.get_or_create(user=user, community=community, building=None)
        made.append(login)
    for community, team in zip(communities, COLLECTORS, strict=False):
        rest = list(community.buildings.order_by("pk")[1:])
        for login, buildings in zip(team, split(rest, len(team)), strict=True):
            if buildings:
                _works(_user(login), community, buildings)
                made.append(login)
    return made
