"""The court evidence pack (证据包) of one collection case as of one date: one ZIP for the lawyer.

What goes in, numbered as the index (证据目录, 00_证据目录.pdf) lists it:

1. the community's property service contract and tariff basis (the latest upload of each kind on
   or before the date; the index says 未上传 where there is none, and the pack is still built);
2. the unit's ownership record; 3. the statement of charges with each charge's late fee as of the
   date (legal.claims, the one computation the complaint and the payment order state);
4. every letter to the owner on the unit, as stored, with its delivery proofs;
5. the contact log, blocked and rule-breaking contacts and corrections shown as such, with the
   recordings and photos as files, each listed with its SHA-256;
6. promises and instalment plans; 7. payments with their reversals; 8. the owner's complaints,
   disputes and service tickets with their resolution (the "service was poor" defence);
9. limitation events and their proofs (the claim is not time-barred);

and manifest.txt: the SHA-256 of every other file, in `sha256sum -c` form.

Nothing after the date appears: a row is in only if it happened (and, for logged evidence, was
logged) on or before it; a status reached later shows as it stood then. The same case and date
give a byte-identical ZIP: fixed entry dates (the date at 00:00), a fixed order, PDFs with a fixed
creation date and font bytes. Stored files are streamed into the ZIP (and hashed first, streamed
too): a case with hundreds of recordings never holds them in memory at once.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

from django.utils import timezone, translation

from arrears.collection.guard import GuardRule
from arrears.collection.models import (
    AttemptAttachment,
    Case,
    ChargeDispute,
    ContactAttempt,
    InstalmentPlan,
    LimitationEvent,
    LimitationProof,
    PlanStatus,
    Promise,
    PromiseStatus,
)
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.money import format_yuan
from arrears.estate.models import ContactRelation, Ownership, ServiceTicket
from arrears.ledger.models import Payment, PaymentReversal
from arrears.notices.models import DeliveryCorrection, Letter
from arrears.portal.models import Complaint

from . import pack_pdf
from .claims import claim
from .models import CommunityDocument, DocumentKind
from .pack_pdf import Document, Section, Table

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHUNK = 1 << 20  # files are copied and hashed a megabyte at a time
EARLIEST = date(1980, 1, 1)  # the earliest date a ZIP entry can carry
INDEX = "00_证据目录.pdf"
MANIFEST = "manifest.txt"
NOT_UPLOADED = "未上传"
REQUIRED_DOCUMENTS = (DocumentKind.CONTRACT, DocumentKind.TARIFF)


@dataclass(frozen=True)
class StoredFile:
    """A file from storage, to be streamed into the ZIP under `name`."""

    name: str
    storage_name: str
    storage: object
    recorded_sha256: str  # the hash kept when it was uploaded ("" if none was kept)
    sha256: str = ""  # the hash of the file as it is now ("" when the file is missing)
    size: int = 0

    @property
    def missing(self) -> bool:
        return not self.sha256

    @property
    def check(self) -> str:
        if self.missing:
            return "文件缺失"
        if not self.recorded_sha256:
            return "上传时未登记"
        return "与登记一致" if self.recorded_sha256 == self.sha256 else "与登记不符"


@dataclass
class Pack:
    """What the ZIP will hold, in order: generated files (bytes) and stored files (streamed)."""

    case: Case
    as_of: date
    entries: list[tuple[str, bytes | StoredFile]] = field(default_factory=list)
    warnings: list[DomainError] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.entries] + [MANIFEST]


def find_case(case_id) -> Case:
    """The case, or a DomainError saying there is none."""
    try:
        number = int(str(case_id).strip())
    except (TypeError, ValueError):
        number = None
    case = Case.objects.select_related("unit__building", "unit__community__company", "owner").filter(
        pk=number).first() if number is not None else None
    if case is None:
        raise DomainError(f"没有编号为 {case_id} 的催收案件", f"there is no collection case number {case_id}",
                          code="case_not_found")
    return case


def parse_date(text: str, *, today: date) -> date:
    """The pack's date from YYYY-MM-DD: not in the future, not before 1980."""
    try:
        value = date.fromisoformat(str(text).strip())
    except ValueError:
        raise DomainError(f"日期格式应为 YYYY-MM-DD：{text}", f"the date must be YYYY-MM-DD: {text!r}",
                          code="pack_date") from None
    check_date(value, today=today)
    return value


def check_date(value: date, *, today: date) -> None:
    if value > today:
        raise DomainError(f"证据包日期不能晚于今天（{today.isoformat()}）：{value.isoformat()}",
                          f"the pack's date cannot be after today ({today.isoformat()}): {value.isoformat()}",
                          code="pack_date_future")
    if value < EARLIEST:
        raise DomainError(f"证据包日期不能早于 {EARLIEST.isoformat()}", f"the pack's date cannot be before {EARLIEST.isoformat()}",
                          code="pack_date_early")


def build(case: Case, as_of: date) -> Pack:
    """Gather the case's evidence as of `as_of` and render its PDFs (stored files are hashed, not read in)."""
    pack_pdf.face_ready()  # no font: refused before anything is gathered
    with translation.override("zh-hans"):  # the pack goes to a Chinese court, whatever the user's language
        return _Builder(case, as_of).build()


def write(pack: Pack, target) -> None:
    """Write the pack's ZIP to `target` (a path or a binary file), streaming stored files, manifest last."""
    stamp = (pack.as_of.year, pack.as_of.month, pack.as_of.day, 0, 0, 0)
    lines = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in pack.entries:
            info = _info(name, stamp)
            if isinstance(content, bytes):
                archive.writestr(info, content)
                lines.append(f"{hashlib.sha256(content).hexdigest()}  {name}")
                continue
            digest = hashlib.sha256()
            with content.storage.open(content.storage_name, "rb") as source, archive.open(info, "w") as sink:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    sink.write(chunk)
            lines.append(f"{digest.hexdigest()}  {name}")
        archive.writestr(_info(MANIFEST, stamp), ("\n".join(lines) + "\n").encode())


def _info(name: str, stamp) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o644 << 16
    return info


# -- gathering ------------------------------------------------------------------------------------


def _day_end(as_of: date) -> datetime:
    return datetime.combine(as_of + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI)


def _when(value: datetime | None) -> str:
    return timezone.localtime(value, SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else "—"


def _day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def _money(value) -> str:
    return format_yuan(value, sign=False)


def _percent(ratio: Decimal, places: int) -> str:
    text = f"{ratio * 100:.{places}f}".rstrip("0").rstrip(".")
    return f"{text}%"


_UNSAFE = re.compile(r"[^\w.\-]+")


def _safe(text: str, limit: int = 60) -> str:
    return _UNSAFE.sub("_", text).strip("._")[:limit] or "file"


def _suffix(storage_name: str) -> str:
    suffix = PurePosixPath(storage_name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ""


PIECEWISE = "分段*"


def _days(line) -> str:
    """Days the fee ran: one figure only for a charge nothing was paid or waived on; else computed piecewise."""
    return PIECEWISE if line.piecewise else str(line.late_fee_days)


def _hash(stored: StoredFile) -> StoredFile:
    digest, size = hashlib.sha256(), 0
    try:
        with stored.storage.open(stored.storage_name, "rb") as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except (FileNotFoundError, OSError):
        return stored
    return StoredFile(stored.name, stored.storage_name, stored.storage, stored.recorded_sha256, digest.hexdigest(), size)


def _stored(name: str, file_field, recorded_sha256: str = "") -> StoredFile:
    return _hash(StoredFile(name, file_field.name, file_field.storage, recorded_sha256 or ""))


class _Builder:
    def __init__(self, case: Case, as_of: date):
        self.case, self.as_of, self.end = case, as_of, _day_end(as_of)
        self.unit, self.owner = case.unit, case.owner
        self.community = case.unit.community
        self.pack = Pack(case=case, as_of=as_of)
        self.index_rows: list[tuple[str, str, str, str]] = []  # number, evidence, files, what it proves
        self.attachment_names: dict[int, str] = {}  # attachment id -> its name in the ZIP (item 5)

    # The pack: each item adds its files and its index rows.
    def build(self) -> Pack:
        items = [self._documents, self._ownership, self._statement, self._letters, self._contacts,
                 self._arrangements, self._payments, self._complaints, self._limitation]
        body: list[tuple[str, Document | StoredFile]] = []
        for number, item in enumerate(items, start=1):
            # A file gone from storage is listed as missing (文件缺失) in its item, and left out of the ZIP;
            # the PDFs are rendered at the end, all from one cut of the font.
            body.extend(entry for entry in item(number) if not (isinstance(entry[1], StoredFile) and entry[1].missing))
        documents = [(INDEX, self._index()), *body]
        rendered = iter(pack_pdf.render_all([content for _, content in documents if isinstance(content, Document)]))
        self.pack.entries = [(name, next(rendered) if isinstance(content, Document) else content) for name, content in documents]
        names = [name for name, _ in self.pack.entries]
        assert len(names) == len(set(names)), "evidence pack file names must be unique"
        return self.pack

    def _document(self, title: str, sections: Iterable[Section]) -> Document:
        return (Document(title=title, facts=self._facts(), as_of=self.as_of, sections=tuple(sections),
                                        footer=self._footer(title)))

    def _facts(self) -> tuple[str, ...]:
        return (
            f"案件编号：{self.case.pk}　　小区：{self.community.name}　　房屋：{self.unit.label}　　业主：{self.owner.name}",
            f"证据截至：{self.as_of.isoformat()}（此日之后的记录均未列入）",
        )

    def _footer(self, title: str) -> str:
        return f"{self.community.company.name} · {title} · 案件 {self.case.pk} · 截至 {self.as_of.isoformat()}"

    # 1. contract and tariff basis
    def _documents(self, number: int):
        entries = []
        uploaded = CommunityDocument.objects.filter(community=self.community, uploaded_at__lt=self.end)
        kinds = [*REQUIRED_DOCUMENTS, DocumentKind.OTHER]
        for sub, kind in enumerate(kinds, start=1):
            latest = uploaded.filter(kind=kind).order_by("-uploaded_at", "-id").first()
            label = DocumentKind(kind).label
            if latest is None:
                if kind in REQUIRED_DOCUMENTS:
                    self.index_rows.append((f"{number}.{sub}", f"{label}：{NOT_UPLOADED}", "—", _PURPOSE[number]))
                    self.pack.warnings.append(DomainError(
                        f"小区 {self.community.name} 尚未上传{label}：证据目录注明“未上传”",
                        f"{self.community.name} has no {kind} document uploaded: the index says so (未上传)",
                        code="community_document_missing"))
                continue
            name = f"01_合同与收费依据/{kind}_{_safe(latest.title)}{_suffix(latest.file.name)}"
            stored = _stored(name, latest.file, latest.sha256)
            entries.append((name, stored))
            self.index_rows.append((f"{number}.{sub}", f"{label}：{latest.title}（{_when(latest.uploaded_at)} 上传）",
                                    f"{name}\nSHA-256 {stored.sha256 or stored.check}", _PURPOSE[number]))
        return entries

    # 2. ownership
    def _ownership(self, number: int):
        rows = []
        for period in Ownership.objects.filter(unit=self.unit, start__lte=self.as_of).select_related("owner").order_by("start", "id"):
            end = _day(period.end) if period.end and period.end <= self.as_of else f"至今（截至 {self.as_of.isoformat()}）"
            rows.append((period.owner.name, period.owner.get_kind_display(), period.owner.masked_id_number or "—",
                         period.start.isoformat(), end, "本案业主" if period.owner_id == self.owner.pk else ""))
        name = "02_房屋产权记录.pdf"
        data = self._document("房屋产权记录", [Section(
            f"{self.community.name} {self.unit.label}（建筑面积 {self.unit.floor_area} ㎡）的业主登记",
            table=Table(("业主", "类型", "证件号", "起始日期", "终止日期", "备注"), tuple(rows), (3, 1, 3, 2, 2.5, 1.5)))])
        self.index_rows.append((str(number), "房屋产权记录（业主及起止日期）", name, _PURPOSE[number]))
        return [(name, data)]

    # 3. statement of charges
    def _statement(self, number: int):
        owed = claim(unit_id=self.unit.pk, owner_id=self.owner.pk, as_of=self.as_of)
        rows = [(str(index), line.charge_type, f"{line.period_start.isoformat()}至{line.period_end.isoformat()}",
                 line.due.isoformat(), _money(line.amount), _money(line.paid), _money(line.waived),
                 _money(line.outstanding), f"{_percent(line.daily_rate, 4)}/日", str(line.grace_days),
                 _days(line), f"本金的 {_percent(line.cap, 2)}", _money(line.late_fee))
                for index, line in enumerate(owed.lines, start=1)]
        rows.append(("", "合计", "", "", _money(sum((line.amount for line in owed.lines), Decimal(0))),
                     _money(sum((line.paid for line in owed.lines), Decimal(0))),
                     _money(sum((line.waived for line in owed.lines), Decimal(0))), _money(owed.principal),
                     "", "", "", "", _money(owed.late_fee)))
        terms = self.community.contract_terms.strip()
        paragraphs = [
            f"截至 {self.as_of.isoformat()}：欠费本金 ¥{_money(owed.principal)}，违约金 ¥{_money(owed.late_fee)}，"
            f"合计 ¥{_money(owed.total)}（金额单位：元）。",
            "违约金按物业服务合同约定的日率，自到期日起扣除宽限天数后逐日计算，至上述日期止，并以约定上限（本金的比例）为限；"
            "《民法典》第五百八十五条规定，约定的违约金过分高于造成的损失的，人民法院可以适当减少。",
        ]
        if any(line.paid or line.waived for line in owed.lines):
            paragraphs.append(f"计费天数标“{PIECEWISE}”的费用曾部分或全部缴纳（或减免）：违约金按各时段未缴本金分段计算，"
                              "不是单一天数乘以金额。")
        if terms:
            paragraphs.append(f"合同收费及违约金条款：{terms}")
        name = "03_欠费及违约金计算明细.pdf"
        data = self._document("欠费及违约金计算明细", [Section("逐笔明细", tuple(paragraphs), Table(
            ("序号", "收费项目", "账期", "到期日", "金额", "已缴", "减免", "欠费本金", "日率", "宽限天数", "计费天数",
             "上限", "违约金"), tuple(rows), (1, 2.4, 4, 2.2, 2, 2, 1.8, 2.2, 1.8, 1.4, 1.4, 2, 2), bold_last=True))])
        self.index_rows.append((str(number), f"欠费及违约金计算明细（{len(owed.lines)} 笔，合计 ¥{_money(owed.total)}）", name,
                                _PURPOSE[number]))
        return [(name, data)]

    # 4. letters
    def _letters(self, number: int):
        entries = []
        letters = Letter.objects.filter(owner=self.owner, unit=self.unit, issued_on__lte=self.as_of).order_by("issued_on", "id")
        corrections: dict[int, list[DeliveryCorrection]] = {}
        for row in DeliveryCorrection.objects.filter(letter__in=letters, corrected_at__lt=self.end).order_by("pk"):
            corrections.setdefault(row.letter_id, []).append(row)
        for sub, letter in enumerate(letters, start=1):
            stem = f"04_函件/{sub:02d}_{_safe(letter.number)}"
            pdf = _stored(f"{stem}.pdf", letter.pdf, letter.pdf_sha256)
            entries.append((pdf.name, pdf))
            files = [f"{pdf.name}\nSHA-256 {pdf.sha256 or pdf.check}"]
            delivered = letter.delivered_on is not None and letter.delivered_on <= self.as_of
            if delivered:
                latest = (corrections.get(letter.pk) or [None])[-1]
                source = latest or letter
                delivery = (f"；{letter.delivered_on.isoformat()} 送达，{source.get_delivery_method_display() or '—'}"
                            + (f"，单号 {source.tracking_no}" if source.tracking_no else "")
                            + ("（送达记录经更正）" if latest else ""))
                proofs = [(letter.proof, letter.proof_sha256, "送达凭证")]
                proofs += [(row.proof, row.proof_sha256, f"送达凭证更正{index}")
                           for index, row in enumerate(corrections.get(letter.pk, []), start=1)]
                for proof, recorded, label in proofs:
                    if proof:
                        stored = _stored(f"{stem}_{label}{_suffix(proof.name)}", proof, recorded)
                        entries.append((stored.name, stored))
                        files.append(f"{stored.name}\nSHA-256 {stored.sha256 or stored.check}")
            else:
                delivery = f"；截至 {self.as_of.isoformat()} 未登记送达"
            self.index_rows.append((
                f"{number}.{sub}",
                f"{letter.get_kind_display()} {letter.number}：{letter.issued_on.isoformat()} 出函，金额截至 "
                f"{letter.as_of.isoformat()} 合计 ¥{_money(letter.total)}{delivery}",
                "\n".join(files), _PURPOSE[number]))
        if not entries:
            self.index_rows.append((str(number), f"函件：截至 {self.as_of.isoformat()} 未出函", "—", _PURPOSE[number]))
        return entries

    # 5. contact log with its attachments
    def _contacts(self, number: int):
        attempts = list(ContactAttempt.objects.filter(owner=self.owner, unit=self.unit, at__lt=self.end, created_at__lt=self.end)
                        .select_related("contact", "staff").order_by("at", "id"))
        position = {attempt.pk: index for index, attempt in enumerate(attempts, start=1)}
        # Versions as they stood on the date: a correction logged later does not supersede yet.
        newest: dict[int, int] = {}
        for attempt in attempts:
            if attempt.corrects_id in position:
                newest[attempt.corrects_id] = max(newest.get(attempt.corrects_id, 0), attempt.pk)
        rules, relations = dict(GuardRule.choices), dict(ContactRelation.choices)
        rows = []
        for index, attempt in enumerate(attempts, start=1):
            notes = []
            if attempt.outcome == "blocked" or attempt.blocked_rule:
                notes.append(f"已拦截：{rules.get(attempt.blocked_rule, attempt.blocked_rule)}——{attempt.blocked_reason or '—'}")
            if attempt.violation_rule:
                notes.append(f"违反规则：{rules.get(attempt.violation_rule, attempt.violation_rule)}——{attempt.violation_reason}")
            if attempt.third_party:
                notes.append("联系对象为第三方，未透露欠费")
            if attempt.corrects_id:
                notes.append(f"更正第 {position.get(attempt.corrects_id, '?')} 条：{attempt.correction_reason}")
            if attempt.pk in newest:
                notes.append(f"已被第 {position[newest[attempt.pk]]} 条更正")
            contact = attempt.contact
            whom = (f"{contact.get_relation_display()} {contact.name or ''} {contact.value}".replace("  ", " ")
                    if contact else relations.get(attempt.relation, attempt.relation) or "业主本人")
            rows.append((str(index), _when(attempt.at), attempt.get_channel_display(), whom.strip(),
                         attempt.get_outcome_display(), attempt.get_reason_display() if attempt.reason else "",
                         attempt.notes, roles.staff_label(attempt.staff, nobody="—"), "；".join(notes) or "—"))
        attachments = AttemptAttachment.objects.filter(attempt__in=[attempt.pk for attempt in attempts],
                                                       uploaded_at__lt=self.end).order_by("attempt__at", "attempt_id", "id")
        entries, attachment_rows = [], []
        for sub, attachment in enumerate(attachments, start=1):
            name = (f"05_催收记录附件/{sub:03d}_第{position[attachment.attempt_id]}条_{attachment.get_kind_display()}"
                    f"{_suffix(attachment.file.name)}")
            stored = _stored(name, attachment.file, attachment.sha256)
            entries.append((name, stored))
            self.attachment_names[attachment.pk] = name
            attachment_rows.append((str(sub), f"第 {position[attachment.attempt_id]} 条", attachment.get_kind_display(),
                                    _when(attachment.uploaded_at), name, stored.sha256 or "—", stored.check))
        name = "05_催收记录.pdf"
        data = self._document("催收记录（联系日志）", [
            Section("联系记录", ("每一次联系均如实记录，含被合规规则拦截的联系及其规则和原因；更正以新记录作出，原记录保留。",), Table(
                ("序号", "时间", "渠道", "联系对象", "结果", "原因", "记录", "经办人", "拦截/违规/更正"), tuple(rows),
                (0.8, 2.2, 1.3, 2.6, 1.3, 1.5, 4.5, 1.5, 4.3))),
            Section("录音、照片等附件（文件见 05_催收记录附件/）", table=Table(
                ("序号", "所属记录", "类型", "上传时间", "文件", "SHA-256", "核对"), tuple(attachment_rows),
                (0.8, 1.4, 1, 2, 5, 6, 1.6))),
        ])
        blocked = sum(1 for attempt in attempts if attempt.outcome == "blocked" or attempt.blocked_rule)
        self.index_rows.append((f"{number}.1", f"催收记录 {len(attempts)} 条（其中被拦截 {blocked} 条）", name, _PURPOSE[number]))
        self.index_rows.append((f"{number}.2", f"录音、照片等附件 {len(entries)} 个，逐个列明 SHA-256", "05_催收记录附件/",
                                _PURPOSE[number]))
        return [(name, data), *entries]

    # 6. promises and instalment plans
    def _arrangements(self, number: int):
        cases = Case.objects.filter(unit=self.unit, owner=self.owner)
        promise_rows = [(str(index), promise.made_on.isoformat(), promise.due_on.isoformat(), _money(promise.amount),
                         self._promise_status(promise))
                        for index, promise in enumerate(Promise.objects.filter(case__in=cases, made_on__lte=self.as_of)
                                                        .order_by("made_on", "id"), start=1)]
        plan_rows = []
        plans = InstalmentPlan.objects.filter(case__in=cases, proposed_on__lte=self.as_of).prefetch_related("instalments") \
            .order_by("proposed_on", "id")
        for index, plan in enumerate(plans, start=1):
            accepted = plan.accepted_on if plan.accepted_on and plan.accepted_on <= self.as_of else None
            instalments = "；".join(f"第{row.number}期 {row.due_on.isoformat()} ¥{_money(row.amount)}"
                                   for row in plan.instalments.all())
            plan_rows.append((str(index), plan.proposed_on.isoformat(), _money(plan.total), _day(accepted),
                              self._plan_status(plan), instalments or "—"))
        name = "06_承诺与分期.pdf"
        data = self._document("缴费承诺与分期计划", [
            Section("业主的缴费承诺", table=Table(("序号", "承诺于", "承诺缴费日期", "承诺金额", f"状态（截至 {self.as_of.isoformat()}）"),
                                            tuple(promise_rows), (0.8, 2, 2, 2, 3))),
            Section("分期计划", table=Table(("序号", "提出日期", "分期总额", "业主确认日期", f"状态（截至 {self.as_of.isoformat()}）", "各期"),
                                        tuple(plan_rows), (0.8, 2, 2, 2, 2.5, 8))),
        ])
        self.index_rows.append((str(number), f"缴费承诺 {len(promise_rows)} 次，分期计划 {len(plan_rows)} 份", name, _PURPOSE[number]))
        return [(name, data)]

    def _promise_status(self, promise: Promise) -> str:
        if promise.status != PromiseStatus.OPEN and (promise.resolved_on is None or promise.resolved_on <= self.as_of):
            return promise.get_status_display() + (f"（{promise.resolved_on.isoformat()}）" if promise.resolved_on else "")
        return PromiseStatus.OPEN.label

    def _plan_status(self, plan: InstalmentPlan) -> str:
        if plan.resolved_on and plan.resolved_on <= self.as_of:
            return f"{plan.get_status_display()}（{plan.resolved_on.isoformat()}）"
        if plan.accepted_on and plan.accepted_on <= self.as_of and plan.status != PlanStatus.PROPOSED:
            return PlanStatus.ACCEPTED.label
        if plan.status == PlanStatus.CANCELLED and plan.resolved_on is None:
            return plan.get_status_display()
        return PlanStatus.PROPOSED.label

    # 7. payments
    def _payments(self, number: int):
        payments = list(Payment.objects.filter(owner=self.owner, unit=self.unit, paid_on__lte=self.as_of).order_by("paid_on", "id"))
        reversals = {row.payment_id: row for row in PaymentReversal.objects.filter(
            payment__in=[payment.pk for payment in payments], reversed_on__lte=self.as_of)}
        rows, paid, reversed_total = [], Decimal(0), Decimal(0)
        for index, payment in enumerate(payments, start=1):
            reversal = reversals.get(payment.pk)
            paid += payment.amount
            if reversal:
                reversed_total += payment.amount
            note = f"重新登记已冲正的缴费（冲正 {payment.corrects_id}）" if payment.corrects_id else ""
            rows.append((str(index), payment.paid_on.isoformat(), _money(payment.amount), payment.get_method_display(),
                         payment.receipt_number or "—", payment.reference or "—",
                         f"{reversal.reversed_on.isoformat()} 冲正：{reversal.reason}" if reversal else "—", note or "—"))
        rows.append(("", "合计", _money(paid), "", "", "", f"冲正 {_money(reversed_total)}", f"净额 {_money(paid - reversed_total)}"))
        name = "07_缴费记录.pdf"
        data = self._document("缴费记录", [Section("业主就本房屋的缴费（含冲正）", table=Table(
            ("序号", "缴费日期", "金额", "方式", "票据号", "交易参考号", "冲正", "备注"), tuple(rows),
            (0.8, 2, 2, 1.8, 2.5, 3, 4.5, 3.5), bold_last=True))])
        self.index_rows.append((str(number), f"缴费记录 {len(payments)} 笔，净额 ¥{_money(paid - reversed_total)}", name, _PURPOSE[number]))
        return [(name, data)]

    # 8. complaints, disputes and service tickets
    def _complaints(self, number: int):
        ticket_rows = []
        for ticket in ServiceTicket.objects.filter(unit=self.unit, opened_on__lte=self.as_of).order_by("opened_on", "id"):
            closed = ticket.closed_on is not None and ticket.closed_on <= self.as_of
            ticket_rows.append((str(ticket.pk), ticket.opened_on.isoformat(), ticket.get_kind_display(), ticket.summary,
                                ticket.get_status_display() if closed else "处理中", _day(ticket.closed_on if closed else None),
                                ticket.resolution if closed else "", ticket.get_satisfaction_display() if closed and ticket.satisfaction else ""))
        dispute_rows = []
        for dispute in ChargeDispute.objects.filter(charge__unit=self.unit, charge__owner=self.owner,
                                                    opened_on__lte=self.as_of).select_related("charge__charge_type").order_by("opened_on", "id"):
            closed = dispute.closed_on is not None and dispute.closed_on <= self.as_of
            charge = dispute.charge
            dispute_rows.append((dispute.opened_on.isoformat(),
                                 f"{charge.charge_type.name} {charge.period_start.isoformat()}至{charge.period_end.isoformat()} ¥{_money(charge.amount)}",
                                 dispute.reason, _day(dispute.closed_on if closed else None),
                                 dispute.resolution if closed else "处理中", str(dispute.ticket_id or "—")))
        complaint_rows = [(_when(row.created_at), row.text, str(row.ticket_id),
                           f"{row.charge.charge_type.name} {row.charge.period_start.isoformat()}" if row.charge_id else "—")
                          for row in Complaint.objects.filter(unit=self.unit, owner=self.owner, created_at__lt=self.end)
                          .select_related("charge__charge_type").order_by("created_at", "id")]
        name = "08_投诉异议与工单.pdf"
        data = self._document("投诉、费用异议与服务工单", [
            Section("业主线上投诉", table=Table(("提交时间", "内容", "工单号", "有异议的费用"), tuple(complaint_rows), (2, 8, 1, 3))),
            Section("费用异议及处理结果", table=Table(("提出日期", "费用", "异议内容", "处理完毕日期", "处理结果", "工单号"),
                                             tuple(dispute_rows), (1.8, 4, 5, 1.8, 5, 1))),
            Section("本房屋的服务工单（报修、投诉、整改）及处理结果", table=Table(
                ("工单号", "受理日期", "类型", "内容", f"状态（截至 {self.as_of.isoformat()}）", "办结日期", "处理结果", "业主评价"),
                tuple(ticket_rows), (1, 1.8, 1.2, 5, 1.8, 1.8, 5, 1.4))),
        ])
        self.index_rows.append((str(number), f"投诉 {len(complaint_rows)} 件、费用异议 {len(dispute_rows)} 件、服务工单 {len(ticket_rows)} 件及处理结果",
                                name, _PURPOSE[number]))
        return [(name, data)]

    # 9. limitation events and proofs
    def _limitation(self, number: int):
        events = list(LimitationEvent.objects.filter(unit=self.unit, owner=self.owner, occurred_on__lte=self.as_of)
                      .order_by("occurred_on", "id"))
        proofs: dict[int, list[LimitationProof]] = {}
        for proof in LimitationProof.objects.filter(event__in=[event.pk for event in events], added_at__lt=self.end).order_by("added_at", "id"):
            proofs.setdefault(proof.event_id, []).append(proof)
        entries, rows, proof_count = [], [], 0
        for index, event in enumerate(events, start=1):
            shown = []
            for proof in proofs.get(event.pk, []):
                proof_count += 1
                parts = [proof.get_kind_display()]
                if proof.reference:
                    parts.append(f"凭证编号 {proof.reference}")
                if proof.file:
                    stored = _stored(f"09_时效中断证据/{proof_count:03d}_事件{index}_{_safe(proof.get_kind_display())}"
                                     f"{_suffix(proof.file.name)}", proof.file, proof.sha256)
                    entries.append((stored.name, stored))
                    parts.append(f"文件 {stored.name} SHA-256 {stored.sha256 or stored.check}")
                if proof.attachment_id:
                    parts.append(f"附件 {self.attachment_names.get(proof.attachment_id, f'#{proof.attachment_id}')}")
                parts.append(f"{_when(proof.added_at)} 登记")
                shown.append("，".join(parts))
            rows.append((str(index), event.occurred_on.isoformat(), event.get_kind_display(), event.note or "—",
                         "\n".join(shown) if shown else "未取得证据：不中断诉讼时效"))
        name = "09_时效中断事件.pdf"
        data = self._document("诉讼时效中断事件及证据", [Section(
            "诉讼时效中断事件（《民法典》第一百九十五条）",
            ("诉讼时效期间为三年（《民法典》第一百八十八条）；书面催告送达、业主承诺或同意履行、起诉等事由使其中断、重新计算。"
             "部分缴费亦中断时效，见 07_缴费记录.pdf。",),
            Table(("序号", "日期", "类型", "说明", "证据"), tuple(rows), (0.8, 1.8, 2.2, 4, 12)))])
        self.index_rows.append((f"{number}.1", f"诉讼时效中断事件 {len(events)} 件", name, _PURPOSE[number]))
        if entries:
            self.index_rows.append((f"{number}.2", f"时效中断证据文件 {len(entries)} 个", "09_时效中断证据/", _PURPOSE[number]))
        return [(name, data), *entries]

    # the index
    def _index(self) -> Document:
        owner_line = f"业主：{self.owner.name}（{self.owner.get_kind_display()}，证件号 {self.owner.masked_id_number or '—'}）"
        facts = (
            f"案件编号：{self.case.pk}　　物业服务企业：{self.community.company.name}",
            f"小区：{self.community.name}　　房屋：{self.unit.label}　　{owner_line}",
            f"证据截至：{self.as_of.isoformat()}。此日之后的记录均未列入；同一案件同一日期重复生成，所得文件逐字节相同。",
            f"压缩包内除 {MANIFEST} 本身以外每个文件的 SHA-256 见 {MANIFEST}，解压后可用 sha256sum -c {MANIFEST} 核对。",
        )
        document = Document(title="证据目录", facts=facts, as_of=self.as_of, footer=self._footer("证据目录"), sections=(
            Section("证据清单", table=Table(("序号", "证据名称及内容", "文件（压缩包内）", "证明目的"), tuple(self.index_rows),
                                        (1, 9, 7, 5))),
        ))
        return document


_PURPOSE = {
    1: "物业服务合同关系及收费标准、违约金约定",
    2: "业主身份及其为应缴费用的义务人",
    3: "欠费金额及违约金的计算",
    4: "已书面催告并送达（诉讼时效中断）",
    5: "多次催缴及催缴方式合法合规",
    6: "业主承诺缴费或同意分期（时效中断）",
    7: "已缴金额已扣除，欠费数额准确",
    8: "业主的投诉及异议已受理处理，服务质量抗辩不成立",
    9: "主张未超过诉讼时效",
}


def pack_file_name(pack: Pack) -> str:
    return f"evidence-pack-case{pack.case.pk}-{pack.as_of.isoformat()}.zip"


def to_bytes(pack: Pack) -> bytes:
    """The ZIP in memory: for tests and small packs only; the command and the page stream to a file."""
    out = io.BytesIO()
    write(pack, out)
    return out.getvalue()
