"""The public arrears notice: who is on it, what the poster shows (never a person), four eyes, the log."""

import subprocess
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from arrears.collection import services as collection_services
from arrears.collection.models import InstalmentPlan
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from arrears.estate.models import Contact, Owner, StaffScope
from arrears.ledger import services
from arrears.ledger.models import Charge
from arrears.legal import masking, public_notices
from arrears.legal.models import LegalPolicy, Matter, NoticeStatus, PublicNotice, PublicNoticeEntry
from arrears.legal.poster_pdf import PosterContent, PosterRow, render_poster
from tests import factories
from tests.legal.notices.conftest import TODAY, _case
from tests.staff.test_one_language import CJK, data_values, visible_texts, without_data

SHANGHAI = ZoneInfo("Asia/Shanghai")


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def prepare(scenario, **extra):
    values = {"community": scenario["community"], "mode": "masked_rooms", "show_amounts": False, "as_of": TODAY,
              "staff": scenario["preparer"], **extra}
    return public_notices.prepare_notice(**values)


def listed(notice) -> dict[str, tuple[str, Decimal | None]]:
    return {entry.unit.label: (entry.label, entry.amount)
            for entry in notice.entries.select_related("unit__building")}


# -- who is on it --------------------------------------------------------------------------------


def test_it_lists_the_current_owners_in_arrears_and_never_those_who_paid_dispute_complain_or_have_a_plan(scenario):
    # given: the scenario's ten units (see conftest)
    # when
    notice = prepare(scenario, show_amounts=True)
    # then: 3栋101 owes January to April (800.00); 3栋301 paid 150.00 of it (650.00); 5栋1201 owes 800.00;
    # 9栋1 (a one-room building) owes 800.00 and is hidden even of its building.
    assert listed(notice) == {
        "3栋1单元101": ("3栋**01", Decimal("800.00")),
        "3栋1单元301": ("3栋**01", Decimal("650.00")),
        "5栋1单元1201": ("5栋**01", Decimal("800.00")),
        "9栋1单元1": ("****", Decimal("800.00")),
    }
    # not listed: 3栋102 (王二 paid; 李旧主 owes but no longer holds it), 3栋201 (dispute), 3栋202 (plan),
    # 3栋302 (asked for a plan), 5栋1301 (paid in full), 5栋1401 (open complaint)
    assert notice.status == NoticeStatus.PENDING and notice.prepared_by == scenario["preparer"]


def test_the_poster_shows_masked_rooms_the_phone_and_the_way_off_and_no_owner_name_or_phone(scenario):
    # given
    notice = prepare(scenario)
    # when
    text = pdf_text(notice.file.path)
    # then
    for shown in ("欠 费 公 示", "3栋**01", "5栋**01", "****", "0755-88886200", "如您认为被误列", "第九百四十四条",
                  "阳光花园物业服务合同", "阳光花园管理规约", "合计 4 户"):
        assert shown in text, shown
    names = list(Owner.objects.values_list("name", flat=True))
    phones = list(Contact.objects.values_list("value", flat=True))
    assert len(names) == 12 and len(phones) == 11
    for secret in names + phones + ["101", "301", "1201", "1单元"]:
        assert secret not in text, secret
    assert "欠费金额" not in text and "800.00" not in text  # amounts not asked for


def test_the_same_poster_renders_to_the_same_bytes_as_its_kept_hash(scenario):
    # given
    notice = prepare(scenario)
    content = PosterContent(company="示范物业", community="阳光花园", scope="阳光花园", as_of=TODAY, mode="masked_rooms",
                            show_amounts=False, rows=(PosterRow("3栋**01"),), paragraphs=("正文",), legal_basis=("依据",),
                            office_phone="0755-88886200", dated=TODAY)
    # when / then
    assert render_poster(content) == render_poster(content)
    with notice.file.open("rb") as stored:
        assert public_notices.sha256(stored.read()) == notice.sha256


def test_counts_mode_lists_counts_per_building_and_adds_small_buildings_up(scenario):
    # given / when
    notice = prepare(scenario, mode="counts", show_amounts=True)
    # then
    lines = [line.split() for line in pdf_text(notice.file.path).splitlines()]
    assert ["3栋", "2", "1,450.00"] in lines and ["5栋", "1", "800.00"] in lines and ["其他楼栋", "1", "800.00"] in lines
    assert "**" not in pdf_text(notice.file.path)
    assert PublicNoticeEntry.objects.filter(notice=notice).count() == 4  # the log keeps which units


def test_a_building_notice_lists_that_building_only(scenario):
    # given
    building = scenario["rooms"]["5栋1201"].building
    # when
    notice = prepare(scenario, building=building)
    # then
    assert listed(notice) == {"5栋1单元1201": ("5栋**01", None)}
    assert "阳光花园 5栋" in pdf_text(notice.file.path)


def test_a_unit_under_a_legal_matter_stays_listed_unless_the_court_dismissed_the_claim(scenario):
    # given
    unit, owner = scenario["rooms"]["3栋101"], scenario["owners"]["3栋101"]
    case = collection_case(unit, owner)
    values = {"community": scenario["community"], "case": case, "unit": unit, "owner": owner, "route": "suit",
              "opened_on": date(2026, 5, 1), "opened_by": scenario["preparer"], "responsible": scenario["preparer"]}
    matter = Matter.objects.create(**values)
    # when / then: in court, still listed
    assert unit.pk in public_notices.listed_units(community=scenario["community"], as_of=TODAY, today=TODAY)
    # when / then: dismissed, never listed
    Matter.objects.filter(pk=matter.pk).update(status="closed", closed_on=date(2026, 5, 8), outcome="dismissed")
    assert unit.pk not in public_notices.listed_units(community=scenario["community"], as_of=TODAY, today=TODAY)


def collection_case(unit, owner):
    return _case(unit, owner)


# -- refusals ------------------------------------------------------------------------------------


def test_it_refuses_when_the_company_has_not_enabled_notices_and_writes_nothing(scenario):
    # given
    LegalPolicy.objects.filter(company=scenario["company"]).update(public_notice_enabled=False)
    # when
    with pytest.raises(DomainError) as refused:
        prepare(scenario)
    # then
    assert refused.value.code == "notice_disabled" and "法务设置" in refused.value.zh and "legal settings" in refused.value.en
    assert not PublicNotice.objects.exists() and not AuditEvent.objects.filter(action__startswith="public_notice").exists()


def test_a_company_without_legal_settings_allows_no_notice(scenario):
    # given
    LegalPolicy.objects.all().delete()
    # when / then
    with pytest.raises(DomainError, match="notice_disabled|legal settings"):
        prepare(scenario)


def test_amounts_are_left_out_when_the_company_does_not_allow_them_even_if_asked(scenario):
    # given
    LegalPolicy.objects.filter(company=scenario["company"]).update(public_notice_amounts=False)
    # when
    notice = prepare(scenario, show_amounts=True)
    # then
    assert notice.show_amounts is False
    assert set(notice.entries.values_list("amount", flat=True)) == {None}
    text = pdf_text(notice.file.path)
    assert "欠费金额" not in text and "800.00" not in text and "650.00" not in text


@pytest.mark.parametrize("who, code", [("collector", "permission"), ("outsider", "scope")])
def test_only_a_manager_of_the_community_may_prepare(scenario, who, code):
    with pytest.raises(DomainError) as refused:
        prepare(scenario, staff=scenario[who])
    assert refused.value.code == code and not PublicNotice.objects.exists()


@pytest.mark.parametrize("as_of", [TODAY + timedelta(days=1), TODAY - timedelta(days=31)])
def test_it_refuses_a_date_in_the_future_or_long_past(scenario, as_of):
    with pytest.raises(DomainError) as refused:
        prepare(scenario, as_of=as_of)
    assert refused.value.code == "as_of"


def test_it_refuses_a_building_of_another_community(scenario):
    far_building = scenario["elsewhere"].buildings.get()
    with pytest.raises(DomainError) as refused:
        prepare(scenario, building=far_building)
    assert refused.value.code == "building"


def test_it_refuses_a_legal_basis_or_phone_that_carries_an_owners_name_or_phone(scenario):
    with pytest.raises(DomainError) as refused:
        prepare(scenario, legal_basis="《民法典》第944条；王五长期欠费")
    assert refused.value.code == "personal_data"
    with pytest.raises(DomainError) as refused:
        prepare(scenario, office_phone="139 0000 8888")
    assert refused.value.code == "personal_data"


def test_it_refuses_when_nobody_is_to_be_listed(scenario):
    # given: the building where everyone paid, disputes, has a plan or asked for one... but 3栋101 and 301:
    for key in ("3栋101", "3栋301"):
        unit, owner = scenario["rooms"][key], scenario["owners"][key]
        services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="800.00", paid_on=TODAY, method="cash")
    # when
    with pytest.raises(DomainError) as refused:
        prepare(scenario, building=scenario["rooms"]["3栋101"].building)
    # then
    assert refused.value.code == "nobody"


def test_a_double_submit_prepares_one_notice(scenario):
    first = prepare(scenario)
    second = prepare(scenario)
    assert first.pk == second.pk and PublicNotice.objects.count() == 1
    assert AuditEvent.objects.filter(action="public_notice_prepared").count() == 1


# -- four eyes, approval, withdrawal ---------------------------------------------------------------


def test_the_preparer_cannot_approve_their_own_notice_nor_can_the_database(scenario):
    # given
    notice = prepare(scenario)
    # when
    with pytest.raises(DomainError) as refused:
        public_notices.approve_notice(notice=notice, staff=scenario["preparer"])
    # then
    assert refused.value.code == "four_eyes"
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.PENDING and notice.decided_by is None
    with pytest.raises(IntegrityError), transaction.atomic():
        PublicNotice.objects.filter(pk=notice.pk).update(decided_by=scenario["preparer"], status="approved")


def test_a_second_manager_approves_and_it_is_logged_once(scenario):
    # given
    notice = prepare(scenario)
    # when
    approved = public_notices.approve_notice(notice=notice, staff=scenario["approver"])
    # then
    assert approved.status == NoticeStatus.APPROVED and approved.decided_by == scenario["approver"]
    with pytest.raises(DomainError) as again:
        public_notices.approve_notice(notice=notice, staff=scenario["approver"])
    assert again.value.code == "already_decided"
    assert AuditEvent.objects.filter(action="public_notice_approved", detail__notice=notice.pk).count() == 1


@pytest.mark.parametrize("change", ["paid", "dispute", "plan", "part_paid_with_amounts"])
def test_approval_is_refused_when_a_listed_owner_has_since_paid_disputed_or_got_a_plan(scenario, change):
    # given
    notice = prepare(scenario, show_amounts=change == "part_paid_with_amounts")
    unit, owner = scenario["rooms"]["5栋1201"], scenario["owners"]["5栋1201"]
    later = TODAY + timedelta(days=2)
    with time_machine.travel(datetime(2026, 5, 12, 9, 0, tzinfo=SHANGHAI), tick=False):
        if change == "paid":
            services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="800.00", paid_on=later, method="cash")
        elif change == "part_paid_with_amounts":
            services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="100.00", paid_on=later, method="cash")
        elif change == "dispute":
            charge = Charge.objects.filter(unit=unit).order_by("due_date").last()
            collection_services.open_dispute(charge=charge, reason="读数有误", staff=None, opened_on=later)
        else:
            InstalmentPlan.objects.create(community=unit.community, case=collection_case(unit, owner), total=Decimal("800.00"),
                                          status="accepted", proposed_on=later, accepted_on=later)
        # when
        with pytest.raises(DomainError) as refused:
            public_notices.approve_notice(notice=notice, staff=scenario["approver"])
    # then
    assert refused.value.code == "list_changed"
    assert "5栋**01" in refused.value.zh and "重新拟制" in refused.value.zh and "prepare a new one" in refused.value.en
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.PENDING and notice.decided_by is None


def test_withdrawal_needs_an_approved_notice_and_a_reason_and_is_logged(scenario):
    # given
    notice = prepare(scenario)
    with pytest.raises(DomainError) as pending:
        public_notices.withdraw_notice(notice=notice, staff=scenario["approver"], reason="已缴清")
    assert pending.value.code == "not_approved"
    public_notices.approve_notice(notice=notice, staff=scenario["approver"])
    # when
    with pytest.raises(DomainError) as blank:
        public_notices.withdraw_notice(notice=notice, staff=scenario["preparer"], reason="  ")
    withdrawn = public_notices.withdraw_notice(notice=notice, staff=scenario["preparer"], reason="业委会要求撤下")
    # then
    assert blank.value.code == "reason"
    assert (withdrawn.status, withdrawn.withdrawn_by, withdrawn.withdraw_reason) == (
        NoticeStatus.WITHDRAWN, scenario["preparer"], "业委会要求撤下")
    assert AuditEvent.objects.get(action="public_notice_withdrawn").detail == {"notice": notice.pk, "reason": "业委会要求撤下"}


def test_the_poster_and_lines_of_a_notice_are_never_changed(scenario):
    notice = prepare(scenario)
    with pytest.raises(DomainError):
        PublicNotice.objects.filter(pk=notice.pk).update(sha256="0" * 64)
    with pytest.raises(DomainError):
        PublicNoticeEntry.objects.filter(notice=notice).update(label="3栋1201")
    # the database refuses any client, not only the ORM
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE legal_publicnotice SET file = %s WHERE id = %s", ["other.pdf", notice.pk])


# -- masking rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize("room, rooms, expected", [
    ("1201", ["1201", "1301", "1401", "1202"], "3栋**01"),
    ("901", ["901", "1001", "1101"], "3栋**01"),  # the same two stars as a four-character room
    ("1201", ["1201", "1302", "1311", "1411"], "3栋**1"),  # no other room ends in 01: one character less
    ("12", ["12", "22", "32"], "3栋**2"),  # a two-character room never shows whole
    ("A", ["A", "B", "C"], "3栋**"),
    ("1", ["1", "2"], masking.HIDDEN),  # a building of two rooms hides even itself
])
def test_a_label_shows_the_building_two_stars_and_at_most_the_last_two_characters(room, rooms, expected):
    assert masking.label("3栋", room, rooms) == expected


# -- pages ------------------------------------------------------------------------------------------


def test_the_pages_prepare_show_approve_once_and_download_the_poster(client, scenario):
    # given
    client.force_login(scenario["preparer"])
    # when
    response = client.post(reverse("staff:public_notice_prepare"), {
        "target": f"c{scenario['community'].pk}", "mode": "masked_rooms", "as_of": "2026-05-10", "legal_basis": "",
        "office_phone": ""})
    # then
    notice = PublicNotice.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("staff:public_notice", args=[notice.pk])
    page = client.get(reverse("staff:public_notice", args=[notice.pk])).content.decode()
    assert 'data-testid="approve"' not in page and "3栋1单元101" in page and "3栋**01" in page
    assert "欠费公示" in client.get(reverse("staff:public_notices")).content.decode()
    # when: the second manager clicks approve twice
    client.force_login(scenario["approver"])
    for _ in range(2):
        assert client.post(reverse("staff:public_notice_approve", args=[notice.pk])).status_code == 302
    # then
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.APPROVED
    assert AuditEvent.objects.filter(action="public_notice_approved").count() == 1
    poster = client.get(reverse("staff:public_notice_poster", args=[notice.pk]))
    assert poster.status_code == 200 and poster["Content-Type"] == "application/pdf"
    assert b"".join(poster.streaming_content).startswith(b"%PDF")
    # when: withdrawn without a reason, then with one
    client.post(reverse("staff:public_notice_withdraw", args=[notice.pk]), {"reason": ""})
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.APPROVED
    client.post(reverse("staff:public_notice_withdraw", args=[notice.pk]), {"reason": "已张贴满七天"})
    page = client.get(reverse("staff:public_notice", args=[notice.pk])).content.decode()
    assert "已张贴满七天" in page and "已撤下" in page


def test_another_communitys_notice_is_not_found_and_collectors_see_no_notices(client, scenario):
    # given
    notice = prepare(scenario)
    # when / then
    client.force_login(scenario["outsider"])
    for name in ("public_notice", "public_notice_poster"):
        assert client.get(reverse(f"staff:{name}", args=[notice.pk])).status_code == 404
    for name in ("public_notice_approve", "public_notice_withdraw"):
        assert client.post(reverse(f"staff:{name}", args=[notice.pk]), {"reason": "x"}).status_code == 404
    assert reverse("staff:public_notice", args=[notice.pk]) not in client.get(reverse("staff:public_notices")).content.decode()
    client.force_login(scenario["collector"])
    assert client.get(reverse("staff:public_notices")).status_code == 403
    assert client.get(reverse("staff:public_notice", args=[notice.pk])).status_code == 403
    assert "欠费公示" not in client.get(reverse("staff:home")).content.decode()


def test_a_prepare_form_for_a_community_out_of_scope_is_refused(client, scenario):
    client.force_login(scenario["outsider"])
    response = client.post(reverse("staff:public_notice_prepare"), {
        "target": f"c{scenario['community'].pk}", "mode": "masked_rooms", "as_of": "2026-05-10"})
    assert response.status_code == 200 and not PublicNotice.objects.exists()


def test_the_english_pages_have_no_chinese_but_the_data(client, scenario):
    # given
    notice = prepare(scenario)
    client.force_login(scenario["approver"])
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    staff = [roles.staff_label(scenario[who]) for who in ("preparer", "approver")]  # 李明, 周芳: names as written
    values = data_values() + [entry.label for entry in notice.entries.all()] + staff
    values.sort(key=len, reverse=True)
    urls = [reverse("staff:public_notices"), reverse("staff:public_notice_prepare"),
            reverse("staff:public_notice", args=[notice.pk])]
    public_notices.approve_notice(notice=notice, staff=scenario["approver"])
    urls.append(reverse("staff:public_notice", args=[notice.pk]))
    # when / then
    left = {}
    for url in urls:
        html = client.get(url).content.decode()
        assert '<html lang="en">' in html, url
        for text in visible_texts(html, "en"):
            if CJK.search(without_data(text, values)):
                left[text[:80]] = url
    assert left == {}


# -- trying to break it ----------------------------------------------------------------------------


def test_the_posters_order_tells_no_floor_and_hidden_rooms_come_last(scenario):
    # given: 3栋101 (800.00) is on a lower floor than 3栋301 (650.00); 9栋 sorts before the hidden room would
    # when
    notice = prepare(scenario, show_amounts=True)
    # then: by building, label, amount; the hidden room last
    rows = [line.split() for line in pdf_text(notice.file.path).splitlines() if "**" in line]
    assert rows == [["3栋**01", "650.00", "3栋**01", "800.00", "5栋**01", "800.00"], ["****", "800.00"]]


def test_approval_is_refused_once_the_company_turns_notices_or_amounts_off(scenario):
    # given
    notice = prepare(scenario, show_amounts=True)
    LegalPolicy.objects.filter(company=scenario["company"]).update(public_notice_amounts=False)
    # when / then
    with pytest.raises(DomainError) as amounts:
        public_notices.approve_notice(notice=notice, staff=scenario["approver"])
    LegalPolicy.objects.filter(company=scenario["company"]).update(public_notice_enabled=False)
    with pytest.raises(DomainError) as disabled:
        public_notices.approve_notice(notice=notice, staff=scenario["approver"])
    assert (amounts.value.code, disabled.value.code) == ("amounts_off", "notice_disabled")
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.PENDING


def test_the_preparer_cannot_reject_their_own_and_a_rejected_notice_cannot_be_approved_or_withdrawn(scenario):
    # given
    notice = prepare(scenario)
    with pytest.raises(DomainError) as own:
        public_notices.reject_notice(notice=notice, staff=scenario["preparer"])
    # when
    public_notices.reject_notice(notice=notice, staff=scenario["approver"], note="金额待核对")
    # then
    with pytest.raises(DomainError) as approve:
        public_notices.approve_notice(notice=notice, staff=scenario["approver"])
    with pytest.raises(DomainError) as withdraw:
        public_notices.withdraw_notice(notice=notice, staff=scenario["approver"], reason="x")
    assert (own.value.code, approve.value.code, withdraw.value.code) == ("four_eyes", "already_decided", "not_approved")
    assert AuditEvent.objects.get(action="public_notice_rejected").detail == {"notice": notice.pk, "note": "金额待核对"}


def test_a_withdrawal_clicked_twice_is_recorded_once(scenario):
    notice = prepare(scenario)
    public_notices.approve_notice(notice=notice, staff=scenario["approver"])
    public_notices.withdraw_notice(notice=notice, staff=scenario["approver"], reason="已张贴满七天")
    with pytest.raises(DomainError) as again:
        public_notices.withdraw_notice(notice=notice, staff=scenario["approver"], reason="已张贴满七天")
    assert again.value.code == "already_decided"
    assert AuditEvent.objects.filter(action="public_notice_withdrawn").count() == 1


def test_it_refuses_a_notice_without_a_phone_to_call(scenario):
    # given: the company has no service phone on file
    type(scenario["company"]).objects.filter(pk=scenario["company"].pk).update(phone="")
    scenario["community"].company.phone = ""
    # when / then
    with pytest.raises(DomainError) as refused:
        prepare(scenario)
    assert refused.value.code == "office_phone"
    notice = prepare(scenario, office_phone="0755-8888 6201")
    assert "0755-8888 6201" in pdf_text(notice.file.path)


def test_a_building_manager_neither_prepares_nor_sees_a_whole_community_notice(scenario):
    # given
    notice = prepare(scenario)
    building = scenario["rooms"]["5栋1201"].building
    manager = factories.user("lead5", groups=[roles.MANAGER])
    StaffScope.objects.create(user=manager, community=scenario["community"], building=building)
    # when / then
    with pytest.raises(DomainError) as refused:
        prepare(scenario, staff=manager)
    assert refused.value.code == "scope"
    assert list(public_notices.notices_visible_to(manager)) == []
    with pytest.raises(DomainError):
        public_notices.approve_notice(notice=notice, staff=manager)
    own = prepare(scenario, staff=manager, building=building)
    assert list(public_notices.notices_visible_to(manager)) == [own]
