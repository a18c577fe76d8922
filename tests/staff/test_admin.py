from datetime import date

import pytest
from django.contrib import admin
from django.urls import reverse

from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.ledger import services
from arrears.ledger.models import Allocation, Charge, Payment, Waiver, WaiverStatus
from tests import factories
from tests.staff.conftest import TODAY

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.fixture
def history(estate):
    """Every kind of ledger row exists, so every changelist renders real rows."""
    unit, owner = estate["unit"], estate["owner"]
    clerk = factories.user("clerk")
    payment = services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="50.00", paid_on=date(2026, 5, 1),
                                      method="cash", receipt_number="R-0002")
    services.reverse_payment(payment_id=payment.pk, reversed_on=TODAY, reason="重复录入")
    waiver = services.request_waiver(charge_id=Charge.objects.filter(unit=unit).first().pk, component="late_fee",
                                     amount="1.00", reason="业主主动缴清", requested_by=clerk)
    return {**estate, "clerk": clerk, "waiver": waiver}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_it_renders_the_changelist_and_add_page(admin_client, history, model):
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    assert admin_client.get(reverse(f"{prefix}_changelist")).status_code == 200
    expected = 200 if admin.site._registry[model].has_add_permission(_request(admin_client)) else 403
    assert admin_client.get(reverse(f"{prefix}_add")).status_code == expected


def _request(client):
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    return request


@pytest.mark.parametrize("name", ["charge", "payment", "allocation", "waiver", "paymentreversal", "ownership", "contact", "unit", "owner"])
def test_it_lists_without_a_query_per_row(admin_client, history, name, django_assert_max_num_queries):
    model = next(m for m in MODELS if m._meta.model_name == name)
    url = reverse(f"admin:{model._meta.app_label}_{name}_changelist")
    with django_assert_max_num_queries(100) as before:
        admin_client.get(url)
    unit, owner = history["unit"], history["owner"]
    services.bill(through=date(2026, 5, 1))
    for n in range(4):
        services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="90.00", paid_on=date(2026, 5, 2 + n),
                                method="pos", receipt_number=f"R-9{n}")
    for n in range(3):
        factories.owner(factories.unit(history["community"], building="7栋", room=f"70{n}"), f"业主{n}")
        services.request_waiver(charge_id=Charge.objects.order_by("pk")[n].pk, component="late_fee", amount="0.50",
                                reason="测试", requested_by=history["clerk"])
    with django_assert_max_num_queries(len(before.captured_queries)):
        admin_client.get(url)


def test_it_masks_id_numbers_in_the_owner_list(admin_client, estate):
    html = admin_client.get(reverse("admin:estate_owner_changelist")).content.decode()
    assert "310***********3456" in html and "310101199002023456" not in html


@pytest.mark.parametrize("name", ["charge", "payment", "allocation", "paymentreversal", "waiver"])
def test_it_never_changes_or_deletes_ledger_rows(admin_client, history, name):
    model = next(m for m in MODELS if m._meta.model_name == name)
    obj = model.objects.first()
    change = reverse(f"admin:ledger_{name}_change", args=[obj.pk])
    response = admin_client.get(change)
    assert response.status_code == 200 and 'name="_save"' not in response.content.decode()
    assert admin_client.post(change, {}).status_code == 403
    assert admin_client.post(reverse(f"admin:ledger_{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_it_adds_a_payment_through_the_service(admin_client, estate):
    response = admin_client.post(reverse("admin:ledger_payment_add"), {
        "unit": estate["unit"].pk, "owner": estate["owner"].pk, "amount": "300.00", "paid_on": "2026-05-09",
        "method": "cash", "reference": "", "receipt_number": "R-ADMIN",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    payment = Payment.objects.get(receipt_number="R-ADMIN")
    assert payment.operator.username == "admin"
    assert sum(a.amount for a in Allocation.objects.filter(payment=payment)) == payment.amount - payment.unallocated
    assert payment.unallocated < payment.amount


def test_it_reports_a_refused_payment_as_a_form_error(admin_client, estate):
    response = admin_client.post(reverse("admin:ledger_payment_add"), {
        "unit": estate["unit"].pk, "owner": estate["owner"].pk, "amount": "300.00", "paid_on": "2026-06-01",
        "method": "cash", "reference": "", "receipt_number": "R-FUTURE",
    })
    assert response.status_code == 200
    assert "缴费日期不能晚于今天" in response.content.decode()
    assert not Payment.objects.filter(receipt_number="R-FUTURE").exists()


def _manager(estate, username="boss"):
    user = factories.user(username, groups=[roles.MANAGER], is_staff=True)
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


def test_it_approves_a_waiver_through_the_service(client, history):
    client.force_login(_manager(history))
    response = client.post(reverse("admin:ledger_waiver_changelist"),
                           {"action": "approve", "_selected_action": [history["waiver"].pk]}, follow=True)
    history["waiver"].refresh_from_db()
    assert history["waiver"].status == WaiverStatus.APPROVED
    assert history["waiver"].approved_by.username == "boss"
    assert "已批准 1 笔减免" in response.content.decode()


def test_it_refuses_to_let_the_requester_approve(client, history):
    clerk = history["clerk"]
    clerk.is_staff = True
    clerk.save()
    clerk.groups.add(*_manager(history).groups.all())
    StaffScope.objects.create(user=clerk, community=history["community"])  # the admin lists only rows in scope
    client.force_login(clerk)
    response = client.post(reverse("admin:ledger_waiver_changelist"),
                           {"action": "approve", "_selected_action": [history["waiver"].pk]}, follow=True)
    assert "申请人不能审批自己的减免" in response.content.decode()
    assert Waiver.objects.get(pk=history["waiver"].pk).status == WaiverStatus.REQUESTED


def test_it_shows_chinese_model_names(admin_client, db):
    html = admin_client.get(reverse("admin:index")).content.decode()
    for label in ["物业费催收系统", "房屋", "业主", "应收", "缴费", "冲抵", "减免", "缴费冲正", "管辖范围"]:
        assert label in html
