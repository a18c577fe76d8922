import pytest
from django.urls import reverse

from arrears.estate.selectors import units_visible_to


def test_it_shows_the_unit_to_a_user_scoped_to_its_community(client, insider, estate):
    client.force_login(insider)
    assert client.get(reverse("staff:unit", args=[estate["unit"].pk])).status_code == 200


@pytest.mark.parametrize("who", ["neighbour", "outsider"])
def test_it_hides_the_unit_from_users_outside_its_scope(client, request, estate, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("staff:unit", args=[estate["unit"].pk])).status_code == 404


@pytest.mark.parametrize("who", ["neighbour", "outsider"])
def test_it_finds_nothing_outside_the_scope(client, request, estate, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("staff:search"), {"q": "王小明"})
    assert response.context["rows"] == []
    assert "3栋1单元1201" not in response.content.decode()


def test_it_limits_a_building_scope_to_its_building(neighbour, estate):
    assert list(units_visible_to(neighbour)) == [estate["other_unit"]]


def test_it_gives_an_outsider_nothing(outsider, estate):
    assert not units_visible_to(outsider).exists()


def test_it_shows_a_superuser_everything(superuser, estate):
    assert units_visible_to(superuser).count() == 3


def test_it_gives_an_inactive_user_nothing(insider, estate):
    insider.is_active = False
    assert not units_visible_to(insider).exists()


def test_it_counts_nothing_for_an_outsider_at_home(client, outsider, estate):
    client.force_login(outsider)
    summary = client.get(reverse("staff:home")).context["summary"]
    assert (summary.units, summary.owners, summary.units_in_arrears, str(summary.overdue_total)) == (0, 0, 0, "0.00")
