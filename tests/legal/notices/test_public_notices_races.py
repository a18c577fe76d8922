"""Two clicks or two managers at once on PostgreSQL: one notice, one decision."""

import pytest
from django.db import connection

from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from arrears.estate.models import StaffScope
from arrears.legal import public_notices
from arrears.legal.models import NoticeStatus, PublicNotice
from tests import factories
from tests.legal.notices.conftest import TODAY
from tests.races import race

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_simultaneous_preparations_of_the_same_notice_make_one(scenario):
    # given
    def prepare():
        return public_notices.prepare_notice(community=scenario["community"], mode="masked_rooms", show_amounts=False,
                                             as_of=TODAY, staff=scenario["preparer"]).pk

    # when
    results = race(prepare, prepare)
    # then
    assert results[0] == results[1] and PublicNotice.objects.count() == 1
    assert AuditEvent.objects.filter(action="public_notice_prepared").count() == 1


def test_two_managers_deciding_at_once_make_one_decision(scenario):
    # given
    notice = public_notices.prepare_notice(community=scenario["community"], mode="counts", show_amounts=False,
                                           as_of=TODAY, staff=scenario["preparer"])
    other = factories.user("lead4", groups=[roles.MANAGER])
    StaffScope.objects.create(user=other, community=scenario["community"])
    # when
    results = race(lambda: public_notices.approve_notice(notice=notice, staff=scenario["approver"]).status,
                   lambda: public_notices.reject_notice(notice=notice, staff=other).status)
    # then
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1 and refused[0].code == "already_decided"
    notice.refresh_from_db()
    assert notice.status in {NoticeStatus.APPROVED, NoticeStatus.REJECTED}
    assert AuditEvent.objects.filter(action__in=["public_notice_approved", "public_notice_rejected"]).count() == 1
