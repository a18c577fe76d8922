"""The 优惠活动 page: a manager of a whole community lists, opens and ends its programmes."""

from datetime import date

import pytest
from django.urls import reverse

from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.ledger import incentives
from arrears.ledger.models import IncentiveProgramme
from tests import factories

URL = "/staff/incentives/"


@pytest.fixture
def manager(estate):
    user = factories.user("boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


@pytest.fixture
def building_manager(estate):
    user = factories.user("floor", groups=[roles.MANAGER])
    StaffScope.objects.create(user=user, community=estate["community"], building=estate["other_unit"].building)
    return user


def form(estate, **extra):
    values = {"community": estate["community"].pk, "kind": "early_payment", "name": "提前缴费九五折",
              "valid_from": "2026-06-01", "days": "10", "percent": "5"}
    return {**values, **extra}


def test_it_creates_a_programme(client, estate, manager):
    client.force_login(manager)
    response = client.post(reverse("staff:incentives"), form(estate))
    assert response.status_code == 302
    programme = IncentiveProgramme.objects.get()
    assert (programme.kind, programme.name, programme.days, str(programme.percent), programme.created_by) == (
        "early_payment", "提前缴费九五折", 10, "5.00", manager)
    page = client.get(reverse("staff:incentives")).content.decode()
    assert page.count('data-testid="programme"') == 1 and "提前缴费九五折" in page


def test_it_refuses_a_programme_with_both_a_percentage_and_an_amount_in_chinese_and_english(client, estate, manager, settings):
    client.force_login(manager)
    response = client.post(reverse("staff:incentives"), form(estate, amount="10.00"), follow=True)
    assert "请填写优惠比例或优惠金额（二选一）" in response.content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("staff:incentives"), form(estate, amount="10.00"), follow=True)
    assert "give either a percentage or an amount" in response.content.decode()
    assert IncentiveProgramme.objects.count() == 0


def test_it_ends_a_programme(client, estate, manager, today):
    programme = incentives.create_programme(community_id=estate["community"].pk, kind="late_fee_waiver", name="主动缴清",
                                            valid_from=date(2026, 1, 1), days=7, created_by=manager)
    client.force_login(manager)
    client.post(reverse("staff:incentive_end", args=[programme.pk]), {"on": "2026-05-31"})
    programme.refresh_from_db()
    assert programme.valid_to == date(2026, 5, 31)


def test_a_building_manager_neither_sees_nor_ends_the_communitys_programmes(client, estate, manager, building_manager):
    programme = incentives.create_programme(community_id=estate["community"].pk, kind="late_fee_waiver", name="主动缴清",
                                            valid_from=date(2026, 1, 1), days=7, created_by=manager)
    client.force_login(building_manager)
    assert 'data-testid="programme"' not in client.get(reverse("staff:incentives")).content.decode()
    assert client.post(reverse("staff:incentive_end", args=[programme.pk])).status_code == 404
    response = client.post(reverse("staff:incentives"), form(estate))
    assert response.status_code == 200 and IncentiveProgramme.objects.count() == 1  # the community is not a choice


def test_a_collector_may_look_but_not_open_one(client, estate, insider):
    client.force_login(insider)
    assert client.get(reverse("staff:incentives")).status_code == 200
    assert client.post(reverse("staff:incentives"), form(estate)).status_code == 403


def test_the_page_is_a_fixed_number_of_queries(client, estate, manager, django_assert_max_num_queries):
    for n in range(5):
        incentives.create_programme(community_id=estate["community"].pk, kind="early_payment", name=f"第{n}期",
                                    valid_from=date(2027 + n, 1, 1), valid_to=date(2027 + n, 12, 31), days=5,
                                    percent="2", created_by=manager)
    client.force_login(manager)
    with django_assert_max_num_queries(20):
        client.get(reverse("staff:incentives"))


def test_the_admin_opens_a_programme_through_the_service_and_shows_grants_read_only(admin_client, estate, today):
    # when a programme is added in the admin
    response = admin_client.post(reverse("admin:ledger_incentiveprogramme_add"), {
        "community": estate["community"].pk, "kind": "early_payment", "name": "后台九五折", "valid_from": "2026-06-01",
        "days": "10", "percent": "5", "amount": "",
    })
    assert response.status_code == 302
    programme = IncentiveProgramme.objects.get()
    assert programme.created_by.username == "admin"
    # and a second one overlapping it is refused with the service's words
    response = admin_client.post(reverse("admin:ledger_incentiveprogramme_add"), {
        "community": estate["community"].pk, "kind": "early_payment", "name": "重叠", "valid_from": "2026-07-01",
        "days": "10", "percent": "3", "amount": "",
    })
    assert "日期重叠" in response.content.decode()
    # then the grants and prepaid years are listed, never added, changed or deleted
    for name in ("incentivegrant", "prepayaward", "incentiveprogramme"):
        assert admin_client.get(reverse(f"admin:ledger_{name}_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:ledger_incentivegrant_add")).status_code == 403
