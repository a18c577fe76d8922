"""WeChat Pay and Alipay configured with keys made for the session; orders over the staff tests'
estate (王小明, 3栋1单元1201, frozen on 2026-05-10). Nothing here can reach a real provider: the
WeChat gateway is a closed local port unless a test starts the fake."""

import pytest
from django.core.cache import cache

from arrears.ledger.models import Charge, Payment
from arrears.portal import payments
from arrears.portal.models import Receipt
from arrears.portal.providers import reset_cache
from tests.portal import keys
from tests.portal.fake_wechat import FakeWeChatPay
from tests.staff import conftest as staff

estate, today, insider = staff.estate, staff.today, staff.insider  # the staff tests' fixtures, shared
NOWHERE = "http://127.0.0.1:9"  # discard port: connection refused at once


@pytest.fixture(scope="session")
def provider_keys():
    return keys.Keys(*(keys.new_key() for _ in range(5)))


@pytest.fixture(scope="session")
def key_files(provider_keys, tmp_path_factory):
    return provider_keys.write(tmp_path_factory.mktemp("keys"))


def provider_settings(key_files, *, wechat_gateway=NOWHERE) -> dict:
    return {
        "sandbox": {"BACKEND": "arrears.portal.providers.sandbox.SandboxProvider"},
        "wechat": {
            "BACKEND": "arrears.portal.providers.wechat.WeChatPayProvider", "mchid": keys.MCHID,
            "appid": keys.WECHAT_APPID, "private_key_file": key_files["wechat_private"],
            "cert_serial_no": keys.CERT_SERIAL_NO, "apiv3_key": keys.APIV3_KEY,
            "public_key_file": key_files["wechat_public"], "public_key_id": keys.PUBLIC_KEY_ID,
            "gateway": wechat_gateway,
        },
        "alipay": {
            "BACKEND": "arrears.portal.providers.alipay.AlipayProvider", "appid": keys.ALIPAY_APPID,
            "app_private_key_file": key_files["alipay_private"], "alipay_public_key_file": key_files["alipay_public"],
            "gateway": "https://openapi-sandbox.dl.alipaydev.com/gateway.do",
        },
    }


@pytest.fixture(autouse=True)
def providers(settings, key_files):
    settings.PORTAL_PAYMENT_PROVIDERS = provider_settings(key_files)
    reset_cache()
    cache.clear()  # the notify rate limit counts per address across tests
    yield settings
    reset_cache()


@pytest.fixture
def fake_wechat(providers, provider_keys, key_files):
    fake = FakeWeChatPay(merchant_public_key=provider_keys.merchant.public_key(),
                         platform_key=provider_keys.platform).start()
    providers.PORTAL_PAYMENT_PROVIDERS = provider_settings(key_files, wechat_gateway=fake.url)
    reset_cache()
    yield fake
    fake.stop()


def charges(estate):
    """王小明's monthly charges on 1201, oldest first: January's is paid (but for its late fee),
    February's (209.40 with its late fee today), March's (206.60) and April's (203.50) are open."""
    return list(Charge.objects.filter(unit=estate["unit"], owner=estate["owner"]).order_by("due_date").values_list("pk", flat=True))


@pytest.fixture
def make_order(estate):
    def make(provider_code, charge_ids=None):
        return payments.create_order(owner=estate["owner"], unit=estate["unit"],
                                     charge_ids=charge_ids or charges(estate)[-1:], provider_code=provider_code)

    return make


def ledger_state(order) -> dict:
    """What a notification may change: compared before and after a refusal."""
    order.refresh_from_db()
    return {"payments": Payment.objects.count(), "receipts": Receipt.objects.count(), "status": order.status,
            "trade_no": order.provider_trade_no, "payment": order.payment_id, "paid_at": order.paid_at}
