"""The demo's staff (named, every building covered) and what the demo prints when it comes up."""

import io
from datetime import date

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone, translation

from arrears.collection.models import Case, CaseStatus, CollectorAssignment
from arrears.demo.banner import login_table, public_url, width
from arrears.demo.staff import (
    COLLECTORS,
    DEMO_PASSWORD,
    LOGINS,
    ensure_demo_staff,
    full_name,
    split,
)
from arrears.estate.models import Building, StaffScope
from arrears.notices.outbox import due_ids
from tests import factories


@pytest.mark.parametrize(("addrport", "url"), [
    ("127.0.0.1:8708", "http://127.0.0.1:8708"),
    ("8708", "http://127.0.0.1:8708"),  # runserver takes a bare port
    ("0.0.0.0:8708", "http://127.0.0.1:8708"),  # every interface: open it on this machine's loopback
    ("192.168.1.20:9000", "http://192.168.1.20:9000"),
    ("[::1]:8708", "http://[::1]:8708"),
])
def test_the_link_names_the_address_the_demo_serves_on(addrport, url):
    assert public_url(addrport) == url


@pytest.mark.parametrize(("items", "parts", "runs"), [
    ([2, 3, 4, 5, 6], 2, [[2, 3, 4], [5, 6]]),
    ([2], 2, [[2], []]),
    ([], 2, [[], []]),
])
def test_the_other_buildings_are_split_in_even_runs(items, parts, runs):
    assert split(items, parts) == runs


def test_the_logins_print_as_a_labelled_table_with_aligned_columns():
    lines = login_table(list(LOGINS))
    assert lines[0].split() == ["角色", "账号", "密码", "姓名", "先试试"]
    collector = next(line for line in lines if " collector " in line)
    assert collector.split()[:4] == ["催收员（客服/管家）", "collector", "demo-pass-2026", "李明"] and "工作台" in collector
    # the username column starts at the same screen column on every row (CJK characters are two wide)
    for column in (["账号", *[x.username for x in LOGINS]], ["姓名", *[full_name(x) for x in LOGINS]]):
        starts = {width(line[: line.index(word)]) for line, word in zip(lines, column, strict=True)}
        assert len(starts) == 1, column


def test_the_table_is_in_english_for_an_english_reader():
    with translation.override("en"):
        lines = login_table(list(LOGINS))
    assert lines[0].split() == ["Role", "Username", "Password", "Name", "Try", "first"]
    assert "Collector (service / housekeeper)" in "\n".join(lines)
    assert not any("角色" in line or "工作台" in line for line in lines)


@pytest.fixture
def two_communities(db):
    """阳光花园 with 1栋…5栋 and 翠湖苑 with 1栋…3栋."""
    first = factories.community()
    second = factories.community("翠湖苑", company_obj=first.company)
    for community, count in ((first, 5), (second, 3)):
        Building.objects.bulk_create([Building(community=community, name=f"{n}栋") for n in range(1, count + 1)])
    return first, second


def _works(username):
    return sorted((a.community.name, a.building.name) for a in CollectorAssignment.objects.filter(user__username=username))


def test_named_collectors_cover_every_building_and_the_collector_login_works_one(two_communities):
    logins = ensure_demo_staff()

    assert [login.username for login in logins] == [
        "manager", "collector", "legal", "frontdesk", "finance", "admin", "collector2", "collector3", "collector4",
        "collector5"]
    assert _works("collector") == [("翠湖苑", "1栋"), ("阳光花园", "1栋")]
    assert _works("collector2") == [("阳光花园", "2栋"), ("阳光花园", "3栋")]
    assert _works("collector3") == [("阳光花园", "4栋"), ("阳光花园", "5栋")]
    assert _works("collector4") == [("翠湖苑", "2栋")] and _works("collector5") == [("翠湖苑", "3栋")]
    assert not Building.objects.filter(collectors__isnull=True).exists()
    # collectors see their buildings only; every other role sees whole communities
    assert not StaffScope.objects.filter(user__username__startswith="collector", building__isnull=True).exists()
    assert StaffScope.objects.filter(user__username="manager", building__isnull=True).count() == 2
    # real names, the demo password
    user = get_user_model().objects.get(username="collector")
    assert (user.last_name, user.first_name) == ("李", "明") and user.check_password(DEMO_PASSWORD)
    assert get_user_model().objects.get(username="collector5").get_full_name() == "雪梅 黄"  # Django's order; we print 黄雪梅


def test_the_staff_are_made_once(two_communities):
    ensure_demo_staff()
    counts = (get_user_model().objects.count(), StaffScope.objects.count(), CollectorAssignment.objects.count())
    ensure_demo_staff()
    assert (get_user_model().objects.count(), StaffScope.objects.count(), CollectorAssignment.objects.count()) == counts


def test_a_one_building_community_needs_no_other_collector(db):
    community = factories.community()
    Building.objects.create(community=community, name="1栋")
    assert [login.username for login in ensure_demo_staff()][-1] == "admin"
    assert len(COLLECTORS) == 2


def test_the_demo_prints_where_it_serves_and_leaves_no_backlog(db, settings, tmp_path, monkeypatch):
    # given the demo command, collectstatic and the server replaced
    from arrears.demo.management.commands import demo

    settings.DATA_DIR = tmp_path
    served = []

    def call(name, *args, **kwargs):
        if name in ("runserver", "collectstatic"):
            return served.append(name)
        return call_command(name, *args, **kwargs)

    monkeypatch.setattr(demo, "call_command", call)
    out = io.StringIO()
    # when it comes up on port 8708
    with time_machine.travel(date(2026, 11, 23), tick=False):
        call_command("demo", units=20, seed=7, addrport="127.0.0.1:8708", no_serve=True, stdout=out)
        # then nothing due waits in the outbox, and every open case has a collector
        assert due_ids(timezone.now(), 10_000) == []
    text = out.getvalue()
    assert "员工站点：http://127.0.0.1:8708/" in text
    assert "http://127.0.0.1:8708/s/" in text and ":8000" not in text
    assert "角色" in text and "李明" in text and "demo-pass-2026" in text
    assert served == ["collectstatic"]  # --no-serve
    assert Case.objects.filter(status=CaseStatus.OPEN).exists()
    assert not Case.objects.filter(status=CaseStatus.OPEN, collector__isnull=True).exists()
