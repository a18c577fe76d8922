"""The statement on a phone: what is owed first, why the pay button asks less, charges by year; the
invalid-link page names the office to call; every owner page in one language."""

import re
from datetime import date
from decimal import Decimal as D

import pytest
from django.core.cache import cache
from django.urls import reverse

from arrears.core.money import ZERO
from arrears.estate.models import Company
from arrears.ledger import services
from arrears.ledger.selectors import ChargeLine
from arrears.notices.context import statement_token
from arrears.portal.models import PaymentOrder
from arrears.portal.providers import reset_cache
from arrears.portal.statements import Line, UnitAccount
from tests.portal.test_owner_pages import _open_ids

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _sandbox(settings):
    settings.PORTAL_PAYMENT_PROVIDERS = {"sandbox": {"BACKEND": "arrears.portal.providers.sandbox.SandboxProvider"}}
    reset_cache()
    cache.clear()
    yield
    reset_cache()


def token_of(estate) -> str:
    return statement_token(estate["owner"].pk, estate["unit"].pk, estate["owner"].link_generation)


def _line(year, month, *, days_overdue, outstanding="200.00", late_fee="0.00", disputed=False) -> Line:
    start = date(year, month, 1)
    charge = ChargeLine(charge_id=year * 100 + month, unit_id=1, owner_id=1, charge_type="物业费", period_start=start,
                        period_end=start.replace(day=28), due=start.replace(day=5), amount=D(outstanding), paid=ZERO,
                        waived=ZERO, outstanding=D(outstanding), late_fee=D(late_fee), late_fee_accrued=D(late_fee),
                        days_overdue=days_overdue)
    return Line(charge, disputed)


def test_charges_group_by_year_newest_open_and_the_gap_is_explained_to_the_fen():
    account = UnitAccount(unit=None, lines=[
        _line(2025, 11, days_overdue=180, late_fee="18.00"), _line(2025, 12, days_overdue=150, late_fee="15.00", disputed=True),
        _line(2026, 4, days_overdue=35, late_fee="3.50"), _line(2026, 6, days_overdue=-26),
    ])

    years = account.years
    assert [(group.year, group.open, len(group.lines), group.total) for group in years] == [
        (2026, True, 2, D("403.50")), (2025, False, 2, D("433.00"))]
    # total 218.00 + 215.00 + 203.50 + 200.00 = 836.50; ticked: Nov 2025 and Apr 2026 = 421.50
    assert (account.total, account.picked_total, account.unpicked_total) == (D("836.50"), D("421.50"), D("415.00"))
    assert [(part.reason, part.count, part.amount) for part in account.unpicked] == [
        ("not_due", 1, D("200.00")), ("disputed", 1, D("215.00"))]
    assert sum((part.amount for part in account.unpicked), ZERO) == account.total - account.picked_total


def _not_yet_due_and_disputed(client, estate) -> str:
    """June billed (due 06-05: not yet due, 200.00) and February disputed (209.40)."""
    services.bill(through=date(2026, 6, 1))
    token = token_of(estate)
    client.post(reverse("portal:complaint", args=[token]), {"unit": estate["unit"].pk, "charge": _open_ids(estate)[1],
                                                            "text": "二月份电梯停了三周"})
    return token


def test_the_page_says_why_the_pay_button_asks_less_than_the_total(client, estate):
    token = _not_yet_due_and_disputed(client, estate)

    page = client.get(reverse("portal:statement", args=[token]))

    body = page.content.decode()
    account = page.context["accounts"][0]
    # Jan 1.50 + Feb 209.40 + Mar 206.60 + Apr 203.50 + May 200.50 (5 days late) + Jun 200.00 = 1,021.50
    assert account.total == D("1021.50") and account.picked_total == D("612.10")
    why = re.search(r'data-testid="why">(.*?)</div>', body, re.S).group(1)
    assert "合计 ¥1,021.50" in why and "¥612.10" in why
    assert "尚未到期的费用 1 笔，共 ¥200.00" in why and "异议处理中的费用 1 笔，共 ¥209.40" in why
    bar = re.search(r'data-testid="paybar">(.*?)</button>', body, re.S).group(1)
    assert "¥1,021.50" in bar and 'data-role="gap-amount">¥409.40<' in bar and 'data-role="selected-total">¥612.10<' in bar
    assert 'class="paybar fixed"' in body and "has-bar" in body  # one account: the bar stays on screen
    assert re.search(r'<span class="date">2026-06-01</span>', body)  # dates never break inside
    assert body.count('data-testid="year"') == 1 and "<details class=\"year\" open" in body


def test_the_statement_is_wholly_english_under_en_but_for_names(client, estate, settings):
    token = _not_yet_due_and_disputed(client, estate)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    body = client.get(reverse("portal:statement", args=[token])).content.decode()

    text = re.sub(r"<script.*?</script>|<[^>]+>", " ", body, flags=re.S)
    names = ("王小明", "阳光花园", "3栋1单元1201", estate["unit"].community.company.name, "二月份电梯停了三周", "中文")
    for name in names:
        text = text.replace(name, "")
    assert not CJK.search(text), CJK.findall(text)[:20]
    assert "1 charge not yet due, ¥200.00" in text and "1 disputed charge, ¥209.40" in text and "Not ticked" in text


def test_a_revoked_link_names_its_communitys_office_and_says_nothing_of_the_debt(client, estate):
    community = estate["unit"].community
    community.service_centre, community.service_hours = "5栋架空层物业服务中心", "每天 8:30–18:00"
    community.save(update_fields=["service_centre", "service_hours"])
    Company.objects.filter(pk=community.company_id).update(phone="0571-88881234")
    token = token_of(estate)
    type(estate["owner"]).objects.filter(pk=estate["owner"].pk).update(link_generation=1)  # revoked

    page = client.get(reverse("portal:statement", args=[token]))

    body = page.content.decode()
    assert page.status_code == 404
    for expected in ("链接无效或已过期", "0571-88881234", "5栋架空层物业服务中心", "每天 8:30–18:00", community.name):
        assert expected in body, expected
    for secret in ("王小明", "1201", "¥", "欠费"):
        assert secret not in body, secret
    assert "This statement link" not in body  # one language


def test_an_unknown_link_gives_the_only_companys_phone_or_says_honestly_it_cannot_tell(client, estate, settings):
    Company.objects.update(phone="0571-88881234")

    single = client.get(reverse("portal:statement", args=["not-a-link"])).content.decode()
    assert "0571-88881234" in single

    Company.objects.create(name="另一家物业公司", phone="021-55556666")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    several = client.get(reverse("portal:statement", args=["not-a-link"])).content.decode()
    assert "0571-88881234" not in several and "021-55556666" not in several
    assert "We cannot tell your community from this link" in several
    text = re.sub(r"<[^>]+>", " ", several).replace("中文", "")
    assert not CJK.search(text), CJK.findall(text)


def _visible_text(body: str) -> str:
    return re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", body, flags=re.S)


def test_the_pay_sandbox_order_and_too_many_requests_pages_are_wholly_english_under_en(client, estate, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    token = token_of(estate)
    names = ("王小明", "阳光花园", "3栋1单元1201", estate["unit"].community.company.name, "中文")

    def english(body: str) -> str:
        text = _visible_text(body)
        for name in names:
            text = text.replace(name, "")
        assert not CJK.search(text), CJK.findall(text)[:20]
        return text

    to_sandbox = client.post(reverse("portal:pay", args=[token]), {"unit": estate["unit"].pk, "charge": _open_ids(estate),
                                                                    "provider": "sandbox"})
    english(client.get(to_sandbox.url).content.decode())
    client.post(to_sandbox.url, {"action": "pay"})
    order = PaymentOrder.objects.get()
    assert order.status == "paid"
    text = english(client.get(reverse("portal:order", args=[token, order.number])).content.decode())
    assert "SJ2026-000001" in text

    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "page": (0, 60)}
    limited = client.get(reverse("portal:statement", args=[token]))
    assert limited.status_code == 429
    assert "try again" in english(limited.content.decode())
