"""The legal desk's pages in a real Chromium at phone width: the matters list, a matter with its stages, costs
and an award waiting, the limitation board and the public notices. Nothing wider than the screen; screenshots
in artifacts/."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from arrears.collection.models import Case, CaseStatus
from arrears.collection.run import run_collection
from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.ledger import services as ledger_services
from arrears.legal import services
from tests import factories
from tests.staff.test_browser import ARTIFACTS, browser, pytestmark  # noqa: F401  (the fixture and the marks)

PHONE = {"width": 375, "height": 812}


def _pdf(name):
    return SimpleUploadedFile(name, b"%PDF-1.4\n% " + name.encode() + b"\n", content_type="application/pdf")


@pytest.fixture
def desk(db):
    today = timezone.localdate()
    community = factories.community()
    unit = factories.unit(community, building="3栋", room="1201")
    factories.owner(unit, name="李四")
    factories.tariff(community, price="3.00", rate="0.0005", grace_days=15, cap="0.3", effective_from=date(2025, 1, 1))
    ledger_services.bill(through=date(2025, 6, 1))
    run_collection(as_of=today)
    case = Case.objects.get(unit=unit, status=CaseStatus.OPEN)
    legal = factories.user("legal", groups=[roles.LEGAL])
    manager = factories.user("manager", groups=[roles.MANAGER])
    for user in (legal, manager):
        StaffScope.objects.create(user=user, community=community)
    matter = services.open_matter(case=case, route="suit", responsible=legal, staff=legal, court="深圳市福田区人民法院",
                                  opened_on=date(2025, 7, 25))
    services.record_stage(matter=matter, route="suit", stage="filed", occurred_on=date(2025, 7, 31), staff=legal,
                          document=_pdf("receipt.pdf"), reference="(2025)粤0305民初1234号")
    services.record_stage(matter=matter, route="suit", stage="accepted", occurred_on=date(2025, 8, 5), staff=legal,
                          reference="(2025)粤0305民初1234号")
    services.record_stage(matter=matter, route="suit", stage="hearing", occurred_on=today + timedelta(days=9), staff=legal,
                          note="第三法庭，上午九点半，携带物业服务合同原件与催缴记录")
    services.record_cost(matter=matter, kind="court_fee", amount="25.00", paid_on=date(2025, 8, 6), staff=legal)
    matter.refresh_from_db()
    services.record_award(matter=matter, kind="judgment", decided_on=date(2025, 11, 20), late_fee_as_of=date(2025, 11, 20),
                          principal="1500.00", late_fee="150.00", costs="25.00", reference="(2025)粤0305民初1234号",
                          document=_pdf("judgment.pdf"), staff=legal)
    return {"matter": matter, "community": community}


def test_the_legal_pages_fit_a_phone(live_server, desk, browser):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport=PHONE, locale="zh-CN")
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "pw-manager")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    pages = {
        "matters": "/legal/matters/",
        "matter": f"/legal/matters/{desk['matter'].pk}/",
        "limitation": "/legal/limitation/",
        "notices": "/legal/notices/",
        "notice-new": f"/legal/notices/new/?community={desk['community'].pk}",
    }
    wide = {}
    for name, path in pages.items():
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, (name, response.status)
        page.screenshot(path=str(ARTIFACTS / f"legal-{name}-phone.png"), full_page=True)
        # nothing wider than the screen: no sideways scrolling on a phone
        wide[name] = page.evaluate("document.documentElement.scrollWidth")
    assert wide == {name: PHONE["width"] for name in pages}
    # the hearing's note (the courtroom and the time) is on the matter page
    page.goto(f"{live_server.url}/legal/matters/{desk['matter'].pk}/")
    assert "第三法庭" in page.inner_text("[data-testid=stages]")


def test_the_matter_page_with_its_forms_fits_a_phone(live_server, desk, browser):  # noqa: F811
    # given the person responsible, who sees every form of the matter
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport=PHONE, locale="zh-CN")
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "legal")
    page.fill("#id_password", "pw-legal")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/legal/matters/{desk['matter'].pk}/")
    for summary in page.locator("details > summary").all():
        summary.click()  # every form opened
    page.screenshot(path=str(ARTIFACTS / "legal-matter-forms-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
