from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from arrears.ledger import selectors, services
from arrears.ledger.models import Charge, Payment
from tests import factories
from tests.staff.conftest import TODAY


def test_it_sends_anonymous_users_to_login(client, db):
    response = client.get(reverse("staff:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_hand_computes_the_fixture_statement(estate):
    # 4 × 200.00 billed, 200.00 paid on 01-20 (January's principal).
    # Late fees on 2026-05-10 at 0.0005/day: Jan 200 × 15 = 1.50, Feb 200 × 94 = 9.40,
    # Mar 200 × 66 = 6.60, Apr 200 × 35 = 3.50 → 21.00
    s = selectors.unit_statement(estate["unit"].pk, TODAY)
    assert (s.principal, s.late_fee, s.total) == (D("600.00"), D("21.00"), D("621.00"))


def test_it_counts_the_scope_on_the_home_page(client, insider, estate):
    client.force_login(insider)
    response = client.get(reverse("staff:home"))
    assert response.status_code == 200
    summary = response.context["summary"]
    # 阳光花园: two units, two current owners; both owe principal (the neighbour's 80 m² unit: 4 × 160.00);
    # the card sums overdue principal, as the arrears list's rate does: 600.00 + 640.00
    assert (summary.units, summary.owners, summary.units_in_arrears) == (2, 2, 2)
    assert summary.overdue_total == D("1240.00")
    assert summary.communities == ["阳光花园"]


def test_it_counts_only_the_building_for_a_building_scope(client, neighbour, estate):
    client.force_login(neighbour)
    summary = client.get(reverse("staff:home")).context["summary"]
    assert (summary.units, summary.owners, summary.units_in_arrears) == (1, 1, 1)
    assert summary.overdue_total == D("640.00")


@pytest.mark.parametrize("query", ["3栋1201", "3栋1单元1201", "3-1-1201", "3-1201", "王小明", "小明", "8888", "沪A12345"])
def test_it_finds_the_unit(client, insider, estate, query):
    client.force_login(insider)
    response = client.get(reverse("staff:search"), {"q": query})
    found = [unit.pk for unit, _, _ in response.context["rows"]]
    assert found == [estate["unit"].pk]


def test_it_finds_every_room_by_number_alone(client, insider, estate):
    client.force_login(insider)
    response = client.get(reverse("staff:search"), {"q": "1201"})
    assert {unit.pk for unit, _, _ in response.context["rows"]} == {estate["unit"].pk, estate["other_unit"].pk}


def test_it_finds_a_unit_by_a_past_owner(client, insider, estate):
    client.force_login(insider)
    response = client.get(reverse("staff:search"), {"q": "李旧主"})
    assert [unit.pk for unit, _, _ in response.context["rows"]] == [estate["unit"].pk]


def test_it_shows_names_in_full_phones_in_full_and_the_debt(client, insider, estate):
    client.force_login(insider)
    response = client.get(reverse("staff:search"), {"q": "3栋1201"})
    html = response.content.decode()
    assert "王小明" in html and "13912348888" in html
    assert "¥621.00" in html


def test_it_masks_phone_numbers_for_the_front_desk(client, front_desk, estate):
    client.force_login(front_desk)
    html = client.get(reverse("staff:search"), {"q": "3栋1201"}).content.decode()
    assert "139****8888" in html and "13912348888" not in html
    html = client.get(reverse("staff:unit", args=[estate["unit"].pk])).content.decode()
    assert "139****8888" in html and "13912348888" not in html and "13700001111" not in html


def test_it_shows_the_front_desk_no_amount_and_not_the_ledger(client, front_desk, estate):
    client.force_login(front_desk)
    response = client.get(reverse("staff:unit", args=[estate["unit"].pk]))
    html = response.content.decode()
    assert "¥" not in html and "621" not in html and 'id="statement"' not in html
    assert response.context["statement"] is None
    assert response.context["history"] == [] and 'id="history"' not in html


def test_it_paginates_search_results(client, insider, estate):
    from tests import factories

    for n in range(25):
        factories.unit(estate["community"], building=f"{n + 10}栋", room="0808")
    client.force_login(insider)
    first = client.get(reverse("staff:search"), {"q": "0808"})
    second = client.get(reverse("staff:search"), {"q": "0808", "page": 2})
    assert (len(first.context["rows"]), len(second.context["rows"])) == (20, 5)
    assert "page=2" in first.content.decode()


def test_it_shows_the_unit_page(client, insider, estate):
    client.force_login(insider)
    response = client.get(reverse("staff:unit", args=[estate["unit"].pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "阳光花园 3栋1单元1201" in html
    assert 'data-testid="statement-total">¥621.00<' in html
    # owners (history) with ID numbers masked, contacts with disclosure, vehicles
    assert "李旧主" in html and "王小明" in html
    assert "310***********3456" in html and "310101199002023456" not in html and "110101198001011234" not in html
    assert "孙丽" in html and "不可告知" in html
    assert "沪A12345" in html
    # ledger history: 4 charges, 1 payment with its allocation, newest first
    kinds = [entry.kind for entry in response.context["history"]]
    assert sorted(kinds) == ["charge"] * 4 + ["payment"]
    assert response.context["history"][0].on > response.context["history"][-1].on
    assert "R-0001" in html


def test_the_unit_page_query_count_does_not_grow_with_rows(client, insider, estate, django_assert_max_num_queries):
    client.force_login(insider)
    url = reverse("staff:unit", args=[estate["unit"].pk])
    client.get(url)  # warm the session and permission caches alike
    with django_assert_max_num_queries(30) as small:  # 29, and one for the risk panel
        client.get(url)
    # given: a year more of charges, payments, a reversal and a waiver
    services.bill(through=TODAY.replace(month=5))
    unit, owner = estate["unit"], estate["owner"]
    for n in range(3):
        services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="150.00",
                                paid_on=TODAY.replace(month=2 + n, day=1), method="cash", receipt_number=f"R-1{n}")
    services.reverse_payment(payment_id=Payment.objects.get(receipt_number="R-10").pk, reversed_on=TODAY, reason="退票")
    from tests import factories
    services.request_waiver(charge_id=Charge.objects.filter(unit=unit).last().pk, component="late_fee", amount="1.00",
                            reason="主动缴清", requested_by=factories.user("clerk"))
    # then
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert sorted({e.kind for e in response.context["history"]}) == ["charge", "payment", "reversal", "waiver"]


def test_it_shows_amounts_with_thousands_separators(client, insider, estate):
    # given: 5000 m² at ¥2.00/m² a month, January to April unpaid: ¥10,000.00 a month, ¥40,000.00 overdue
    big = factories.unit(estate["community"], building="9栋", room="0901", area="5000.00")
    factories.owner(big, "周大户", start=date(2024, 1, 1))
    services.bill(through=date(2026, 4, 1))
    client.force_login(insider)
    # when
    html = client.get(reverse("staff:unit", args=[big.pk])).content.decode()
    # then
    assert "¥40,000.00" in html and "10,000.00" in html
    assert "40000.00" not in html and "10000.00" not in html
