"""One openid bound by owners of two communities at the same instant, on PostgreSQL: one binding stands."""

import threading

import pytest
from django.db import connection

from arrears.estate.models import Contact, Owner
from arrears.portal import wechat
from tests.races import race
from tests.staff import conftest as staff

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the openid's lock is PostgreSQL's"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
estate, today = staff.estate, staff.today
OPENID = "o6_one_person"


def test_an_openid_raced_into_two_communities_binds_in_one(estate, monkeypatch):
    # given both bindings held together right after taking the openid's lock: without the lock both
    # would pass the "bound elsewhere?" check before either wrote
    together, locked = threading.Barrier(2), wechat._lock_openid

    def hold(openid):
        locked(openid)
        try:
            together.wait(timeout=1)  # the second cannot arrive while the first holds the lock
        except threading.BrokenBarrierError:
            pass

    monkeypatch.setattr(wechat, "_lock_openid", hold)
    far = Owner.objects.get(name="钱远方")
    # when
    results = race(
        lambda: wechat.bind_openid(owner=estate["owner"], openid=OPENID, unit_id=estate["unit"].pk).reason,
        lambda: wechat.bind_openid(owner=far, openid=OPENID, unit_id=far.ownerships.first().unit_id).reason,
    )
    # then
    assert sorted(results) == ["bound", "taken"]
    assert Contact.objects.filter(kind="wechat", value=OPENID).count() == 1


def test_an_openid_raced_into_two_households_of_one_community_binds_in_one(estate, monkeypatch):
    # Attack: a neighbour opens two owners' links at once, so that each binding passes the "another
    # household?" check before the other wrote.
    together, locked = threading.Barrier(2), wechat._lock_openid

    def hold(openid):
        locked(openid)
        try:
            together.wait(timeout=1)
        except threading.BrokenBarrierError:
            pass

    monkeypatch.setattr(wechat, "_lock_openid", hold)
    neighbour = estate["neighbour_owner"]
    results = race(
        lambda: wechat.bind_openid(owner=estate["owner"], openid=OPENID, unit_id=estate["unit"].pk).reason,
        lambda: wechat.bind_openid(owner=neighbour, openid=OPENID, unit_id=estate["other_unit"].pk).reason,
    )
    assert sorted(results) == ["bound", "taken"]
    assert Contact.objects.filter(kind="wechat", value=OPENID).count() == 1
