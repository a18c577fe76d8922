"""The demo never runs over a deployment: both demo commands ask here first."""

import os

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.translation import gettext


def refuse_on_deployment() -> None:
    """The demo makes logins with a public password (a superuser among them) and serves the sandbox, which
    settles debts without money, whatever DEBUG says: never over a deployment's database."""
    if os.environ.get("SECRET_KEY") or getattr(settings, "ARREARS_HTTPS", False):
        raise CommandError(gettext(
            "这是部署环境（环境变量中设置了 SECRET_KEY 或开启了 ARREARS_HTTPS）：演示会创建公开密码的账号并启用模拟支付，"
            "不能在此运行"))
