"""The demo's legal desk: each community's contract and tariff basis, and two matters of the
largest debts (a suit with its hearing ahead, a payment order served), so the legal login has a
matter to walk, documents to draft and an evidence pack to download on its first day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from arrears.collection.models import Case, CaseStatus
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.estate.models import Community, Company
from arrears.legal import community_documents, pack_pdf, services
from arrears.legal.models import CommunityDocument, LegalPolicy, Matter

DEMO_LEGAL = "legal"


def _pdf(title: str, lines: tuple[str, ...], as_of: date) -> SimpleUploadedFile:
    document = pack_pdf.Document(title=title, facts=(), as_of=as_of, footer="演示文件 / demo document",
                                 sections=(pack_pdf.Section(heading="", paragraphs=lines),))
    return SimpleUploadedFile(f"{title}.pdf", pack_pdf.render(document), content_type="application/pdf")


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def seed_legal(*, today: date) -> dict:
    """Idempotent: a community that has its documents, a case that has a matter, are left as they are."""
    from django.contrib.auth import get_user_model

    legal = get_user_model().objects.filter(username=DEMO_LEGAL, groups__name=roles.LEGAL).first()
    if legal is None:
        return {"documents": 0, "matters": 0}
    for company in Company.objects.all():
        LegalPolicy.objects.get_or_create(company=company, defaults={"public_notice_enabled": True})
    uploaded = 0
    for community in Community.objects.order_by("pk"):
        for kind, title, lines in (
            ("contract", f"{community.name}物业服务合同", (
                f"物业服务合同编号：{community.contract_number or '（演示）'}", "第五条 业主应按时足额交纳物业服务费。",
                "第六条 逾期交纳的，自逾期之日起按日加收欠费金额万分之五的违约金，但违约金总额不超过欠费金额的30%。")),
            ("tariff", f"{community.name}物业服务收费标准", ("住宅物业服务费按建筑面积每月计收，标准见小区收费公示。",)),
        ):
            if CommunityDocument.objects.filter(community=community, kind=kind).exists():
                continue
            community_documents.upload_document(community=community, kind=kind, title=title, staff=legal,
                                                upload=_pdf(title, lines, today), now=_at(today - timedelta(days=60), 10))
            uploaded += 1
    opened = 0
    cases = (Case.objects.filter(status=CaseStatus.OPEN, legal_matters__isnull=True, tier="A")
             .order_by("-principal", "pk")[:2])
    for route, case in zip(("suit", "payment_order"), list(cases), strict=False):
        if Matter.objects.filter(case=case).exists():
            continue
        try:
            matter = services.open_matter(case=case, route=route, responsible=legal, staff=legal,
                                          court=f"{case.community.name}所在区人民法院", opened_on=today - timedelta(days=20))
            filed = today - timedelta(days=14)
            receipt = _pdf("法院收据", (f"今收到{case.community.company.name}诉讼材料。", f"日期：{filed.isoformat()}"), filed)
            if route == "suit":
                services.record_stage(matter=matter, route=route, stage="filed", occurred_on=filed, staff=legal,
                                      document=receipt)
                services.record_stage(matter=matter, route=route, stage="accepted", occurred_on=filed + timedelta(days=5),
                                      reference=f"({today.year})演0305民初{100 + matter.pk}号", staff=legal)
                services.record_stage(matter=matter, route=route, stage="hearing", occurred_on=today + timedelta(days=10),
                                      staff=legal)
                services.record_cost(matter=matter, kind="court_fee", amount="50.00", paid_on=filed + timedelta(days=5),
                                     staff=legal, note="简易程序减半收取")
            else:
                services.record_stage(matter=matter, route=route, stage="applied", occurred_on=filed, staff=legal,
                                      document=receipt)
                services.record_stage(matter=matter, route=route, stage="accepted", occurred_on=filed + timedelta(days=3),
                                      reference=f"({today.year})演0305民督{100 + matter.pk}号", staff=legal)
        except DomainError:
            continue  # a demo case the services refuse (nothing overdue on the filing day) is simply left out
        opened += 1
    return {"documents": uploaded, "matters": opened}
