"""Payment providers, chosen by settings in the manner of Django's email backends.

`PORTAL_PAYMENT_PROVIDERS` maps a provider code (sandbox, wechat, alipay) to its backend class
path and options; only the codes listed there are offered to owners.
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from arrears.core.errors import DomainError
from arrears.portal.providers.base import PaymentProvider


@cache
def _build(code: str, backend: str, options: tuple) -> PaymentProvider:
    return import_string(backend)(code=code, **dict(options))


def get_provider(code: str) -> PaymentProvider:
    config = settings.PORTAL_PAYMENT_PROVIDERS.get(code)
    if config is None:
        raise DomainError(f"未启用的支付方式：{code}", f"payment provider not enabled: {code}", code="provider")
    options = {k: v for k, v in config.items() if k != "BACKEND"}
    return _build(code, config["BACKEND"], tuple(sorted(options.items())))


def enabled_providers() -> list[PaymentProvider]:
    return [get_provider(code) for code in settings.PORTAL_PAYMENT_PROVIDERS]


def reset_cache() -> None:
    """Tests change settings between cases: forget providers built from earlier settings."""
    _build.cache_clear()
