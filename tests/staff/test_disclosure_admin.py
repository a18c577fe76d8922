"""Who may hear of the debt is recorded by a manager or legal, never by the collector who would tell them."""

import pytest
from django.urls import reverse

from arrears.core import roles
from arrears.estate.models import Contact, StaffScope
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def spouse():
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    contact = Contact.objects.create(community=community, owner=owner, kind="mobile", value="13900001111",
                                     relation="spouse", name="配偶")
    return contact


def _client(client, username, role, community):
    user = factories.user(username, groups=[role], is_staff=True)
    StaffScope.objects.create(user=user, community=community)
    client.force_login(user)
    return client


def _change(contact, **overrides):
    data = {"owner": contact.owner_id, "kind": contact.kind, "value": contact.value, "relation": contact.relation,
            "name": contact.name}
    data.update(overrides)
    return data


def test_it_keeps_a_collector_from_authorising_a_relative_or_calling_them_the_owner(client, spouse):
    # given a collector with an admin login
    client = _client(client, "c1", roles.COLLECTOR, spouse.community)
    url = reverse("admin:estate_contact_change", args=[spouse.pk])
    # when they tick the authorisation and relabel the spouse as the owner
    client.post(url, _change(spouse, relation="self", disclosure_authorised="on"))
    # then nothing about disclosure changed
    spouse.refresh_from_db()
    assert (spouse.relation, spouse.disclosure_authorised, spouse.may_disclose_debt) == ("spouse", False, False)


def test_it_offers_a_collector_no_owner_relation_for_a_new_number(client, spouse):
    # given a collector adding a number they found
    client = _client(client, "c1", roles.COLLECTOR, spouse.community)
    html = client.get(reverse("admin:estate_contact_add")).content.decode()
    # then "本人" is not among the choices, and the authorisation is not a field
    assert 'value="self"' not in html and 'name="disclosure_authorised"' not in html
    client.post(reverse("admin:estate_contact_add"), {"owner": spouse.owner_id, "kind": "mobile", "value": "13700002222",
                                                      "relation": "self", "name": ""})
    assert not Contact.objects.filter(value="13700002222", relation="self").exists()


def test_a_manager_records_the_owners_written_authorisation(client, spouse):
    # given a manager with the owner's written authorisation
    client = _client(client, "m1", roles.MANAGER, spouse.community)
    # when
    client.post(reverse("admin:estate_contact_change", args=[spouse.pk]), _change(spouse, disclosure_authorised="on"))
    # then
    spouse.refresh_from_db()
    assert spouse.disclosure_authorised is True and spouse.may_disclose_debt is True
