"""Deployment checks of our own: `arrears check --deploy` fails where a default is unsafe in production."""

import os

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def secret_key_from_the_environment(app_configs, **kwargs):
    """The generated key lives in the data folder: fine for a demo, not for a deployment.

    A key read from a file can be copied with the folder, or committed with it (as one once was);
    production sets SECRET_KEY in its environment, kept with its other secrets.
    """
    if os.environ.get("SECRET_KEY"):
        return []
    return [Error(
        "SECRET_KEY is not set in the environment: the key generated into the data folder is for the embedded "
        "default only / 未在环境变量中设置 SECRET_KEY：数据目录中自动生成的密钥只适合演示和单机使用",
        hint="Set SECRET_KEY to a new random value of 50+ characters; never reuse a key that was ever in the repository.",
        id="arrears.E001",
    )]


@register(Tags.security, deploy=True)
def no_sandbox_payments_in_production(app_configs, **kwargs):
    """The sandbox credits the ledger, issues a receipt and closes the case, and no money moves.

    With DEBUG on it is the demo's cashier; anywhere else one POST to its pay page would settle a real debt.
    """
    if settings.DEBUG or "sandbox" not in getattr(settings, "PORTAL_PAYMENT_PROVIDERS", {}):
        return []
    return [Error(
        "The sandbox payment provider is enabled with DEBUG off: an owner could settle a real debt without paying "
        "/ DEBUG 关闭时启用了模拟支付：业主无需付款即可冲抵真实欠费",
        hint="Remove sandbox from ARREARS_PAYMENT_PROVIDERS (e.g. ARREARS_PAYMENT_PROVIDERS=wechat,alipay, or empty "
             "for payment at the office and by bank transfer only).",
        id="arrears.E002",
    )]
