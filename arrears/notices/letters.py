"""催费函 and 律师函: choose who gets one, issue a numbered batch, record delivery.

A letter is a written demand (书面催交) only once it reached the owner: recording its delivery
logs a `ContactAttempt` (channel letter, outcome delivered), which is the limitation event
(民法典第195条) of the charges it lists, completes the ladder task, and starts the quiet period
(7 days after a collection letter; until the deadline after a lawyer letter).

Lawyer letters follow DESIGN.md §2 ⑨: only when all care failed, arrears are deliberate and at
least 3 months old, and two collection letters were delivered and ignored; never many at once —
at most one owner per building within `lawyer_letter_building_days`, unless a manager
overrides with a reason.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from arrears.collection import guard, limitation, services
from arrears.collection.assess import policies_by_community, policy_or_default
from arrears.collection.models import (
    Case,
    CaseStatus,
    Channel,
    ChargeDispute,
    ContactAttempt,
    InstalmentPlan,
    LimitationEvent,
    LimitationEventKind,
    Outcome,
    OwnerProfile,
    Persona,
    PlanStatus,
    PromiseStatus,
    ProofKind,
    Task,
    TaskStatus,
)
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import record
from arrears.core.money import ZERO
from arrears.estate.models import ServiceTicket, TicketKind
from arrears.ledger.models import Payment

from . import pdf, reminders, texts
from .context import figures_by_owner, owner_context, salutation
from .models import (
    TRACKED_METHODS,
    DeliveryCorrection,
    DeliveryMethod,
    Letter,
    LetterBatch,
    LetterCounter,
    LetterKind,
    LetterStatus,
)

COLLECTION_DEADLINE_DAYS = 15
LAWYER_DEADLINE_DAYS = 14  # DESIGN.md §2 ⑨
COLLECTION_QUIET_DAYS = 7  # ⑧: no contact for 7 days after the letter
MAX_BATCH = 200
LETTER_CHANNEL = {LetterKind.COLLECTION: Channel.LETTER, LetterKind.LAWYER: Channel.LAWYER_LETTER}
NUMBER_PREFIX = {LetterKind.COLLECTION: "CF", LetterKind.LAWYER: "LS"}
# ⑨ "start with one: the most cautious": owners likelier to pay once a lawyer writes go first.
CAUTION_ORDER = {Persona.UNDERSTANDING: 0, Persona.NEGLECTFUL: 1, "": 2, Persona.RESISTANT: 3, Persona.EVASIVE: 4}


@dataclass
class Candidate:
    case: Case
    eligible: bool = True
    reasons: list[str] = field(default_factory=list)
    building_conflict: str = ""
    proposed: bool = False
    letters_delivered: int = 0

    @property
    def building_id(self) -> int:
        return self.case.unit.building_id


# ----------------------------------------------------------------------------- eligibility


def lawyer_letter_checks(cases: list[Case], as_of: date) -> dict[int, Candidate]:
    """⑨ checked case by case on today's facts, with the reason for every "no"."""
    ids = [case.pk for case in cases]
    pairs = {(case.unit_id, case.owner_id) for case in cases}
    unit_ids = {unit_id for unit_id, _ in pairs}
    last_paid = dict(
        ((u, o), day) for u, o, day in Payment.objects.filter(unit_id__in=unit_ids, paid_on__lte=as_of)
        .exclude(reversal__reversed_on__lte=as_of).values_list("unit_id", "owner_id").annotate(last=Max("paid_on")).order_by()
    )
    delivered = defaultdict(list)
    for case_id, at in ContactAttempt.objects.filter(
        case_id__in=ids, channel=Channel.LETTER, outcome=Outcome.DELIVERED, corrects__isnull=True,
    ).values_list("case_id", "at"):
        delivered[case_id].append(timezone.localdate(at))
    # The current version of each contact, never a third party's (who can refuse nothing for the owner).
    refused = set(ContactAttempt.objects.current().filter(case_id__in=ids, outcome=Outcome.REFUSED, third_party=False)
                  .values_list("case_id", flat=True))
    broken = defaultdict(int)
    for case_id in Case.objects.filter(pk__in=ids, promises__status=PromiseStatus.BROKEN).values_list("pk", flat=True):
        broken[case_id] += 1
    deliberate_owners = set(OwnerProfile.objects.filter(owner_id__in={o for _, o in pairs}, intent="deliberate")
                            .values_list("owner_id", flat=True))
    on_plan = set(InstalmentPlan.objects.filter(case_id__in=ids, status=PlanStatus.ACCEPTED).values_list("case_id", flat=True))
    disputed_units = set(ChargeDispute.objects.filter(charge__unit_id__in=unit_ids, closed_on__isnull=True)
                         .values_list("charge__unit_id", flat=True))
    rectifying = set(ServiceTicket.objects.filter(unit_id__in=unit_ids, closed_on__isnull=True).filter(
        Q(kind=TicketKind.RECTIFICATION) | Q(kind=TicketKind.COMPLAINT)).values_list("unit_id", flat=True))
    result = {}
    for case in cases:
        found = Candidate(case=case)
        reasons = found.reasons
        if case.status != CaseStatus.OPEN:
            reasons.append("案件已结案 / the case is closed")
        days = (as_of - case.oldest_due).days
        if days < 90:
            reasons.append(f"欠费仅 {days} 天，未满 3 个月 / arrears are {days} days old, under 3 months")
        paid = last_paid.get((case.unit_id, case.owner_id))
        ignored = [day for day in delivered[case.pk] if paid is None or paid < day]
        found.letters_delivered = len(ignored)
        if len(ignored) < 2:
            reasons.append(f"已送达且未回应的催费函 {len(ignored)} 封，须至少 2 封 / "
                           f"{len(ignored)} collection letters delivered and ignored; 2 are needed")
        if not (case.owner_id in deliberate_owners or case.pk in refused or broken[case.pk] >= 2):
            reasons.append("未认定为恶意欠费（拒缴、两次失约或画像为恶意） / arrears not established as deliberate")
        if case.pk in on_plan:
            reasons.append("分期计划执行中 / an instalment plan is running")
        if case.unit_id in disputed_units:
            reasons.append("费用异议处理中 / a charge dispute is open")
        if case.unit_id in rectifying:
            reasons.append("投诉或整改尚未办结：关怀未尽 / a complaint or rectification is still open")
        found.eligible = not reasons
        result[case.pk] = found
    return result


def building_conflicts(candidates: list[Candidate], issued_on: date) -> None:
    """Mark every candidate that would be a second lawyer letter in its building within the window."""
    by_community = defaultdict(list)
    for candidate in candidates:
        by_community[candidate.case.community_id].append(candidate)
    policies = policies_by_community(by_community)
    for community_id, group in by_community.items():
        days = policy_or_default(policies, community_id).lawyer_letter_building_days
        since = issued_on - timedelta(days=max(days, 1) - 1)
        recent = dict(
            Letter.objects.filter(community_id=community_id, kind=LetterKind.LAWYER, issued_on__gte=since,
                                  issued_on__lte=issued_on).exclude(status=LetterStatus.CANCELLED)
            .values_list("unit__building_id", "number")
        )
        taken = dict(recent)
        for candidate in group:
            building = candidate.building_id
            if building in taken:
                candidate.building_conflict = (
                    f"{candidate.case.unit.building.name} {days} 天内已有律师函（{taken[building]}） / "
                    f"building already has a lawyer letter within {days} days ({taken[building]})"
                )
            else:
                taken[building] = "本批 / this batch"


def propose(candidates: list[Candidate], issued_on: date) -> list[Candidate]:
    """Order for a lawyer-letter batch: eligible first, one per building, the most cautious first."""
    personas = dict(OwnerProfile.objects.filter(owner_id__in={c.case.owner_id for c in candidates})
                    .values_list("owner_id", "persona"))

    def rank(candidate):
        persona = personas.get(candidate.case.owner_id) or candidate.case.suggested_persona or ""
        return (not candidate.eligible, CAUTION_ORDER.get(persona, 2), -(issued_on - candidate.case.oldest_due).days,
                -candidate.case.principal, candidate.case.pk)

    ordered = sorted(candidates, key=rank)
    building_conflicts(ordered, issued_on)
    for candidate in ordered:
        candidate.proposed = candidate.eligible and not candidate.building_conflict
    return ordered


def lawyer_candidates(community_ids, issued_on: date) -> list[Candidate]:
    """Cases whose ladder asks for a lawyer letter, checked and ordered for the page."""
    cases = list(
        Case.objects.filter(status=CaseStatus.OPEN, tasks__channel=Channel.LAWYER_LETTER, tasks__status=TaskStatus.OPEN,
                            community_id__in=list(community_ids))
        .select_related("unit__building", "owner", "community").distinct()
    )
    checks = lawyer_letter_checks(cases, issued_on)
    return propose([checks[case.pk] for case in cases], issued_on)


# ----------------------------------------------------------------------------- no second letter


@dataclass(frozen=True)
class RecentLetter:
    number: str
    issued_on: date
    days: int  # the policy's window


def recent_letters(cases: list[Case], kind: str, as_of: date) -> dict[int, RecentLetter]:
    """Cases whose owner of the unit got a letter of this kind within the community's `letter_repeat_days`.

    By unit and owner, not by case: a case closed and reopened is the same household, and one
    letter a month is what the policy promises it (two queries, however many cases).
    """
    if not cases:
        return {}
    policies = policies_by_community({case.community_id for case in cases})
    window = {cid: policy_or_default(policies, cid).letter_repeat_days for cid in {case.community_id for case in cases}}
    longest = max(window.values())
    if longest <= 0:
        return {}
    latest = {}
    for unit_id, owner_id, number, issued_on in (
        Letter.objects.filter(kind=kind, unit_id__in={case.unit_id for case in cases}, issued_on__gt=as_of - timedelta(days=longest))
        .exclude(status=LetterStatus.CANCELLED).order_by("issued_on", "pk").values_list("unit_id", "owner_id", "number", "issued_on")
    ):
        latest[(unit_id, owner_id)] = (number, issued_on)
    found = {}
    for case in cases:
        days = window[case.community_id]
        hit = latest.get((case.unit_id, case.owner_id))
        if hit and days > 0 and hit[1] > as_of - timedelta(days=days):
            found[case.pk] = RecentLetter(number=hit[0], issued_on=hit[1], days=days)
    return found


# ----------------------------------------------------------------------------- issuing


def _format_number(community_id: int, kind: str, year: int, serial: int) -> str:
    return f"{NUMBER_PREFIX[kind]}{community_id:03d}-{year}-{serial:05d}"


def _peek_number(community_id: int, kind: str, year: int) -> int:
    """The counter's last number now; the batch takes the ones after it if nobody else does first."""
    return LetterCounter.objects.filter(community_id=community_id, kind=kind, year=year).values_list(
        "last", flat=True).first() or 0


def _take_numbers(community_id: int, kind: str, year: int, start: int, count: int) -> bool:
    """Take start+1 … start+count under the counter's row lock, if the counter still stands at `start`."""
    counter, _ = LetterCounter.objects.get_or_create(community_id=community_id, kind=kind, year=year)
    counter = LetterCounter.objects.select_for_update().get(pk=counter.pk)
    if counter.last != start:
        return False
    counter.last = start + count
    counter.save(update_fields=["last"])
    return True


def _letterhead(company) -> pdf.Letterhead:
    bank = getattr(settings, "ARREARS_BANK_ACCOUNT", {}) or {}
    return pdf.Letterhead(company=company.name, address=company.address, phone=company.phone,
                          service_phone=company.phone, bank_name=bank.get("bank", ""), bank_account=bank.get("account", ""),
                          account_name=bank.get("name", "") or company.name, seal_text="（盖章）")


def _law_firm() -> pdf.LawFirm | None:
    firm = getattr(settings, "ARREARS_LAW_FIRM", {}) or {}
    if not firm.get("name"):
        return None
    return pdf.LawFirm(name=firm["name"], address=firm.get("address", ""), phone=firm.get("phone", ""),
                       lawyer=firm.get("lawyer", ""), licence_no=firm.get("licence_no", ""))


def _template_code(kind: str, case: Case) -> str:
    if kind == LetterKind.LAWYER:
        return "lawyer_letter"
    earlier = Letter.objects.filter(case=case, kind=LetterKind.COLLECTION).exclude(status=LetterStatus.CANCELLED).exists()
    return "collection_letter_2" if earlier else "collection_letter"


def _validate_batch(kind, cases, issued_on, staff, override_reason) -> list[Candidate] | None:
    if kind not in LetterKind.values:
        raise DomainError(f"函件类型无效：{kind}", f"unknown letter kind: {kind}", code="kind")
    if not cases:
        raise DomainError("请至少选择一个案件", "choose at least one case", code="cases")
    if len(cases) > MAX_BATCH:
        raise DomainError(f"一批最多 {MAX_BATCH} 份", f"at most {MAX_BATCH} letters in one batch", code="cases")
    if len({case.community_id for case in cases}) > 1:
        raise DomainError("一批函件只能属于同一个小区", "one batch holds letters of one community only", code="cases")
    if issued_on > timezone.localdate():
        raise DomainError("出函日期不能晚于今天", "the issue date cannot be in the future", code="issued_on")
    closed = [case for case in cases if case.status != CaseStatus.OPEN]
    if closed:
        raise DomainError(f"已结案的案件不能出函：{'、'.join(c.unit.label for c in closed)}",
                          f"closed cases cannot get a letter: {', '.join(c.unit.label for c in closed)}", code="cases")
    recent = recent_letters(cases, kind, issued_on)
    if recent:
        lines = [(case.unit.label, recent[case.pk]) for case in cases if case.pk in recent]
        raise DomainError(
            "以下业主近期已出过同类函件，间隔未满期限，不再出函：" + "；".join(
                f"{label} {r.issued_on:%Y-%m-%d} 已出 {r.number}（{r.days} 天内不再出函）" for label, r in lines),
            "these owners had the same kind of letter recently: " + "; ".join(
                f"{label} got {r.number} on {r.issued_on:%Y-%m-%d} (none again within {r.days} days)" for label, r in lines),
            code="recent")
    decisions = guard.check_many([
        guard.ContactRequest(owner_id=case.owner_id, unit_id=case.unit_id, channel=LETTER_CHANNEL[kind],
                             at=timezone.make_aware(datetime.combine(issued_on, time(10, 0))), case_id=case.pk)
        for case in cases
    ])
    refused = [f"{case.unit.label}：{decision.reason}" for case, decision in zip(cases, decisions, strict=True)
               if not decision.allowed]
    if refused:
        raise DomainError("以下案件不能出函：" + "；".join(refused), "these cases cannot get a letter: " + "; ".join(refused),
                          code="guard")
    if kind != LetterKind.LAWYER:
        return None
    if not staff.has_perm("notices.issue_lawyer_letter"):
        raise DomainError("只有法务或经理可以出具律师函", "only legal staff or a manager may issue lawyer letters", code="permission")
    if _law_firm() is None:
        raise DomainError("未配置律师事务所（设置 LAW_FIRM_NAME 等）", "no law firm configured (set LAW_FIRM_NAME etc.)",
                          code="law_firm")
    checks = lawyer_letter_checks(cases, issued_on)
    failing = [f"{checks[c.pk].case.unit.label}：{'；'.join(checks[c.pk].reasons)}" for c in cases if not checks[c.pk].eligible]
    if failing:
        raise DomainError("不符合律师函条件：" + " | ".join(failing), "not eligible for a lawyer letter: " + " | ".join(failing),
                          code="eligibility")
    candidates = [checks[case.pk] for case in cases]
    building_conflicts(candidates, issued_on)
    conflicts = [c for c in candidates if c.building_conflict]
    if conflicts:
        if not staff.has_perm("notices.override_lawyer_limit"):
            raise DomainError("同一楼栋一周内只能向一户发律师函：" + "；".join(c.building_conflict for c in conflicts),
                              "one owner per building per week: " + "; ".join(c.building_conflict for c in conflicts),
                              code="building_limit")
        if len(override_reason.strip()) < 4:
            raise DomainError("同楼栋多户发律师函须由经理注明理由", "a manager must give a reason to send more than one per building",
                              code="override_reason")
    return candidates


@dataclass
class PreparedBatch:
    """A batch that passed every check: what is rendered and written next."""

    kind: str
    issued_on: date
    deadline: date
    override_reason: str
    overridden: bool
    rows: list  # (case, figures, template)
    tasks: dict
    on_record: dict
    firm: pdf.LawFirm | None

    @property
    def community_id(self) -> int:
        return self.rows[0][0].community_id


def prepare_batch(*, kind: str, cases: list[Case], issued_on: date, staff, override_reason: str = "",
                  deadline: date | None = None) -> PreparedBatch:
    """Every check of a batch, quick enough for the request: the refusal says why before anything is rendered."""
    cases = list(Case.objects.filter(pk__in=[c.pk for c in cases]).select_related(
        "unit__building", "unit__community__company", "owner", "community", "collector__staff_profile",
    ).order_by("unit__building__sort_key", "unit__sort_key", "pk"))
    candidates = _validate_batch(kind, cases, issued_on, staff, override_reason)
    overridden = bool(candidates and any(c.building_conflict for c in candidates))
    deadline = deadline or issued_on + timedelta(days=LAWYER_DEADLINE_DAYS if kind == LetterKind.LAWYER else COLLECTION_DEADLINE_DAYS)
    if deadline <= issued_on:
        raise DomainError("缴费期限须晚于出函日期", "the deadline must be after the issue date", code="deadline")
    channel = LETTER_CHANNEL[kind]
    prepared = []
    owed = figures_by_owner(unit_ids={case.unit_id for case in cases}, as_of=issued_on)
    on_record = reminders.on_record({(case.unit_id, case.owner_id) for case in cases}, until=issued_on)
    for case in cases:
        numbers = owed.get((case.unit_id, case.owner_id))
        if numbers is None or numbers.total <= ZERO:
            raise DomainError(f"{case.unit.label} 已无欠费，不能出函", f"{case.unit.label} owes nothing: no letter", code="nothing_owed")
        code = _template_code(kind, case)
        template = texts.template_for(case.community_id, code, channel)
        if template is None:
            raise DomainError(f"没有可用的函件模板：{code}", f"no active letter template: {code}", code="template")
        prepared.append((case, numbers, template))
    tasks = {
        task.case_id: task for task in Task.objects.filter(case_id__in=[c.pk for c in cases], channel=channel,
                                                           status=TaskStatus.OPEN).order_by("due_on", "pk")
    }
    return PreparedBatch(kind=kind, issued_on=issued_on, deadline=deadline, override_reason=override_reason.strip(),
                         overridden=overridden, rows=prepared, tasks=tasks, on_record=on_record,
                         firm=_law_firm() if kind == LetterKind.LAWYER else None)


RENDER_TRIES = 3


def issue_batch(*, kind: str, cases: list[Case], issued_on: date, staff, override_reason: str = "",
                deadline: date | None = None, progress=None) -> LetterBatch:
    """Validate every letter, render them outside the lock, then number and store them all in one transaction.

    Rendering takes most of the time (a sixth of a second a letter), so it happens before the
    transaction, with the numbers the counter will give next; `progress(done, total)` is told after
    each letter and its writes are seen at once. If another batch of the community took numbers
    meanwhile, the letters are rendered again with the next ones: numbers stay gapless and in order.
    """
    batch = prepare_batch(kind=kind, cases=cases, issued_on=issued_on, staff=staff, override_reason=override_reason,
                          deadline=deadline)
    for _ in range(RENDER_TRIES):
        start = _peek_number(batch.community_id, kind, issued_on.year)
        files, rendered = _render(batch, start, progress)
        merged = pdf.merge([data for _, data in files])
        archive = pdf.zip_letters(files)
        written = []  # files stored so far: if the transaction rolls back, no numbered PDF outlives it
        try:
            with transaction.atomic():
                if not _take_numbers(batch.community_id, kind, issued_on.year, start, len(rendered)):
                    continue
                # Under the counter's lock: a batch of the same owners that committed meanwhile is seen here.
                recent = recent_letters([case for case, *_ in batch.rows], kind, issued_on)
                if recent:
                    raise DomainError("同一批业主刚刚已由另一批次出函，本批未生成", "another batch just issued letters to these "
                                      "owners: nothing issued", code="recent")
                return _write(batch, rendered, files, merged, archive, staff, written)
        except BaseException:
            for field in written:
                field.storage.delete(field.name)
            raise
    raise DomainError("其他批次正在占用函号，请稍后重试", "other batches keep taking letter numbers: try again shortly",
                      code="busy")


def _render(batch: PreparedBatch, start: int, progress):
    files, rendered = [], []
    total = len(batch.rows)
    for index, (case, numbers, template) in enumerate(batch.rows, start=1):
        number = _format_number(case.community_id, batch.kind, batch.issued_on.year, start + index)
        content, body = _content(batch.kind, case, numbers, template, number, batch.issued_on, batch.deadline, batch.firm,
                                 batch.on_record.get((case.unit_id, case.owner_id), []))
        data = pdf.render_letter(content)
        rendered.append((case, numbers, template, number, body, data))
        files.append((f"{number}.pdf", data))
        if progress is not None:
            progress(index, total)
    return files, rendered


def _write(batch: PreparedBatch, rendered, files, merged, archive, staff, written: list) -> LetterBatch:
    row = LetterBatch.objects.create(
        community_id=batch.community_id, kind=batch.kind, issued_on=batch.issued_on, deadline=batch.deadline,
        count=len(rendered), override_reason=batch.override_reason if batch.overridden else "",
        override_by=staff if batch.overridden else None, created_by=staff,
    )
    for case, numbers, template, number, body, data in rendered:
        letter = Letter(
            community_id=case.community_id, batch=row, case=case, unit=case.unit, owner=case.owner,
            task=batch.tasks.get(case.pk), kind=batch.kind, template_code=template.code, number=number,
            issued_on=batch.issued_on, deadline=batch.deadline, as_of=batch.issued_on, principal=numbers.principal,
            late_fee=numbers.late_fee, content=body, pdf_sha256=pdf.sha256(data), created_by=staff,
        )
        letter.pdf.save(f"{number}.pdf", ContentFile(data), save=False)
        written.append(letter.pdf)
        letter.save()
    row.merged_sha256, row.zip_sha256 = pdf.sha256(merged), pdf.sha256(archive)
    stem = f"{NUMBER_PREFIX[batch.kind]}-{batch.issued_on:%Y%m%d}-{row.pk}"
    row.merged_pdf.save(f"{stem}.pdf", ContentFile(merged), save=False)
    written.append(row.merged_pdf)
    row.zip_file.save(f"{stem}.zip", ContentFile(archive), save=False)
    written.append(row.zip_file)
    row.save()
    record(actor=staff, action="letters.issue", community_id=row.community_id, batch=row.pk, kind=batch.kind,
           count=len(files), override=batch.overridden)
    return row


def _money(value) -> str:
    return f"{value:.2f}"


def _content(kind, case, numbers, template, number, issued_on, deadline, firm, earlier):
    """The letter as printed and as frozen: the reminders it states are in the frozen content too."""
    company = case.unit.community.company
    context = owner_context(unit=case.unit, owner=case.owner, numbers=numbers, today=issued_on)
    context.update({
        "due_date": f"{deadline:%Y-%m-%d}", "deadline": pdf.format_date(deadline), "as_of": pdf.format_date(issued_on),
        "letter_number": number, "law_firm": firm.name if firm else "", "reminders": reminders.sentence(earlier),
    })
    paragraphs = texts.paragraphs(texts.render(texts.without_unrecorded_claims(template.body), context))
    letterhead = _letterhead(company)
    online = texts.online_payment()
    methods = [texts.render(line, context)
               for line in texts.offered_methods(template.payment_methods, online=online, bank=bool(letterhead.bank_account))]
    lines = [
        pdf.LetterLine(period=f"{line.period_start:%Y.%m.%d}–{line.period_end:%Y.%m.%d}", item=line.charge_type,
                       due_on=line.due, amount=line.amount, paid=line.paid + line.waived, outstanding=line.outstanding,
                       late_fee=line.late_fee)
        for line in numbers.lines
    ]
    content = pdf.LetterContent(
        kind=kind, number=number, issued_on=issued_on, deadline=deadline, addressee=salutation(case.owner),
        owner_name=case.owner.name, community=case.unit.community.name, unit=case.unit.label, lines=tuple(lines),
        as_of=issued_on, paragraphs=tuple(paragraphs), payment_methods=tuple(methods),
        payment_link=context["payment_link"], online_payment=online, legal_basis=tuple(pdf.default_legal_basis(kind)),
        letterhead=letterhead, law_firm=firm, signatory=company.name,
        contact_name=roles.real_name(case.collector) if case.collector_id else "",
        contact_phone=roles.staff_phone(case.collector, fallback=company.phone) if case.collector_id else "",
    )
    frozen = {
        "paragraphs": paragraphs, "payment_methods": methods, "payment_link": context["payment_link"], "online_payment": online,
        "lines": [{"charge_id": line.charge_id, "item": line.charge_type, "period_start": f"{line.period_start}",
                   "period_end": f"{line.period_end}", "due": f"{line.due}", "amount": _money(line.amount),
                   "paid": _money(line.paid + line.waived), "outstanding": _money(line.outstanding),
                   "late_fee": _money(line.late_fee)} for line in numbers.lines],
        "principal": _money(numbers.principal), "late_fee": _money(numbers.late_fee), "total": _money(numbers.total),
        "reminders": [reminder.as_json() for reminder in earlier[-reminders.LIMIT:]], "reminders_total": len(earlier),
        "contact": pdf.contact_line(content),
    }
    return content, frozen


# ----------------------------------------------------------------------------- delivery


def record_delivery(*, letter: Letter, method: str, delivered_on: date, staff, tracking_no: str = "", proof=None,
                    note: str = "") -> Letter:
    """The letter reached the owner: evidence, limitation restart, task done, quiet period."""
    tracking_no, note = tracking_no.strip(), note.strip()
    if letter.status != LetterStatus.ISSUED:
        raise DomainError(f"只有“已出函”的函件可以登记送达（当前：{letter.get_status_display()}）",
                          f"only an issued letter can be marked delivered (now {letter.status})", code="status")
    if method not in DeliveryMethod.values:
        raise DomainError(f"送达方式无效：{method}", f"unknown delivery method: {method}", code="method")
    if not isinstance(delivered_on, date) or delivered_on < letter.issued_on or delivered_on > timezone.localdate():
        raise DomainError(f"送达日期须在出函日 {letter.issued_on} 至今天之间",
                          f"the delivery date must fall between the issue date {letter.issued_on} and today", code="delivered_on")
    if method in TRACKED_METHODS and not tracking_no:
        raise DomainError("挂号信或 EMS 须填写邮件单号", "registered mail and EMS need a tracking number", code="tracking_no")
    if method == DeliveryMethod.HAND and proof is None:
        raise DomainError("当面送达须上传业主签收的扫描件或照片", "hand delivery needs the owner's signed receipt (scan or photo)",
                          code="proof")
    if proof is not None and proof.size > 10 * 1024 * 1024:
        raise DomainError("凭证文件不能超过 10 MB", "the proof file may not exceed 10 MB", code="proof")
    case = letter.case
    detail = f"{letter.get_kind_display()} {letter.number} · {DeliveryMethod(method).label}" + (f" {tracking_no}" if tracking_no else "")
    data = proof.read() if proof is not None else b""
    if proof is not None and not data:
        raise DomainError("凭证文件是空的", "the proof file is empty", code="proof")
    # The written demand's limitation event is proven by the tracking number of a posted letter or
    # by the owner's signed receipt (民法典第195条 needs the demand to have reached the owner).
    delivery = limitation.LetterDelivery(
        number=letter.number, method=str(DeliveryMethod(method).label),
        tracking_no=tracking_no if method in TRACKED_METHODS else "",
        receipt_sha256=hashlib.sha256(data).hexdigest() if data else "",
    )
    with transaction.atomic():
        attempt = services.log_attempt(
            unit=letter.unit, owner=letter.owner, channel=LETTER_CHANNEL[letter.kind], outcome=Outcome.DELIVERED, staff=staff,
            case=case, at=timezone.make_aware(datetime.combine(delivered_on, time(12, 0))),
            notes=(detail + (f"；{note}" if note else ""))[:1000],
            task=letter.task if letter.task_id and letter.task.status == TaskStatus.OPEN else None, letter=delivery,
        )
        if attempt.outcome == Outcome.BLOCKED:
            raise DomainError(f"不能登记送达：{attempt.blocked_reason}", f"cannot record delivery: {attempt.blocked_reason}",
                              code="guard")
        if proof is not None:
            letter.proof_sha256 = delivery.receipt_sha256
            letter.proof.save(f"{letter.number}-{proof.name}"[-120:], ContentFile(data), save=False)
        letter.status, letter.delivery_method, letter.tracking_no = LetterStatus.DELIVERED, method, tracking_no
        letter.delivered_on, letter.delivery_note, letter.attempt, letter.recorded_by = delivered_on, note[:300], attempt, staff
        letter.save()
        quiet = letter.deadline if letter.kind == LetterKind.LAWYER else delivered_on + timedelta(days=COLLECTION_QUIET_DAYS)
        if case.status == CaseStatus.OPEN and (case.quiet_until is None or case.quiet_until < quiet):
            Case.objects.filter(pk=case.pk).update(quiet_until=quiet)
        record(actor=staff, action="letters.delivered", community_id=letter.community_id, letter=letter.pk, method=method)
    return letter


def attach_delivery_proof(*, letter: Letter, upload, staff) -> Letter:
    """Prove a delivered letter's written demand later (the signed receipt of a letter sent by SMS link
    or WeChat, say): a new proof row on its limitation event; the letter itself stays as recorded."""
    if letter.status != LetterStatus.DELIVERED or letter.attempt_id is None:
        raise DomainError("只有已登记送达的函件可以补充送达凭证", "only a letter recorded as delivered can get its proof",
                          code="status")
    event = LimitationEvent.objects.filter(attempt_id=letter.attempt_id, kind=LimitationEventKind.WRITTEN_DEMAND).first()
    if event is None:
        raise DomainError("该函件没有时效中断事件", "the letter has no limitation event", code="event")
    with transaction.atomic():
        limitation.attach_proof(event=event, staff=staff, proof=limitation.Proof(
            kind=ProofKind.LETTER_DELIVERY, upload=upload, reference=letter.number))
        record(actor=staff, action="letters.delivery_proof", community_id=letter.community_id, letter=letter.pk)
    return letter


PROOF_LIMIT = 10 * 1024 * 1024


def correct_delivery(*, letter: Letter, staff, reason: str, method: str | None = None, tracking_no: str | None = None,
                     proof=None, note: str | None = None) -> DeliveryCorrection:
    """Correct how a delivered letter reached its owner: a new row with who, when and why.

    The record made at delivery and every earlier correction stay as they were; the latest
    correction is what counts (`Letter.delivery`). What is not given is carried over from the
    record that counts now. The delivery date and the outcome are the written demand itself and
    its limitation restart (民法典第195条): they are not changed here.
    """
    reason = reason.strip()
    if not reason or len(reason) > 300:
        raise DomainError("请说明更正原因（最多 300 字）", "say why the delivery record is corrected (at most 300 characters)",
                          code="reason")
    if letter.status != LetterStatus.DELIVERED or letter.delivery is None:
        raise DomainError(f"只有已送达的函件可以更正送达记录（当前：{letter.get_status_display()}）",
                          f"only a delivered letter's delivery record can be corrected (now {letter.status})", code="status")
    current = letter.delivery
    method = current.method if method is None else method
    tracking_no = current.tracking_no if tracking_no is None else tracking_no.strip()
    note = current.note if note is None else note.strip()
    if method not in DeliveryMethod.values:
        raise DomainError(f"送达方式无效：{method}", f"unknown delivery method: {method}", code="method")
    if method in TRACKED_METHODS and not tracking_no:
        raise DomainError("挂号信或 EMS 须填写邮件单号", "registered mail and EMS need a tracking number", code="tracking_no")
    if method == DeliveryMethod.HAND and proof is None and not current.proof:
        raise DomainError("当面送达须上传业主签收的扫描件或照片", "hand delivery needs the owner's signed receipt (scan or photo)",
                          code="proof")
    if proof is not None and proof.size > PROOF_LIMIT:
        raise DomainError("凭证文件不能超过 10 MB", "the proof file may not exceed 10 MB", code="proof")
    if len(tracking_no) > 60 or len(note) > 300:
        raise DomainError("邮件单号最多 60 字，说明最多 300 字", "a tracking number has at most 60 characters, a note 300",
                          code="length")
    if proof is None and (method, tracking_no, note) == (current.method, current.tracking_no, current.note):
        raise DomainError("更正内容与现有送达记录相同", "the correction changes nothing in the delivery record", code="unchanged")
    data = proof.read() if proof is not None else None
    with transaction.atomic():
        # One correction at a time per letter: the chain stays a line, the latest one counts.
        Letter.objects.select_for_update().filter(pk=letter.pk).values_list("pk", flat=True).get()
        latest = DeliveryCorrection.objects.filter(letter=letter).order_by("-pk").first()
        # The same correction sent twice (a double tap, a resent form) finds itself already counting.
        if latest is not None and (latest.delivery_method, latest.tracking_no, latest.delivery_note, latest.reason) == (
                method, tracking_no, note, reason) and (data is None or latest.proof_sha256 == hashlib.sha256(data).hexdigest()):
            raise DomainError("该更正已登记", "this correction is already recorded", code="unchanged")
        row = DeliveryCorrection(
            community_id=letter.community_id, letter=letter, corrects=latest, delivery_method=method, tracking_no=tracking_no,
            delivery_note=note, reason=reason, corrected_by=staff,
        )
        if data is not None:
            row.proof_sha256 = hashlib.sha256(data).hexdigest()
            row.proof.save(f"{letter.number}-{proof.name}"[-120:], ContentFile(data), save=False)
        else:
            row.proof, row.proof_sha256 = current.proof.name, current.proof_sha256
        row.save()
        if letter.attempt_id is not None and (row.delivery_method, row.tracking_no, row.proof_sha256) != (
                current.method, current.tracking_no, current.proof_sha256):
            # What proves the written demand changed: the demand follows the corrected record, and
            # proof the company withdrew stops holding the limitation period open.
            services.correct_letter_delivery(attempt=letter.attempt, staff=staff, correction_reason=reason,
                                             letter=limitation.LetterDelivery(
                                                 number=letter.number, method=str(DeliveryMethod(method).label),
                                                 tracking_no=tracking_no if method in TRACKED_METHODS else "",
                                                 receipt_sha256=row.proof_sha256))
        record(actor=staff, action="letters.delivery_corrected", community_id=letter.community_id, letter=letter.pk,
               correction=row.pk)
    return row


def record_return(*, letter: Letter, staff, note: str) -> Letter:
    """The post office returned it, or the owner refused to sign: not a written demand; the task stays open."""
    if letter.status != LetterStatus.ISSUED:
        raise DomainError("只有“已出函”的函件可以登记退回", "only an issued letter can be marked returned", code="status")
    if not note.strip():
        raise DomainError("请说明退回原因", "say why it came back", code="note")
    with transaction.atomic():
        letter.status, letter.delivery_note, letter.recorded_by = LetterStatus.RETURNED, note.strip()[:300], staff
        letter.save(update_fields=["status", "delivery_note", "recorded_by"])
        record(actor=staff, action="letters.returned", community_id=letter.community_id, letter=letter.pk)
    return letter
