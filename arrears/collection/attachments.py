"""Files staff attach to a contact attempt from a phone: a recording, a photo, a scan.

Each file is stored with the SHA-256 of its bytes as uploaded. A recording attached to the
attempt a promise was taken on proves that promise's limitation event (民法典第195条): the
event counts from the upload on, and restarts the period from the day of the promise.
"""

from __future__ import annotations

from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from arrears.collection import limitation
from arrears.collection.models import (
    AttachmentKind,
    AttemptAttachment,
    ContactAttempt,
    LimitationEvent,
    LimitationEventKind,
    Outcome,
    ProofKind,
)
from arrears.core.errors import DomainError


def add_attachment(*, attempt: ContactAttempt, kind: str, upload, staff, now: datetime | None = None) -> AttemptAttachment:
    """Attach a file to an attempt; a recording also proves the promise taken on it."""
    if kind not in AttachmentKind.values:
        raise DomainError(f"附件类型无效：{kind}", f"unknown attachment kind: {kind}", code="kind")
    if attempt.outcome == Outcome.BLOCKED:
        raise DomainError("被拦截的记录没有联系业主，不能附加证据", "a blocked attempt reached no one: nothing to attach",
                          code="blocked")
    checked = limitation.check_upload(upload, limitation.FAMILIES_FOR_ATTACHMENT[kind])
    now = now or timezone.now()
    with transaction.atomic():
        # The same file sent twice (a double tap, a resent form) is stored once.
        list(ContactAttempt.objects.select_for_update().filter(pk=attempt.pk).values_list("pk", flat=True))
        same = AttemptAttachment.objects.filter(attempt=attempt, kind=kind, sha256=checked.sha256).order_by("pk").first()
        if same is not None:
            return same
        attachment = AttemptAttachment(community_id=attempt.community_id, attempt=attempt, kind=kind, sha256=checked.sha256,
                                       uploaded_by=staff)
        attachment.file.save(limitation.stored_name(f"{attempt.pk}-{kind}", checked.name), ContentFile(checked.data),
                             save=False)
        attachment.save()
        if kind == AttachmentKind.RECORDING:
            # The recording of a call proves the promise of whichever version of the contact stands.
            # A recording proves a promise of the day of the call it is attached to, not one a
            # correction moved to another day.
            waiting = (LimitationEvent.objects.filter(attempt_id__in=limitation.contact_versions(attempt),
                                                      kind=LimitationEventKind.PROMISE,
                                                      occurred_on=timezone.localdate(attempt.at))
                       .filter(~limitation.proven(), limitation.standing()).order_by("pk").select_for_update())
            for event in waiting:
                limitation.attach_proof(event=event, staff=staff, now=now,
                                        proof=limitation.Proof(kind=ProofKind.RECORDING, attachment=attachment))
    return attachment
