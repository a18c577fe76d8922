"""A community for the public arrears notice: owners in arrears, owners who paid, dispute, have a plan,
complain or asked for one, a former owner's debt, a one-room building; two managers and an outsider."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from arrears.collection import services as collection_services
from arrears.collection.models import Case, InstalmentPlan
from arrears.core import roles
from arrears.estate.models import Contact, ServiceTicket, StaffScope, TicketKind
from arrears.ledger import services
from arrears.ledger.models import Charge
from arrears.legal.models import LegalPolicy
from arrears.portal.models import InstalmentRequest
from tests import factories

TODAY = date(2026, 5, 10)


@pytest.fixture
def today():
    with time_machine.travel(TODAY, tick=False):
        yield TODAY


def _case(unit, owner):
    return Case.objects.create(community=unit.community, unit=unit, owner=owner, opened_on=date(2026, 2, 6), as_of=TODAY,
                               principal=Decimal("800.00"), late_fee=Decimal("0.00"), oldest_due=date(2026, 1, 5),
                               days_overdue=125, months_overdue=4, bucket="91-180", tier="B")


@pytest.fixture
def scenario(db, today, settings, tmp_path):
    """阳光花园 of 示范物业 (0755-88886200): 3栋 (six rooms, one entrance), 5栋 (three rooms), 9栋 (one villa).

    Each unit is 100 m² at 2.00 a month: 200.00 a month, January to April billed, due the 5th.
    """
    settings.MEDIA_ROOT = tmp_path
    company = factories.company("示范物业", phone="0755-88886200")
    LegalPolicy.objects.create(company=company, public_notice_enabled=True, public_notice_amounts=True)
    community = factories.community("阳光花园", company_obj=company, service_centre="5栋架空层物业服务中心",
                                    service_hours="每天 8:30–18:00")
    rooms = {}
    for building, room in [("3栋", "101"), ("3栋", "102"), ("3栋", "201"), ("3栋", "202"), ("3栋", "301"), ("3栋", "302"),
                           ("5栋", "1201"), ("5栋", "1301"), ("5栋", "1401"), ("9栋", "1")]:
        rooms[f"{building}{room}"] = factories.unit(community, building=building, entrance="1", room=room)
    names = {"3栋101": "王一", "3栋201": "王三", "3栋202": "王四", "3栋301": "王五", "3栋302": "王六",
             "5栋1201": "赵七", "5栋1301": "赵八", "5栋1401": "赵九", "9栋1": "钱十"}
    owners = {key: factories.owner(rooms[key], name) for key, name in names.items()}
    # 3栋102 changed hands on 1 March: 李旧主's January and February stay unpaid, 王二 pays March and April.
    owners["former"] = factories.owner(rooms["3栋102"], "李旧主", end=date(2026, 2, 28))
    owners["3栋102"] = factories.owner(rooms["3栋102"], "王二", start=date(2026, 3, 1))
    for number, person in enumerate(owners.values()):
        Contact.objects.create(community=community, owner=person, kind="mobile", value=f"139{number:04d}8888", relation="self")
    factories.tariff(community)
    services.bill(through=date(2026, 4, 1))
    services.record_payment(unit_id=rooms["3栋102"].pk, owner_id=owners["3栋102"].pk, amount="400.00",
                            paid_on=date(2026, 4, 20), method="wechat")
    services.record_payment(unit_id=rooms["5栋1301"].pk, owner_id=owners["5栋1301"].pk, amount="800.00",
                            paid_on=date(2026, 4, 20), method="wechat")
    services.record_payment(unit_id=rooms["3栋301"].pk, owner_id=owners["3栋301"].pk, amount="150.00",
                            paid_on=date(2026, 4, 20), method="wechat")
    disputed = Charge.objects.filter(unit=rooms["3栋201"]).order_by("due_date").first()
    collection_services.open_dispute(charge=disputed, reason="面积有误", staff=None, opened_on=date(2026, 5, 1))
    InstalmentPlan.objects.create(community=community, case=_case(rooms["3栋202"], owners["3栋202"]), total=Decimal("800.00"),
                                  status="accepted", proposed_on=date(2026, 5, 1), accepted_on=date(2026, 5, 2))
    ServiceTicket.objects.create(community=community, unit=rooms["5栋1401"], kind=TicketKind.COMPLAINT,
                                 summary="电梯常坏", opened_on=date(2026, 5, 3))
    InstalmentRequest.objects.create(community=community, unit=rooms["3栋302"], owner=owners["3栋302"], months=3,
                                     total=Decimal("800.00"), requested_at="2026-05-09T10:00:00+08:00")
    elsewhere = factories.community("翠湖苑", company_obj=company)
    far_unit = factories.unit(elsewhere, building="1栋", room="0101")
    factories.owner(far_unit, "钱远方")
    preparer = factories.user("lead1", groups=[roles.MANAGER], first_name="明", last_name="李")
    approver = factories.user("lead2", groups=[roles.MANAGER], first_name="芳", last_name="周")
    outsider = factories.user("lead3", groups=[roles.MANAGER])
    collector = factories.user("collector", groups=[roles.COLLECTOR])
    for user in (preparer, approver, collector):
        StaffScope.objects.create(user=user, community=community)
    StaffScope.objects.create(user=outsider, community=elsewhere)
    return {"company": company, "community": community, "rooms": rooms, "owners": owners, "elsewhere": elsewhere,
            "preparer": preparer, "approver": approver, "outsider": outsider, "collector": collector}
