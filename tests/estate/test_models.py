"""Estate rules: masking (个人信息保护法 minimum disclosure) and who may hear of a debt."""

from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured

from arrears.core.errors import DomainError
from arrears.estate.models import (
    Contact,
    ContactKind,
    ContactRelation,
    mask_id_number,
    mask_name,
    mask_phone,
)
from arrears.ledger import services
from config.settings import env_bool
from tests import factories


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("110101199003071234", "110***********1234"), ("A123456", "A******"), ("", "")],
)
def test_it_masks_id_numbers(raw, masked):
    assert mask_id_number(raw) == masked


def test_it_masks_phones_and_names():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "李*"


@pytest.mark.parametrize(
    ("relation", "authorised", "may_disclose"),
    [
        (ContactRelation.SELF, False, True),
        (ContactRelation.SPOUSE, False, False),
        (ContactRelation.SPOUSE, True, True),
        (ContactRelation.DEVELOPER_RECORD, False, False),
        (ContactRelation.TENANT, False, False),
    ],
)
def test_only_the_owner_and_authorised_contacts_may_hear_of_the_debt(relation, authorised, may_disclose):
    contact = Contact(kind=ContactKind.MOBILE, value="13812345678", relation=relation, disclosure_authorised=authorised)
    assert contact.may_disclose_debt is may_disclose


@pytest.mark.django_db
def test_it_labels_units_as_staff_say_them():
    community = factories.community()
    assert factories.unit(community, building="3栋", entrance="2", room="1201").label == "3栋2单元1201"
    assert factories.unit(community, building="5栋", entrance="", room="101").label == "5栋101"


@pytest.mark.django_db
def test_it_refuses_overlapping_tariffs_and_says_why():
    community = factories.community()
    factories.tariff(community, effective_from=date(2026, 1, 1), effective_to=date(2026, 12, 31))
    with pytest.raises(DomainError, match="日期重叠 / overlaps"):
        services.create_tariff(
            community=community, charge_type=factories.charge_type(), basis="per_area", price="2.50",
            effective_from=date(2026, 6, 1), effective_to=None,
        )
    services.create_tariff(
        community=community, charge_type=factories.charge_type(), basis="per_area", price="2.50",
        effective_from=date(2027, 1, 1), effective_to=None,
    )
    assert community.tariffs.count() == 2


def test_settings_refuse_a_bad_boolean(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("SOME_FLAG")
    monkeypatch.setenv("SOME_FLAG", "yes")
    assert env_bool("SOME_FLAG") is True
