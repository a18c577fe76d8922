from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from arrears.collection.models import OutgoingMessage
from arrears.core import roles
from arrears.estate.models import Contact, StaffScope
from tests import factories
from tests.collection.conftest import make_case
from tests.staff import conftest as staff

from .fake_providers import SlowProvider
from .recording import Provider

today, estate, insider, neighbour, outsider = staff.today, staff.estate, staff.insider, staff.neighbour, staff.outsider
front_desk, finance, superuser = staff.front_desk, staff.finance, staff.superuser
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: str, clock: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SHANGHAI)


@pytest.fixture
def provider(settings):
    settings.NOTICES_CHANNELS = {"sms": {"BACKEND": "tests.notices.recording.RecordingBackend"},
                                 "email": {"BACKEND": "tests.notices.recording.RecordingBackend"}}
    settings.NOTICES_BACKOFF_SECONDS = 60
    settings.NOTICES_MAX_ATTEMPTS = 4
    settings.NOTICES_LEASE_SECONDS = 300
    Provider.reset()
    return Provider


@pytest.fixture
def case(estate, insider):
    return make_case(estate["unit"], estate["owner"], collector=insider)


@pytest.fixture
def message(case):
    return OutgoingMessage.objects.create(
        community=case.community, case=case, unit=case.unit, owner=case.owner, key=f"case:{case.pk}:step:overdue_sms",
        channel="sms", template_code="overdue", scheduled_on=case.as_of,
    )


@pytest.fixture
def manager(estate):
    """A project manager of 阳光花园 only: may edit that community's templates, not the company defaults."""
    user = factories.user("manager", groups=[roles.MANAGER])
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


@pytest.fixture
def stranger(estate):
    """A collector of the other community (翠湖苑)."""
    user = factories.user("stranger", groups=[roles.COLLECTOR])
    StaffScope.objects.create(user=user, community=estate["far_unit"].community)
    return user


def queue_messages(community, count: int) -> list[OutgoingMessage]:
    """`count` SMS reminders due now, one per owner (each with a mobile and an open case)."""
    queued = []
    for index in range(count):
        unit = factories.unit(community, building="7栋", room=f"{index + 1:02d}01")
        owner = factories.owner(unit, f"业主{index + 1}")
        Contact.objects.create(community=community, owner=owner, kind="mobile", value=f"1390000{index:04d}",
                               relation="self")
        case = make_case(unit, owner)
        queued.append(OutgoingMessage.objects.create(
            community=community, case=case, unit=unit, owner=owner, key=f"case:{case.pk}:step:overdue_sms",
            channel="sms", template_code="overdue", scheduled_on=case.as_of,
        ))
    return queued


@pytest.fixture
def slow(settings):
    """A provider whose calls block until released; lease 300 s."""
    settings.NOTICES_CHANNELS = {"sms": {"BACKEND": "tests.notices.fake_providers.SlowBackend"}}
    settings.NOTICES_LEASE_SECONDS = 300
    settings.NOTICES_MAX_ATTEMPTS = 4
    SlowProvider.reset()
    yield SlowProvider
    SlowProvider.reset()
