"""The community's property service contract and tariff basis: uploaded once, put in every evidence pack.

Append-only (the database refuses edits and deletes): a new upload of a kind supersedes the older
one for packs built after it; both are kept and listed. The file is a PDF or an image, checked the
way limitation proofs are (collection.limitation.check_upload), and its SHA-256 kept with it.
"""

from __future__ import annotations

from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from arrears.collection.limitation import DOCUMENT, check_upload, stored_name
from arrears.core.errors import DomainError
from arrears.core.models import record
from arrears.estate.models import Community

from .models import CommunityDocument, DocumentKind

TITLE_LENGTH = 200


def documents_of(community: Community) -> list[CommunityDocument]:
    """Every upload of the community, newest first within each kind; `in_force` marks the latest of each kind."""
    rows = list(CommunityDocument.objects.filter(community=community).select_related("uploaded_by")
                .order_by("kind", "-uploaded_at", "-id"))
    seen: set[str] = set()
    for row in rows:
        row.in_force = row.kind not in seen
        seen.add(row.kind)
    return rows


def upload_document(*, community: Community, kind: str, title: str, upload, staff,
                    now: datetime | None = None) -> CommunityDocument:
    """Store a new contract or tariff document of the community; the same file twice in a row is refused."""
    if kind not in DocumentKind.values:
        raise DomainError(f"文件类型无效：{kind}", f"unknown document kind: {kind}", code="kind")
    title = " ".join((title or "").split())
    if not title:
        raise DomainError("请填写标题（如：物业服务合同（2024—2027））", "enter a title (e.g. the contract and its years)",
                          code="title")
    if len(title) > TITLE_LENGTH:
        raise DomainError(f"标题不能超过 {TITLE_LENGTH} 字", f"the title may not exceed {TITLE_LENGTH} characters", code="title")
    checked = check_upload(upload, DOCUMENT)
    with transaction.atomic():
        # Under the community's row lock: two submits of one form cannot both pass the check below.
        Community.objects.select_for_update().filter(pk=community.pk).order_by("pk").first()
        latest = CommunityDocument.objects.filter(community=community, kind=kind).order_by("-uploaded_at", "-id").first()
        if latest is not None and latest.sha256 == checked.sha256:
            raise DomainError(f"该文件与现行的“{latest.title}”相同，无需重复上传",
                              f"this file is the same as the one in force ({latest.title}): nothing uploaded", code="duplicate")
        document = CommunityDocument(community=community, kind=kind, title=title, sha256=checked.sha256,
                                     uploaded_by=staff, uploaded_at=now or timezone.now())
        document.file.save(stored_name(f"{community.pk}-{kind}", checked.name), ContentFile(checked.data), save=False)
        document.save()
        record(actor=staff, action="legal.community_document_uploaded", community_id=community.pk,
               document=document.pk, kind=kind, sha256=checked.sha256)
    return document
