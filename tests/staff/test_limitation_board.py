"""期限看板: the overdue charges of the user's units whose limitation deadline is near, and a legal
user's home page that leads with them.

On 2026-02-10: each unit (100 m², ¥2.00/m²/month from March 2023, billed for March and April
2023) has two charges of ¥200.00 due 2023-03-05 and 2023-04-05, so deadlines 2026-03-05 (23
days left) and 2026-04-05 (54 days left): both within 90 days, March alone within 30.
"""

import re
from datetime import date

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.ledger import services as ledger_services
from arrears.ledger.models import Charge
from tests import factories
from tests.staff.test_one_language import (
    CJK,
    PAIR,
    data_values,
    english_sentences,
    visible_texts,
    without_data,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 2, 10)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY, tick=False):
        yield TODAY


@pytest.fixture
def board(db):
    sunny = factories.community()
    unit = factories.unit(sunny, building="3栋", room="1201")
    factories.owner(unit, "王小明")
    lake = factories.community("翠湖苑", company_obj=sunny.company)
    far_unit = factories.unit(lake, room="0101")
    factories.owner(far_unit, "钱远方")
    for community in (sunny, lake):
        factories.tariff(community, effective_from=date(2023, 3, 1))
    ledger_services.bill(through=date(2023, 4, 1))
    users = {}
    for name, role in (("fa", roles.LEGAL), ("lead", roles.MANAGER), ("kefu", roles.COLLECTOR), ("gate", roles.FRONT_DESK)):
        users[name] = factories.user(name, groups=[role])
        StaffScope.objects.create(user=users[name], community=sunny)
    return {"sunny": sunny, "lake": lake, "unit": unit, "far_unit": far_unit, **users}


def rows_of(html: str) -> list[str]:
    """Each row's cells as text, tags and spaces squeezed."""
    found = []
    for row in re.findall(r'<tr data-testid="(?:board-row|limitation-top-row)">(.*?)</tr>', html, re.S):
        cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        found.append(" | ".join(cells))
    return found


def test_it_lists_the_near_deadlines_of_the_users_units_with_a_link_to_the_unit(client, board):
    # given
    client.force_login(board["fa"])
    # when
    html = client.get(reverse("staff:limitation_board")).content.decode()
    # then: the two charges of 阳光花园, nearest first; nothing of 翠湖苑
    assert rows_of(html) == [
        "2026-03-05 | 23 天 | 3栋1单元1201 | 王小明 | 物业费 2023-03 应缴日 2023-03-05 | ¥200.00 | 无（自应缴日起算） | "
        "书面催告送达、业主书面确认欠款、业主确认分期、业主承诺缴费、部分缴费、起诉",
        "2026-04-05 | 54 天 | 3栋1单元1201 | 王小明 | 物业费 2023-04 应缴日 2023-04-05 | ¥200.00 | 无（自应缴日起算） | "
        "书面催告送达、业主书面确认欠款、业主确认分期、业主承诺缴费、部分缴费、起诉",
    ]
    assert f'href="{reverse("staff:unit", args=[board["unit"].pk])}"' in html
    assert html.count('data-testid="board-community"') == 1 and "钱远方" not in html and "翠湖苑" not in html
    assert "时效看板" in html  # the nav link


def test_it_filters_by_window_and_community(client, board):
    client.force_login(board["fa"])
    url = reverse("staff:limitation_board")
    # 30 days: March alone; a window the page does not offer falls back to 90
    assert [row[:10] for row in rows_of(client.get(url, {"days": "30"}).content.decode())] == ["2026-03-05"]
    assert len(rows_of(client.get(url, {"days": "7"}).content.decode())) == 2
    # the user's community: its rows; another community's id shows none of that community
    assert len(rows_of(client.get(url, {"community": board["sunny"].pk}).content.decode())) == 2
    other = client.get(url, {"community": board["lake"].pk, "days": "90"}).content.decode()
    assert "钱远方" not in other and "翠湖苑" not in other


def test_another_communitys_rows_are_never_on_the_page(client, board):
    # given: a legal user scoped to 翠湖苑 only
    far = factories.user("far", groups=[roles.LEGAL])
    StaffScope.objects.create(user=far, community=board["lake"])
    client.force_login(far)
    for query in ({}, {"community": board["sunny"].pk}, {"community": "x"}, {"days": "30"}):
        html = client.get(reverse("staff:limitation_board"), query).content.decode()
        assert "王小明" not in html and "阳光花园" not in html, query
    assert "钱远方" in client.get(reverse("staff:limitation_board")).content.decode()


def test_it_needs_cases_and_amounts(client, board):
    # the front desk sees no amounts, a user without scope sees nothing
    client.force_login(board["gate"])
    assert client.get(reverse("staff:limitation_board")).status_code == 403
    nobody = factories.user("nobody", groups=[roles.LEGAL])
    client.force_login(nobody)
    html = client.get(reverse("staff:limitation_board")).content.decode()
    assert rows_of(html) == [] and 'data-testid="board-empty"' in html
    client.logout()
    assert client.get(reverse("staff:limitation_board")).status_code == 302


def test_its_query_count_does_not_grow_with_the_rows(client, board, django_assert_num_queries):
    # The session, the user, two for permissions, the communities, the charges, the scope, the
    # events, the units, the owners, the roles: 11; one more for the part payments once any charge has one.
    client.force_login(board["lead"])
    url = reverse("staff:limitation_board")
    client.get(url)  # the session and the user, warm
    with django_assert_num_queries(12):
        assert len(rows_of(client.get(url).content.decode())) == 2
    # given: five more units in arrears
    owners = []
    for room in ("1301", "1401", "1501", "1601", "1701"):
        unit = factories.unit(board["sunny"], building="4栋", room=room)
        owners.append(factories.owner(unit, f"业主{room}"))
    ledger_services.bill(through=date(2023, 4, 1))
    with django_assert_num_queries(12):
        assert len(rows_of(client.get(url).content.decode())) == 12
    # given: part payments on one charge, then on three
    for count, paying in ((1, owners[:1]), (3, owners[1:3])):
        for owner in paying:
            charge = Charge.objects.filter(owner=owner).order_by("due_date").first()
            ledger_services.record_payment(unit_id=charge.unit_id, owner_id=owner.pk, amount="50.00",
                                           paid_on=date(2024, 6, 1), method="cash", designation=[charge.pk])
        # then: the rows of a partly paid March charge leave the window (2027-06-01), the count stays
        with django_assert_num_queries(13):
            assert len(rows_of(client.get(url).content.decode())) == 12 - count


def test_the_english_page_has_no_chinese_but_the_data(client, board):
    client.force_login(board["fa"])
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    values = data_values()
    for url in (reverse("staff:limitation_board"), reverse("staff:limitation_board") + "?days=30", reverse("staff:home")):
        html = client.get(url).content.decode()
        assert '<html lang="en">' in html
        left = [text for text in visible_texts(html, "en") if CJK.search(without_data(text, values))]
        assert left == [], (url, left)
    board_html = client.get(reverse("staff:limitation_board")).content.decode()
    assert "Limitation board" in board_html and "23 days" in board_html and "Property fee" in board_html
    assert "Written demand delivered" in board_html and "Part payment" in board_html


# -- home pages -----------------------------------------------------------------------------------


def test_a_legal_users_home_leads_with_the_nearest_deadlines_above_the_days_work(client, board):
    # given
    client.force_login(board["fa"])
    # when
    html = client.get(reverse("staff:home")).content.decode()
    # then: the board's top, then the day's work
    assert 'data-testid="limitation-top"' in html
    assert html.index('data-testid="limitation-top"') < html.index("<h1>今日工作</h1>")
    assert [row.split(" | ")[:3] for row in rows_of(html)] == [
        ["2026-03-05", "23 天", "阳光花园 3栋1单元1201"], ["2026-04-05", "54 天", "阳光花园 3栋1单元1201"]]
    assert f'href="{reverse("staff:limitation_board")}"' in html


def test_a_legal_users_home_shows_the_ten_nearest_and_how_many_more(client, board):
    for number in range(6):
        unit = factories.unit(board["sunny"], building="9栋", room=f"{number + 1}01")
        factories.owner(unit, f"业主{number}")
    ledger_services.bill(through=date(2023, 4, 1))
    client.force_login(board["fa"])
    html = client.get(reverse("staff:home")).content.decode()
    assert len(rows_of(html)) == 10 and "另有 4 笔" in html
    assert [row[:10] for row in rows_of(html)] == ["2026-03-05"] * 7 + ["2026-04-05"] * 3


def test_a_collectors_and_a_managers_home_are_unchanged(client, board):
    for name in ("kefu", "lead"):
        client.force_login(board[name])
        html = client.get(reverse("staff:home")).content.decode()
        assert 'data-testid="limitation-top"' not in html, name


def test_a_user_of_one_building_sees_that_buildings_rows_only(client, board):
    # given: a second building of 阳光花园 in arrears, and a legal user of the 5栋 only
    other = factories.unit(board["sunny"], building="5栋", room="0501")
    factories.owner(other, "赵邻居")
    ledger_services.bill(through=date(2023, 4, 1))
    user = factories.user("five", groups=[roles.LEGAL])
    StaffScope.objects.create(user=user, community=board["sunny"], building=other.building)
    client.force_login(user)
    # when
    html = client.get(reverse("staff:limitation_board")).content.decode()
    # then
    assert [row.split(" | ")[2:4] for row in rows_of(html)] == [["5栋1单元0501", "赵邻居"]] * 2
    assert "王小明" not in client.get(reverse("staff:home")).content.decode()


def test_an_admin_sees_every_community_each_under_its_name(client, board):
    admin = factories.user("boss", groups=[roles.ADMIN], is_staff=True, is_superuser=True)
    client.force_login(admin)
    html = client.get(reverse("staff:limitation_board")).content.decode()
    names = re.findall(r'<section class="card" data-testid="board-community">\s*<h2>(\S+)', html)
    assert names == ["翠湖苑", "阳光花园"] and len(rows_of(html)) == 4


def test_the_chinese_page_has_no_english_sentence(client, board):
    client.force_login(board["fa"])
    values, sentences = data_values(), english_sentences()
    for url in (reverse("staff:limitation_board"), reverse("staff:home")):
        html = client.get(url).content.decode()
        page = "\n".join(without_data(text, values) for text in visible_texts(html, "zh-hans"))
        assert [sentence for sentence in sentences if sentence in page] == [], url
        assert not PAIR.search(page), url


def test_a_restart_waiting_for_its_proof_shows_on_the_row_it_would_move(client, board):
    # given: the owner promised on 2026-01-20 (after both due dates) and the recording is not attached yet
    from arrears.collection.models import LimitationEvent
    from arrears.collection.run import run_collection

    run_collection(as_of=TODAY)
    owner = board["unit"].ownerships.get().owner
    LimitationEvent.objects.create(community=board["sunny"], unit=board["unit"], owner=owner, kind="promise",
                                   occurred_on=date(2026, 1, 20))
    client.force_login(board["fa"])
    # when
    html = client.get(reverse("staff:limitation_board")).content.decode()
    # then: each row says which unproven event would restart it, and links to 待补证据
    assert html.count('data-testid="pending-restart"') == 2
    assert "待补证据：业主承诺缴费 2026-01-20" in html
    assert reverse("staff:evidence_needed") in html
