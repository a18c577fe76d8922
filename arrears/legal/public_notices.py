"""The public arrears notice (欠费公示): prepared by one manager, approved by another, withdrawn any time.

Only where the company allows it (LegalPolicy), only rooms masked or counts per building, never a
name, a phone or an owner's id (个人信息保护法: the least that serves the purpose; DESIGN.md §3).

Who is listed: the current owner of a unit with principal overdue on the notice's date and still
unpaid today (the ledger's one definition of arrears, ledger.selectors). Never listed, whatever
they owe (the whole unit is left off, since its label stands for whoever lives there):
- an owner who has paid what was overdue on that date;
- a unit with an open dispute on any of its charges (collection.ChargeDispute): the debt is contested;
- a unit with an open complaint (an estate.ServiceTicket of kind complaint, which the portal's
  complaints open): the owner says the service the fee pays for is wrong, and a poster while it is
  unanswered reads as retaliation;
- a unit with an accepted instalment plan, or an instalment request the company has not answered:
  the owner has agreed, or asked, to pay;
- an owner on a unit they no longer hold (a former owner's debt posted under the room would name
  the new owner), and an owner whose claim the court dismissed (a legal.Matter closed as dismissed).
A unit under an open legal matter stays listed: the suit says the company claims the debt, it does
not dispute it; the court, not the notice, decides, and the notice states only the fact of arrears.

The poster is rendered before the row is written (its file and SHA-256 are frozen from insert) in
the same transaction as the row, its lines (one per unit, for the log) and the audit event.
Approval re-checks the list on the approval day: a listed room that has since left the list, or
whose amount shown has fallen, stops the approval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from arrears.collection.models import ChargeDispute, InstalmentPlan, PlanStatus
from arrears.core.errors import DomainError
from arrears.core.models import record
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import (
    Community,
    Contact,
    ContactKind,
    Owner,
    Ownership,
    ServiceTicket,
    TicketKind,
    Unit,
)
from arrears.ledger import selectors as ledger_selectors
from arrears.legal import masking
from arrears.legal.models import (
    LegalPolicy,
    Matter,
    MatterOutcome,
    MatterStatus,
    NoticeMode,
    NoticeStatus,
    PublicNotice,
    PublicNoticeEntry,
)
from arrears.legal.poster_pdf import PosterContent, PosterRow, render_poster
from arrears.notices.pdf import format_date, sha256
from arrears.portal.models import InstalmentRequest, RequestStatus

PREPARE_PERM = "legal.prepare_public_notice"
APPROVE_PERM = "legal.approve_public_notice"
MAX_AGE_DAYS = 30  # a notice states arrears of a recent date: an old figure would be posted as today's
TEXT_LIMIT = 2000
REASON_LIMIT = 300
PHONE = re.compile(r"^[0-9０-９+()（）\-－—\s转,，/]{5,50}$")


# -- who may ----------------------------------------------------------------------------------------


def covers(staff, *, community_id: int, building_id: int | None) -> bool:
    """Whether the staff member's scope covers a notice of the community (whole) or of one building."""
    if not getattr(staff, "is_authenticated", False) or not staff.is_active:
        return False
    if staff.is_superuser:
        return True
    communities, buildings = estate_selectors.scope_grants(staff)
    return community_id in communities or (building_id is not None and building_id in buildings)


def notices_visible_to(staff):
    """Notices of the communities (whole) and buildings the staff member holds; nothing without a legal perm."""
    if not (staff.has_perm(PREPARE_PERM) or staff.has_perm(APPROVE_PERM)):
        return PublicNotice.objects.none()
    if staff.is_superuser:
        return PublicNotice.objects.all()
    communities, buildings = estate_selectors.scope_grants(staff)
    return PublicNotice.objects.filter(Q(community_id__in=communities) | Q(building_id__in=buildings))


def _require(staff, perm: str, zh: str, en: str) -> None:
    if not staff.has_perm(perm):
        raise DomainError(zh, en, code="permission")


def _require_scope(staff, community_id: int, building_id: int | None) -> None:
    if not covers(staff, community_id=community_id, building_id=building_id):
        raise DomainError("该小区或楼栋不在您的管辖范围内", "that community or building is outside your scope", code="scope")


def policy_of(community: Community) -> LegalPolicy:
    """The company's legal settings; a company that never saved any allows no notice."""
    return LegalPolicy.objects.filter(company_id=community.company_id).first() or LegalPolicy(
        company_id=community.company_id)


def _require_enabled(policy: LegalPolicy) -> None:
    if not policy.public_notice_enabled:
        raise DomainError(
            "本公司未开启欠费公示：须由管理员在“法务设置”中开启后才能拟制或批准（个人信息保护法：公示须经公司决定）",
            "public arrears notices are off for this company: an administrator must turn them on in the legal "
            "settings before one is prepared or approved",
            code="notice_disabled",
        )


# -- who is listed ----------------------------------------------------------------------------------


def excluded_units(*, community_id: int) -> set[int]:
    """Units never listed today: an open dispute, an open complaint, an accepted plan or a pending request."""
    disputed = ChargeDispute.objects.filter(community_id=community_id, closed_on__isnull=True).values_list(
        "charge__unit_id", flat=True)
    complained = ServiceTicket.objects.filter(community_id=community_id, kind=TicketKind.COMPLAINT,
                                              closed_on__isnull=True).values_list("unit_id", flat=True)
    planned = InstalmentPlan.objects.filter(community_id=community_id, status=PlanStatus.ACCEPTED).values_list(
        "case__unit_id", flat=True)
    asked = InstalmentRequest.objects.filter(community_id=community_id, status=RequestStatus.REQUESTED).values_list(
        "unit_id", flat=True)
    return set(disputed) | set(complained) | set(planned) | set(asked)


def listed_units(*, community: Community, building=None, as_of: date, today: date) -> dict[int, Decimal]:
    """Overdue principal per unit to list: owed on `as_of`, still unpaid `today`, by an owner holding the
    unit today, on no excluded unit (see the module's docstring). One grouped query per source."""
    units = Unit.objects.filter(community_id=community.pk)
    if building is not None:
        units = units.filter(building_id=building.pk)
    then = ledger_selectors.arrears_by_owner_unit(as_of, community_ids=[community.pk], units=units)
    if not then:
        return {}
    still = {
        (unit_id, owner_id): total for unit_id, owner_id, total in
        ledger_selectors.overdue_principal_charges(today, community_ids=[community.pk], units=units)
        .filter(due_date__lt=as_of).order_by().values_list("unit_id", "owner_id")
        .annotate(total=Sum("left", output_field=ledger_selectors.SUM_FIELD))
    }
    holders = set(Ownership.objects.filter(community_id=community.pk, start__lte=today)
                  .filter(Q(end__isnull=True) | Q(end__gte=today)).values_list("unit_id", "owner_id"))
    dismissed = set(Matter.objects.filter(community_id=community.pk, status=MatterStatus.CLOSED,
                                          outcome=MatterOutcome.DISMISSED).values_list("unit_id", "owner_id"))
    # A holder's dismissed claim takes the unit off, co-owners too: its label stands for every holder.
    excluded = excluded_units(community_id=community.pk) | {unit_id for unit_id, _ in dismissed & holders}
    listed: dict[int, Decimal] = {}
    for key, owed in then.items():
        unit_id = key[0]
        if key not in still or key not in holders or unit_id in excluded:
            continue
        listed[unit_id] = listed.get(unit_id, Decimal("0.00")) + min(owed, still[key])
    return listed


@dataclass(frozen=True)
class Line:
    unit_id: int
    building_id: int
    building: str
    label: str
    amount: Decimal


def _lines(listed: dict[int, Decimal]) -> list[Line]:
    """The listed units with their masked labels, in the order the poster prints them (masking.order_key)."""
    units = list(Unit.objects.filter(pk__in=list(listed)).select_related("building")
                 .order_by("building__sort_key", "sort_key", "pk"))
    rooms: dict[int, list[str]] = {}
    for building_id, room in Unit.objects.filter(building_id__in={u.building_id for u in units}).values_list(
            "building_id", "room"):
        rooms.setdefault(building_id, []).append(room)
    labels = masking.labels({u.pk: (u.building_id, u.building.name, u.room) for u in units}, rooms)
    rank: dict[int, int] = {}
    for u in units:  # the buildings in their own order (2栋 before 10栋)
        rank.setdefault(u.building_id, len(rank))
    lines = [Line(u.pk, u.building_id, u.building.name, labels[u.pk], listed[u.pk]) for u in units]
    return sorted(lines, key=lambda line: masking.order_key(line.label, building_rank=rank[line.building_id],
                                                            amount=line.amount))


def _count_rows(lines: list[Line], *, community: Community, building, show_amounts: bool) -> tuple[PosterRow, ...]:
    """Counts per building (a building too small to hide a home in is added to 其他楼栋)."""
    units = Unit.objects.filter(community_id=community.pk)
    if building is not None:
        units = units.filter(building_id=building.pk)
    sizes = dict(units.order_by().values_list("building_id").annotate(n=Count("pk")))
    small = masking.small_buildings(sizes)
    rows: dict[str, list] = {}
    for line in lines:
        name = "其他楼栋" if line.building_id in small else line.building
        row = rows.setdefault(name, [0, Decimal("0.00")])
        row[0] += 1
        row[1] += line.amount
    ordered = [name for name in rows if name != "其他楼栋"] + (["其他楼栋"] if "其他楼栋" in rows else [])
    return tuple(PosterRow(name, rows[name][1] if show_amounts else None, rows[name][0]) for name in ordered)


# -- the text -----------------------------------------------------------------------------------


def default_legal_basis(community: Community) -> str:
    """《民法典》第944条 and the community's contract and 管理规约, one a line (editable when preparing)."""
    number = f"（合同编号：{community.contract_number}）" if community.contract_number else ""
    return "\n".join((
        "《中华人民共和国民法典》第九百四十四条第一款：业主应当按照约定向物业服务人支付物业费。",
        f"《{community.name}物业服务合同》{number}",
        f"《{community.name}管理规约》",
    ))


def default_office_phone(community: Community) -> str:
    return community.company.phone


def body_paragraphs(*, community: Community, scope: str, as_of: date, mode: str, office_phone: str) -> tuple[str, ...]:
    """What the poster says: what is listed and why, then how to be taken off (owners listed in error)."""
    what = "以下房屋" if mode == NoticeMode.MASKED_ROOMS else "以下各楼栋的部分房屋"
    hide = "房号部分隐去，不列业主姓名" if mode == NoticeMode.MASKED_ROOMS else "只列户数，不列房号及业主姓名"
    paragraphs = [
        f"业主应当按照物业服务合同的约定按时缴纳物业服务费用（依据见下）。截至{format_date(as_of)}，{scope}{what}"
        f"的物业服务费用逾期未缴（为保护个人信息，{hide}）。请相关业主尽快缴纳，感谢广大按时缴费业主的支持。",
        f"如您认为被误列，请致电物业服务中心（{office_phone}）核实，我们将及时更正。",
        "已缴清欠费、对费用提出异议正在处理中、投诉正在处理中或已与物业服务中心约定分期缴费的业主，均不列入本公示；"
        "公示期间缴清欠费的，我们将及时更新公示。",
    ]
    if community.service_centre:
        hours = f"（{community.service_hours}）" if community.service_hours else ""
        paragraphs.append(f"缴费地点：{community.service_centre}{hours}。")
    return tuple(paragraphs)


def _personal_data_in(text: str, community: Community) -> bool:
    """Whether staff-typed text carries an owner's name or phone of the community (never on a poster)."""
    compact = re.sub(r"[\s\-－—]", "", text)
    for name in Owner.objects.filter(community_id=community.pk).values_list("name", flat=True):
        if len(name.strip()) >= 2 and name.strip() in text:
            return True
    for value in Contact.objects.filter(community_id=community.pk, kind__in=[ContactKind.MOBILE, ContactKind.LANDLINE]
                                        ).values_list("value", flat=True):
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 7 and digits in compact:
            return True
    return False


# -- prepare ----------------------------------------------------------------------------------------


def prepare_notice(*, community: Community, building=None, mode: str, show_amounts: bool, as_of: date, staff,
                   legal_basis: str | None = None, office_phone: str | None = None, now=None) -> PublicNotice:
    """Prepare a notice for approval: its poster rendered and kept with its SHA-256, its lines written.

    The same notice prepared twice (a double click) returns the first while it is pending.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    _require(staff, PREPARE_PERM, "您没有拟制欠费公示的权限", "you may not prepare public arrears notices")
    if building is not None and building.community_id != community.pk:
        raise DomainError("该楼栋不属于所选小区", "that building is not in the chosen community", code="building")
    _require_scope(staff, community.pk, building.pk if building is not None else None)
    policy = policy_of(community)
    _require_enabled(policy)
    if mode not in NoticeMode.values:
        raise DomainError("请选择公示形式", "choose how the notice lists the arrears", code="mode")
    show_amounts = bool(show_amounts) and policy.public_notice_amounts  # the company decides, not the form
    if as_of > today:
        raise DomainError("数据日期不能晚于今天", "the notice's date cannot be after today", code="as_of")
    if as_of < today - timedelta(days=MAX_AGE_DAYS):
        raise DomainError(f"数据日期不能早于 {MAX_AGE_DAYS} 天前：公示须反映近期情况",
                          f"the notice's date cannot be more than {MAX_AGE_DAYS} days ago: a notice states recent arrears",
                          code="as_of")
    legal_basis = (default_legal_basis(community) if legal_basis is None else legal_basis).strip()
    office_phone = (default_office_phone(community) if office_phone is None else office_phone).strip()
    if not legal_basis or len(legal_basis) > TEXT_LIMIT:
        raise DomainError(f"请填写公示依据（最多 {TEXT_LIMIT} 字）", f"give the legal basis (at most {TEXT_LIMIT} characters)",
                          code="legal_basis")
    if not PHONE.match(office_phone):
        raise DomainError("请填写物业服务中心的咨询电话（公司未设客服电话时须手工填写）",
                          "give the office's phone number (type it when the company has none on file)", code="office_phone")
    if _personal_data_in(legal_basis + "\n" + office_phone, community):
        raise DomainError("依据或电话中含有业主的姓名或电话：公示不得出现业主个人信息",
                          "the legal basis or the phone holds an owner's name or phone: a notice never shows them",
                          code="personal_data")
    listed = listed_units(community=community, building=building, as_of=as_of, today=today)
    if not listed:
        raise DomainError("截至该日没有应列入公示的房屋（已缴清、有异议、投诉处理中或分期中的业主不列入）",
                          "nobody to list on that date (owners who paid, dispute a charge, have an open complaint or a "
                          "plan are never listed)", code="nobody")
    lines = _lines(listed)
    scope = f"{community.name} {building.name}" if building is not None else community.name
    body = body_paragraphs(community=community, scope=scope, as_of=as_of, mode=mode, office_phone=office_phone)
    if mode == NoticeMode.COUNTS:
        rows = _count_rows(lines, community=community, building=building, show_amounts=show_amounts)
    else:
        rows = tuple(PosterRow(line.label, line.amount if show_amounts else None) for line in lines)
    content = PosterContent(
        company=community.company.name, community=community.name, scope=scope, as_of=as_of, mode=mode,
        show_amounts=show_amounts, rows=rows, paragraphs=body,
        legal_basis=tuple(text.strip() for text in legal_basis.splitlines() if text.strip()),
        office_phone=office_phone, dated=today,
    )
    data = render_poster(content)  # before the row: its file and hash are frozen from insert
    digest = sha256(data)
    stored = None
    try:
        with transaction.atomic():
            # One preparation of a community at a time: a double click finds the first one here.
            Community.objects.select_for_update().filter(pk=community.pk).order_by("pk").first()
            same = PublicNotice.objects.filter(community_id=community.pk, building=building, status=NoticeStatus.PENDING,
                                               prepared_by=staff, sha256=digest).first()
            if same is not None:
                return same
            notice = PublicNotice(
                community=community, building=building, mode=mode, show_amounts=show_amounts, as_of=as_of,
                legal_basis=legal_basis, office_phone=office_phone, body="\n".join(body), prepared_by=staff,
                prepared_at=now, sha256=digest,
            )
            notice.file.save(f"notice-{community.pk}-{as_of:%Y%m%d}-{digest[:12]}.pdf", ContentFile(data), save=False)
            stored = notice.file
            notice.save()
            PublicNoticeEntry.objects.bulk_create([
                PublicNoticeEntry(community=community, notice=notice, unit_id=line.unit_id, label=line.label,
                                  amount=line.amount if show_amounts else None)
                for line in lines
            ])
            record(actor=staff, action="public_notice_prepared", community_id=community.pk, notice=notice.pk,
                   building=building.pk if building is not None else None, mode=mode, show_amounts=show_amounts,
                   as_of=as_of.isoformat(), units=len(lines), sha256=digest)
    except BaseException:
        if stored is not None and stored.name:
            stored.storage.delete(stored.name)
        raise
    return notice


# -- decide -----------------------------------------------------------------------------------------


def changed_rooms(notice: PublicNotice, *, today: date) -> list[str]:
    """Masked labels of the notice's rooms no longer to be listed today, or whose amount shown has fallen."""
    now_listed = listed_units(community=notice.community, building=notice.building, as_of=notice.as_of, today=today)
    changed = []
    for entry in notice.entries.order_by("pk"):
        amount = now_listed.get(entry.unit_id)
        if amount is None or (entry.amount is not None and amount < entry.amount):
            changed.append(entry.label)
    return changed


def _decided_already(notice: PublicNotice) -> DomainError:
    return DomainError(f"该公示已处理（{notice.get_status_display()}），不能重复操作",
                       f"this notice is already {notice.status}: nothing done twice", code="already_decided")


def _lock(notice: PublicNotice) -> PublicNotice:
    # Only the notice's row: the building is an outer join, which PostgreSQL will not lock.
    return PublicNotice.objects.select_for_update(of=("self",)).select_related("community__company", "building").get(
        pk=notice.pk)


def _check_decider(notice: PublicNotice, staff) -> None:
    _require(staff, APPROVE_PERM, "您没有审批欠费公示的权限", "you may not approve public arrears notices")
    _require_scope(staff, notice.community_id, notice.building_id)
    if notice.prepared_by_id == staff.pk:
        raise DomainError("拟制人不能审批自己拟制的公示（四眼原则），请由另一位有审批权限的同事处理",
                          "the preparer cannot decide on their own notice (four eyes): another manager must",
                          code="four_eyes")


def approve_notice(*, notice: PublicNotice, staff, now=None) -> PublicNotice:
    """A second person approves the poster for posting, after the list is checked again as of today."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    _check_decider(notice, staff)
    with transaction.atomic():
        current = _lock(notice)
        if current.status != NoticeStatus.PENDING:
            raise _decided_already(current)
        policy = policy_of(current.community)
        _require_enabled(policy)
        if current.show_amounts and not policy.public_notice_amounts:
            raise DomainError("公司设置已不允许公示金额：本公示不能批准，请驳回后重新拟制",
                              "the company no longer allows amounts on a notice: reject this one and prepare a new one",
                              code="amounts_off")
        changed = changed_rooms(current, today=today)
        if changed:
            raise DomainError(
                f"自拟制以来以下房屋情况已变化（已缴费、提出异议、投诉、分期或过户等）：{'、'.join(changed)}。"
                "本公示不能批准，请驳回后重新拟制",
                f"since it was prepared these rooms changed (paid, disputed, complained, on a plan, changed hands…): "
                f"{', '.join(changed)}; this notice cannot be approved: reject it and prepare a new one",
                code="list_changed",
            )
        current.status, current.decided_by, current.decided_at = NoticeStatus.APPROVED, staff, now
        current.save(update_fields=["status", "decided_by", "decided_at"])
        record(actor=staff, action="public_notice_approved", community_id=current.community_id, notice=current.pk)
    return current


def reject_notice(*, notice: PublicNotice, staff, note: str = "", now=None) -> PublicNotice:
    """A second person turns the notice down; nothing is posted. The note goes to the audit log."""
    now = now or timezone.now()
    note = note.strip()
    if len(note) > REASON_LIMIT:
        raise DomainError(f"说明最多 {REASON_LIMIT} 字", f"the note is at most {REASON_LIMIT} characters", code="note")
    _check_decider(notice, staff)
    with transaction.atomic():
        current = _lock(notice)
        if current.status != NoticeStatus.PENDING:
            raise _decided_already(current)
        current.status, current.decided_by, current.decided_at = NoticeStatus.REJECTED, staff, now
        current.save(update_fields=["status", "decided_by", "decided_at"])
        record(actor=staff, action="public_notice_rejected", community_id=current.community_id, notice=current.pk,
               note=note)
    return current


def withdraw_notice(*, notice: PublicNotice, staff, reason: str, now=None) -> PublicNotice:
    """Take an approved notice down, with the reason; anyone who may prepare or approve notices may."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not (staff.has_perm(PREPARE_PERM) or staff.has_perm(APPROVE_PERM)):
        raise DomainError("您没有撤下欠费公示的权限", "you may not withdraw public arrears notices", code="permission")
    _require_scope(staff, notice.community_id, notice.building_id)
    if not reason or len(reason) > REASON_LIMIT:
        raise DomainError(f"请填写撤下原因（最多 {REASON_LIMIT} 字）", f"give the reason for withdrawing (at most "
                          f"{REASON_LIMIT} characters)", code="reason")
    with transaction.atomic():
        current = _lock(notice)
        if current.status == NoticeStatus.WITHDRAWN:
            raise _decided_already(current)
        if current.status != NoticeStatus.APPROVED:
            raise DomainError("只有已批准张贴的公示才能撤下", "only an approved notice can be withdrawn", code="not_approved")
        current.status, current.withdrawn_by, current.withdrawn_at = NoticeStatus.WITHDRAWN, staff, now
        current.withdraw_reason = reason
        current.save(update_fields=["status", "withdrawn_by", "withdrawn_at", "withdraw_reason"])
        record(actor=staff, action="public_notice_withdrawn", community_id=current.community_id, notice=current.pk,
               reason=reason)
    return current
