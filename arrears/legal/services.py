"""Every write of the legal desk: open a matter, record its stages, costs and awards, post an award
to the ledger (a second person's decision), close the matter.

A matter puts its case on legal hold (collection pauses the ladder's contact steps) until it
closes. A filing stage (complaint, payment-order or arbitration application, enforcement
application) fixes the claim from the ledger on its date and, with the court's receipt, restarts
the limitation period (民法典第195条) through collection's limitation service. Each stage sets a
dated task for the responsible person. Stages, costs and awards are evidence: a correction is a
new row pointing at the original.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from arrears.collection import limitation
from arrears.collection import services as collection_services
from arrears.collection.models import Case, CaseStatus, Channel, Task, TaskKind, TaskStatus
from arrears.core.errors import DomainError
from arrears.core.models import record
from arrears.core.money import ZERO, MoneyError, to_money
from arrears.ledger import services as ledger_services
from arrears.ledger.models import Allocation, ChargeType, Component
from arrears.legal import claims, rules
from arrears.legal.models import (
    Award,
    AwardKind,
    AwardStatus,
    CostKind,
    Matter,
    MatterCost,
    MatterOutcome,
    MatterStage,
    MatterStatus,
    Route,
)

TEXT_LIMIT = 300
LEGAL_TASK_PRIORITY = 450  # above every ladder step of a tier-A case: a court date does not wait


# -- helpers --------------------------------------------------------------------------------------


def _today() -> date:
    return timezone.localdate()


def _text(value: str, *, limit: int = TEXT_LIMIT, zh: str, en: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise DomainError(f"{zh}最多 {limit} 字", f"the {en} is at most {limit} characters", code="text")
    return value


def _money(value, *, zh: str, en: str, allow_zero: bool = True) -> Decimal:
    try:
        amount = to_money(value)
    except (MoneyError, TypeError, ValueError) as exc:
        raise DomainError(f"{zh}须为金额，最多两位小数", f"the {en} must be an amount with at most two decimals",
                          code="amount") from exc
    if amount < ZERO or (amount == ZERO and not allow_zero):
        raise DomainError(f"{zh}须大于零", f"the {en} must be positive", code="amount")
    return amount


def _day(value, *, zh: str, en: str, future: bool = False) -> date:
    if not isinstance(value, date):
        raise DomainError(f"请填写{zh}", f"the {en} is required", code="date")
    if not future and value > _today():
        raise DomainError(f"{zh}不能晚于今天", f"the {en} cannot be in the future", code="date")
    return value


def _document(upload, *, required: bool, zh: str, en: str) -> limitation.CheckedFile | None:
    if upload is None:
        if required:
            raise DomainError(f"请上传{zh}（扫描件或照片）", f"upload the {en} (a scan or a photo)", code="file")
        return None
    return limitation.check_upload(upload, limitation.DOCUMENT)


def _save_file(field, prefix: str, checked: limitation.CheckedFile | None) -> str:
    if checked is None:
        return ""
    field.save(limitation.stored_name(prefix, checked.name), ContentFile(checked.data), save=False)
    return checked.sha256


def _lock(matter: Matter) -> Matter:
    """The matter's row, locked: two stages or two decisions on one matter are taken in turn."""
    locked = Matter.objects.select_for_update().get(pk=matter.pk)
    return locked


def _require_open(matter: Matter) -> None:
    if matter.status != MatterStatus.OPEN:
        raise DomainError("该法务案件已结案", "the matter is closed", code="matter_closed")


# -- opening --------------------------------------------------------------------------------------


def open_matter(*, case: Case, route: str, responsible, staff, court: str = "", opened_on: date | None = None,
                task: Task | None = None) -> Matter:
    """Take a case to the legal desk on a route; the ladder's contact steps pause until it closes."""
    if route not in Route.values:
        raise DomainError(f"程序无效：{route}", f"unknown route: {route}", code="route")
    opened_on = _day(opened_on or _today(), zh="立项日期", en="opening date")
    court = _text(court, limit=200, zh="法院或仲裁机构", en="court")
    if route == Route.ARBITRATION and not court:
        # Arbitration needs the body the contract names (仲裁法第16条): without it there is no jurisdiction.
        raise DomainError("仲裁须填写合同约定的仲裁机构", "arbitration needs the body the contract names", code="court")
    if responsible is None:
        raise DomainError("请指定承办人", "choose the person responsible", code="responsible")
    if task is not None and (task.case_id != case.pk or task.channel != Channel.LEGAL_REVIEW):
        raise DomainError("该待办不是本案件的法务审查", "that task is not this case's legal review", code="task")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status != CaseStatus.OPEN:
            raise DomainError("案件已结案，不能转法务", "the case is closed", code="case_closed")
        same = Matter.objects.filter(case=case, status=MatterStatus.OPEN, route=route, opened_by=staff, opened_on=opened_on,
                                     responsible=responsible, court=court).first()
        if same is not None:
            return same  # the form sent twice: opened once
        if Matter.objects.filter(case=case, status=MatterStatus.OPEN).exists():
            raise DomainError("该案件已有进行中的法务案件", "the case already has an open matter", code="matter_open")
        try:
            with transaction.atomic():
                matter = Matter.objects.create(
                    community_id=case.community_id, case=case, unit_id=case.unit_id, owner_id=case.owner_id, route=route,
                    opened_on=opened_on, opened_by=staff, responsible=responsible, court=court,
                )
        except IntegrityError as exc:  # a second click raced the first past the check
            raise DomainError("该案件已有进行中的法务案件", "the case already has an open matter", code="matter_open") from exc
        collection_services.set_legal_hold(case=case, held=True, reason="转法务处理 / taken to the legal desk")
        if task is not None and task.status == TaskStatus.OPEN:
            Task.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(status=TaskStatus.DONE, done_at=timezone.now())
        record(actor=staff, action="legal.matter_opened", community_id=case.community_id, matter=matter.pk, case=case.pk,
               route=route)
    return matter


# -- stages ---------------------------------------------------------------------------------------


def _check_route(matter: Matter, route: str) -> None:
    if route == matter.route:
        return
    if route not in rules.NEXT_ROUTES.get(matter.route, ()):
        current = Route(matter.route).label
        raise DomainError(f"{current}之后不能转入{Route(route).label if route in Route.values else route}",
                          f"a {matter.route} matter cannot move to {route}", code="route")


def _follow_up(matter: Matter, occurred_on: date, spec: rules.Stage) -> Task | None:
    """The responsible person's next task for a stage (written before the stage row, which names it)."""
    today = _today()
    if spec.follow_days is None or spec.scheduled and occurred_on < today:
        return None  # a closing stage, or a hearing already held: nothing to prepare
    serial = MatterStage.objects.filter(matter=matter).count() + 1  # under the matter's lock
    return Task.objects.create(
        community_id=matter.community_id, case_id=matter.case_id, key=f"legal:{matter.pk}:{serial}", kind=TaskKind.LEGAL,
        channel=Channel.LEGAL_REVIEW, title=spec.follow_zh, due_on=max(occurred_on + timedelta(days=spec.follow_days), today),
        priority=LEGAL_TASK_PRIORITY, assignee=matter.responsible, created_on=today,
    )


def _fix_claim(matter: Matter, on: date) -> None:
    """The claim as filed: the case's overdue charges with their late fee on the filing date."""
    found = claims.claim(unit_id=matter.unit_id, owner_id=matter.owner_id, as_of=on)
    if not found.lines:
        raise DomainError(f"{on} 该业主在此房屋没有逾期欠费，无可诉请", f"on {on} the owner owes nothing overdue on this unit",
                          code="nothing_owed")
    matter.claim_as_of, matter.claim_charges = on, found.charge_ids
    matter.claim_principal, matter.claim_late_fee = found.principal, found.late_fee
    matter.save(update_fields=["claim_as_of", "claim_charges", "claim_principal", "claim_late_fee", "route",
                               "court_case_number"])


def record_stage(*, matter: Matter, route: str, stage: str, occurred_on, staff, amount=None, reference: str = "",
                 note: str = "", document=None, now: datetime | None = None) -> MatterStage:
    """Record a dated stage with its document; it sets the responsible person's next task.

    A filing stage fixes the claim and, with the court's receipt, restarts limitation; a stage of a
    following route (an objected payment order going to suit) moves the matter to that route.
    """
    spec = rules.stage(route, stage)
    if spec is None:
        raise DomainError(f"该程序没有这个节点：{stage}", f"no stage {stage!r} on the {route} route", code="stage")
    occurred_on = _day(occurred_on, zh="节点日期", en="stage date", future=spec.scheduled)
    reference = _text(reference, limit=200, zh="文书编号或案号", en="reference")
    note = _text(note, zh="说明", en="note")
    if spec.reference and not reference:
        raise DomainError("请填写法院案号", "enter the court's case number", code="reference")
    value = _money(amount, zh="金额", en="amount", allow_zero=False) if spec.amount else None
    if spec.amount is False and amount not in (None, ""):
        raise DomainError("该节点不登记金额", "this stage carries no amount", code="amount")
    checked = _document(document, required=spec.document, zh="文书或法院收据", en="document or the court's receipt")
    with transaction.atomic():
        matter = _lock(matter)
        _require_open(matter)
        same = _same_stage(matter, route=route, stage=stage, occurred_on=occurred_on, amount=value, reference=reference,
                           sha256=checked.sha256 if checked else "")
        if same is not None:
            return same  # the form sent twice (a double tap, a browser's retry): recorded once
        _check_route(matter, route)
        _check_after_filing(matter, route, spec, occurred_on)
        matter.route = route
        if spec.reference:
            matter.court_case_number = reference
        if spec.files:
            _fix_claim(matter, occurred_on)
        else:
            matter.save(update_fields=["route", "court_case_number"])
        row = MatterStage(community_id=matter.community_id, matter=matter, route=route, stage=stage, occurred_on=occurred_on,
                          amount=value, reference=reference, note=note, recorded_by=staff, recorded_at=now or timezone.now(),
                          task=_follow_up(matter, occurred_on, spec))
        row.sha256 = _save_file(row.document, f"{matter.pk}-{route}-{stage}", checked)
        row.save()
        if spec.files and checked is not None:
            _restart_limitation(matter, occurred_on, checked, staff, reference or route)
        record(actor=staff, action="legal.stage_recorded", community_id=matter.community_id, matter=matter.pk,
               route=route, stage=stage, occurred_on=occurred_on.isoformat())
    return row


def _check_after_filing(matter: Matter, route: str, spec: rules.Stage, occurred_on: date) -> None:
    """A stage that follows its route's filing cannot be dated before it (a clerk would read a judgment dated
    before the complaint as a typing slip). Stages may be recorded late, in any order, as long as the dates hold."""
    if spec.files:
        return
    filing = next((row for row in current_stages(matter)
                   if row.route == route and rules.stage(route, row.stage).files), None)
    if filing is not None and occurred_on < filing.occurred_on:
        raise DomainError(f"{spec.zh}的日期 {occurred_on} 早于本程序的立案申请日 {filing.occurred_on}，请核对日期",
                          f"the {spec.en} date {occurred_on} precedes this route's filing on {filing.occurred_on}: check the date",
                          code="order")


def _same_stage(matter: Matter, **values) -> MatterStage | None:
    """A current stage of the matter with exactly these values, or None."""
    return next((row for row in current_stages(matter)
                 if all(getattr(row, name) == value for name, value in values.items())), None)


def _restart_limitation(matter: Matter, filed_on: date, checked: limitation.CheckedFile, staff, reference: str) -> None:
    """A filing restarts the limitation period (第195条第三项) from its date, proven by the court's receipt."""
    case = matter.case
    if case.status != CaseStatus.OPEN:
        return
    receipt = SimpleUploadedFile(checked.name, checked.data, content_type="application/octet-stream")
    limitation.record_suit(case=case, filed_on=filed_on, court_receipt=receipt, staff=staff,
                           court_case_number=reference[:100], note=f"{Route(matter.route).label} {reference}"[:300])


def correct_stage(*, original: MatterStage, staff, reason: str, occurred_on=None, amount=None, reference: str | None = None,
                  note: str | None = None, document=None) -> MatterStage:
    """A stage recorded wrongly: a new row that corrects it (with who and why); the original stays."""
    reason = _text(reason, zh="更正原因", en="correction reason")
    if not reason:
        raise DomainError("更正须写明原因", "a correction needs a reason", code="reason")
    spec = rules.stage(original.route, original.stage)
    occurred_on = _day(occurred_on or original.occurred_on, zh="节点日期", en="stage date", future=spec.scheduled)
    if spec.amount is False and amount not in (None, ""):
        raise DomainError("该节点不登记金额", "this stage carries no amount", code="amount")
    if spec.files and occurred_on != original.occurred_on:
        # The filing's date fixed the claim and restarted limitation (a proven suit event, itself evidence): a new date
        # here would leave both on the old one and the limitation board wrong.
        raise DomainError(f"{spec.zh}的日期已用于确定诉请金额和重新计算诉讼时效，不能更正；如确有错误，请结案后以正确日期重新立项",
                          f"the {spec.en} date fixed the claim and restarted limitation: it cannot be corrected; if it is "
                          "wrong, close the matter and open it again with the right date", code="filing_date")
    value = original.amount if amount in (None, "") else _money(amount, zh="金额", en="amount", allow_zero=False)
    reference = original.reference if reference is None else _text(reference, limit=200, zh="文书编号", en="reference")
    if spec.reference and not reference:
        raise DomainError("请填写法院案号", "enter the court's case number", code="reference")
    note = original.note if note is None else _text(note, zh="说明", en="note")
    checked = _document(document, required=False, zh="文书", en="document")
    with transaction.atomic():
        matter = _lock(original.matter)
        root = original.corrects or original
        superseded = current_stages(matter)
        previous = next((row for row in superseded if (row.corrects_id or row.pk) == root.pk), original)
        if previous.corrects_id == root.pk and (
                previous.recorded_by_id, previous.correction_reason, previous.occurred_on, previous.amount, previous.reference,
                previous.note, previous.sha256) == (
                staff.pk, reason, occurred_on, value, reference, note, checked.sha256 if checked else original.sha256):
            return previous  # the correction sent twice (a double tap, a browser's retry): recorded once
        if previous.task_id is not None:  # the old date's task gives way to the corrected date's
            Task.objects.filter(pk=previous.task_id, status=TaskStatus.OPEN).update(
                status=TaskStatus.CANCELLED, cancel_reason="节点已更正 / stage corrected")
        row = MatterStage(
            community_id=matter.community_id, matter=matter, route=original.route, stage=original.stage,
            occurred_on=occurred_on, amount=value,
            reference=reference,
            note=note, corrects=root,
            correction_reason=reason, recorded_by=staff, recorded_at=timezone.now(),
            task=_follow_up(matter, occurred_on, spec) if matter.status == MatterStatus.OPEN else None,
        )
        if checked is not None:
            row.sha256 = _save_file(row.document, f"{matter.pk}-{original.route}-{original.stage}", checked)
        else:
            row.document, row.sha256 = original.document.name, original.sha256
        row.save()
        record(actor=staff, action="legal.stage_corrected", community_id=matter.community_id, matter=matter.pk,
               stage=root.pk, correction=row.pk)
    return row


def current_stages(matter: Matter) -> list[MatterStage]:
    """The matter's stages as they stand: each original replaced by its latest correction."""
    rows = list(matter.stages.select_related("recorded_by", "task").order_by("pk"))
    latest = {}
    for row in rows:
        latest[row.corrects_id or row.pk] = row
    return sorted(latest.values(), key=lambda row: (row.occurred_on, row.pk))


# -- costs ----------------------------------------------------------------------------------------


def record_cost(*, matter: Matter, kind: str, amount, paid_on, staff, note: str = "", document=None,
                corrects: MatterCost | None = None, correction_reason: str = "") -> MatterCost:
    """Money the company advanced (court fee, lawyer fee…): evidence of cost, charged to nobody by itself."""
    if kind not in CostKind.values:
        raise DomainError(f"费用类型无效：{kind}", f"unknown cost kind: {kind}", code="kind")
    amount = _money(amount, zh="费用金额", en="cost amount", allow_zero=False)
    paid_on = _day(paid_on, zh="支付日期", en="payment date")
    note = _text(note, zh="说明", en="note")
    correction_reason = _text(correction_reason, zh="更正原因", en="correction reason")
    if corrects is not None and not correction_reason:
        raise DomainError("更正须写明原因", "a correction needs a reason", code="reason")
    checked = _document(document, required=False, zh="票据", en="receipt")
    with transaction.atomic():
        matter = _lock(matter)
        recent = MatterCost.objects.filter(
            matter=matter, kind=kind, amount=amount, paid_on=paid_on, note=note, sha256=checked.sha256 if checked else "",
            corrects=(corrects.corrects or corrects) if corrects else None, recorded_by=staff,
            recorded_at__gte=timezone.now() - timedelta(minutes=10),
        ).order_by("-pk").first()
        if recent is not None:
            return recent  # the same cost sent twice within minutes by the same person: recorded once
        if corrects is None:
            _require_open(matter)
        elif corrects.matter_id != matter.pk:
            raise DomainError("更正的费用不属于该法务案件", "that cost belongs to another matter", code="cost")
        row = MatterCost(community_id=matter.community_id, matter=matter, kind=kind, amount=amount, paid_on=paid_on, note=note,
                         corrects=(corrects.corrects or corrects) if corrects else None, correction_reason=correction_reason,
                         recorded_by=staff, recorded_at=timezone.now())
        row.sha256 = _save_file(row.document, f"{matter.pk}-cost", checked)
        row.save()
        record(actor=staff, action="legal.cost_recorded", community_id=matter.community_id, matter=matter.pk, cost=row.pk,
               amount=str(amount))
    return row


def current_costs(matter: Matter) -> list[MatterCost]:
    latest = {}
    for row in matter.costs.order_by("pk"):
        latest[row.corrects_id or row.pk] = row
    return sorted(latest.values(), key=lambda row: (row.paid_on, row.pk))


def costs_total(matter: Matter) -> Decimal:
    return sum((row.amount for row in current_costs(matter)), ZERO)


# -- awards ---------------------------------------------------------------------------------------


def record_award(*, matter: Matter, kind: str, decided_on, late_fee_as_of, principal, late_fee, costs, reference: str,
                 document, staff, effective_on=None) -> Award:
    """Record what the court decided, with the document; it reaches the ledger once a second person approves."""
    if kind not in AwardKind.values:
        raise DomainError(f"文书类型无效：{kind}", f"unknown award kind: {kind}", code="kind")
    decided_on = _day(decided_on, zh="文书日期", en="decision date")
    late_fee_as_of = _day(late_fee_as_of, zh="违约金计算截止日", en="late-fee date")
    effective_on = None if effective_on in (None, "") else _day(effective_on, zh="生效日期", en="effective date")
    if effective_on is not None and effective_on < decided_on:
        raise DomainError("生效日期不能早于文书日期", "the effective date cannot precede the decision", code="date")
    principal = _money(principal, zh="判决本金", en="awarded principal")
    late_fee = _money(late_fee, zh="判决违约金", en="awarded late fee")
    costs = _money(costs, zh="业主负担的诉讼费用", en="costs on the owner")
    reference = _text(reference, limit=200, zh="文书编号", en="reference")
    if not reference:
        raise DomainError("请填写文书编号（案号）", "enter the decision's reference (case number)", code="reference")
    checked = _document(document, required=True, zh="裁判文书", en="decision")
    with transaction.atomic():
        matter = _lock(matter)
        _require_open(matter)
        if not matter.claim_charges:
            raise DomainError("尚未登记起诉或申请（诉请未确定），不能登记裁判结果",
                              "no filing recorded yet: the claim is not fixed", code="no_claim")
        if decided_on < matter.claim_as_of:
            raise DomainError(f"文书日期 {decided_on} 早于起诉或申请日 {matter.claim_as_of}，请核对日期",
                              f"the decision date {decided_on} precedes the filing on {matter.claim_as_of}: check the date",
                              code="date")
        if late_fee_as_of < matter.claim_as_of:
            raise DomainError("违约金计算截止日不能早于起诉日", "the late-fee date cannot precede the filing", code="date")
        pending = Award.objects.filter(matter=matter, status=AwardStatus.REQUESTED).first()
        if pending is not None:
            if (pending.recorded_by_id, pending.kind, pending.decided_on, pending.late_fee_as_of, pending.principal,
                    pending.late_fee, pending.costs, pending.reference, pending.sha256) == (
                    staff.pk, kind, decided_on, late_fee_as_of, principal, late_fee, costs, reference, checked.sha256):
                return pending  # the form sent twice (a double tap): recorded once
            raise DomainError("已有一份待审批的裁判文书", "a decision is already waiting for approval", code="pending")
        award = Award(community_id=matter.community_id, matter=matter, kind=kind, decided_on=decided_on,
                      effective_on=effective_on, late_fee_as_of=late_fee_as_of, principal=principal, late_fee=late_fee,
                      costs=costs, reference=reference, recorded_by=staff, recorded_at=timezone.now())
        award.sha256 = _save_file(award.document, f"{matter.pk}-award", checked)
        plan(award)  # refuse now what could never be posted
        award.save()
        record(actor=staff, action="legal.award_recorded", community_id=matter.community_id, matter=matter.pk,
               award=award.pk)
    return award


def _lines(award: Award) -> list[rules.Line]:
    matter = award.matter
    found = claims.claim(unit_id=matter.unit_id, owner_id=matter.owner_id, as_of=award.late_fee_as_of,
                         charge_ids=matter.claim_charges)
    return [rules.Line(line.charge_id, line.due, line.outstanding, line.late_fee) for line in found.lines]


def plan(award: Award) -> rules.PostingPlan:
    """What posting the award would write, as of its late-fee date; refused when it cannot be posted."""
    try:
        return rules.posting_plan(_lines(award), principal=award.principal, late_fee=award.late_fee, costs=award.costs)
    except rules.AwardExceedsClaim as exc:
        raise DomainError(
            f"判决本金 ¥{award.principal} 超过诉请应收在 {award.late_fee_as_of} 的未缴本金 ¥{exc.outstanding}："
            "诉讼中业主已缴的部分应从判决金额中扣除，请核对后登记",
            f"the awarded principal ¥{award.principal} exceeds the ¥{exc.outstanding} the claimed charges still owed on "
            f"{award.late_fee_as_of}: payments made during the suit are deducted, check and record again",
            code="award_exceeds") from exc


def _charge_type(code: str) -> int:
    return ChargeType.objects.values_list("pk", flat=True).get(code=code)


def approve_award(*, award: Award, staff, note: str = "") -> Award:
    """Post the award (four eyes): waive the cuts as of its late-fee date, charge awarded costs and any extra late fee."""
    note = _text(note, zh="审批说明", en="note")
    with transaction.atomic():
        matter = _lock(award.matter)
        award = Award.objects.select_for_update().get(pk=award.pk)
        if award.status != AwardStatus.REQUESTED:
            raise DomainError("该裁判文书已审批", "this decision was already decided", code="decided")
        if award.recorded_by_id == staff.pk:
            raise DomainError("登记人不能审批自己登记的裁判文书", "the person who recorded it cannot approve it",
                              code="four_eyes")
        _require_open(matter)
        posting = plan(award)
        why = f"{award.get_kind_display()} {award.reference}"[:300]
        waivers, charges = [], []
        for component, cuts in ((Component.PRINCIPAL, posting.principal_cuts), (Component.LATE_FEE, posting.late_fee_cuts)):
            for charge_id, amount in cuts:
                waiver = ledger_services.request_waiver(charge_id=charge_id, component=component, amount=amount, reason=why,
                                                        requested_by=award.recorded_by, requested_on=_today())
                try:
                    ledger_services.approve_waiver(waiver_id=waiver.pk, approved_by=staff, decided_on=award.late_fee_as_of)
                except DomainError as refused:
                    raise _paid_since(award, matter) or refused from refused
                waivers.append(waiver.pk)
        due = award.effective_on or award.decided_on
        for code, amount, label in (("awarded_late_fee", posting.late_fee_added, "判决违约金差额"),
                                    ("court_costs", posting.costs, "判决业主负担诉讼费用")):
            if amount > ZERO:
                charge = ledger_services.create_charge(
                    unit_id=matter.unit_id, owner_id=matter.owner_id, charge_type_id=_charge_type(code),
                    period_start=award.decided_on, period_end=award.decided_on, amount=amount, due_date=due,
                    note=f"{label} {award.reference}"[:200],
                )
                charges.append(charge.pk)
        award.status, award.decided_by, award.decided_at, award.decision_note = (
            AwardStatus.POSTED, staff, timezone.now(), note)
        award.posted = {
            "principal_cut": f"{posting.principal_cut:.2f}", "late_fee_cut": f"{posting.late_fee_cut:.2f}",
            "late_fee_added": f"{posting.late_fee_added:.2f}", "costs": f"{posting.costs:.2f}",
            "waivers": waivers, "charges": charges,
        }
        award.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "posted"])
        record(actor=staff, action="legal.award_posted", community_id=matter.community_id, matter=matter.pk, award=award.pk,
               **{key: value for key, value in award.posted.items() if key not in ("waivers", "charges")})
    return award


def _paid_since(award: Award, matter: Matter) -> DomainError | None:
    """The refusal when the owner paid the claimed charges after the award's late-fee date: the payment
    went to the charges the award cuts, so the ledger cannot be set back to the award on that date."""
    paid = Allocation.objects.filter(charge_id__in=matter.claim_charges, payment__paid_on__gt=award.late_fee_as_of,
                                     payment__reversal__isnull=True)
    total = sum(paid.values_list("amount", flat=True), ZERO)
    if total <= ZERO:
        return None
    days = "、".join(sorted({day.isoformat() for day in paid.values_list("payment__paid_on", flat=True)}))
    return DomainError(
        f"业主在违约金计算截止日 {award.late_fee_as_of} 之后（{days}）已就诉请应收缴款 ¥{total}，该款已冲抵判决核减的月份，"
        "无法按该日过账：请驳回本次登记，并以最后一次缴款日为违约金计算截止日、扣除已缴金额后重新登记",
        f"the owner paid ¥{total} on the claimed charges after the late-fee date {award.late_fee_as_of} ({days}); "
        "it went to the periods the award cuts, so the award cannot be posted as of that date: reject this record and "
        "record the award again as of the last payment, less what was paid",
        code="paid_after_award",
    )


def reject_award(*, award: Award, staff, note: str) -> Award:
    """Send an award back (figures misread from the judgment): it stays on record, unposted."""
    note = _text(note, zh="驳回原因", en="reason")
    if not note:
        raise DomainError("驳回须写明原因", "a rejection needs a reason", code="reason")
    with transaction.atomic():
        _lock(award.matter)
        award = Award.objects.select_for_update().get(pk=award.pk)
        if award.status != AwardStatus.REQUESTED:
            raise DomainError("该裁判文书已审批", "this decision was already decided", code="decided")
        if award.recorded_by_id == staff.pk:
            raise DomainError("登记人不能审批自己登记的裁判文书", "the person who recorded it cannot decide on it",
                              code="four_eyes")
        award.status, award.decided_by, award.decided_at, award.decision_note = (
            AwardStatus.REJECTED, staff, timezone.now(), note)
        award.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        record(actor=staff, action="legal.award_rejected", community_id=award.community_id, award=award.pk)
    return award


# -- closing --------------------------------------------------------------------------------------


def close_matter(*, matter: Matter, outcome: str, closed_on, staff, note: str = "") -> Matter:
    """Close the matter; the case leaves legal hold and, if still owing, the ladder resumes."""
    if outcome not in MatterOutcome.values:
        raise DomainError(f"结案结果无效：{outcome}", f"unknown outcome: {outcome}", code="outcome")
    closed_on = _day(closed_on, zh="结案日期", en="closing date")
    note = _text(note, zh="结案说明", en="note")
    with transaction.atomic():
        matter = _lock(matter)
        if matter.status == MatterStatus.CLOSED and (matter.outcome, matter.closed_on, matter.close_note) == (
                outcome, closed_on, note):
            return matter  # the form sent twice: closed once
        _require_open(matter)
        if closed_on < matter.opened_on:
            raise DomainError("结案日期不能早于立项日期", "the closing date cannot precede the opening", code="date")
        if Award.objects.filter(matter=matter, status=AwardStatus.REQUESTED).exists():
            raise DomainError("还有待审批的裁判文书，请先审批", "a decision is waiting for approval: decide it first",
                              code="pending")
        matter.status, matter.outcome, matter.closed_on, matter.close_note = MatterStatus.CLOSED, outcome, closed_on, note
        matter.save(update_fields=["status", "outcome", "closed_on", "close_note"])
        collection_services.set_legal_hold(case=matter.case, held=False)
        record(actor=staff, action="legal.matter_closed", community_id=matter.community_id, matter=matter.pk,
               outcome=outcome)
    return matter
