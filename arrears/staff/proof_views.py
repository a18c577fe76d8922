"""Limitation proof pages: 待补证据 for legal staff and managers, files attached to an attempt from a
phone, and the case forms recording the owner's written acknowledgement or a suit. Thin: parse,
call one service of collection.limitation / collection.attachments / notices.letters, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from arrears.collection import attachments, limitation
from arrears.collection.models import (
    AttemptAttachment,
    ContactAttempt,
    LimitationEvent,
    LimitationProof,
    ProofKind,
)
from arrears.core.errors import DomainError
from arrears.estate import selectors as estate_selectors
from arrears.notices import letters
from arrears.notices.models import Letter, LetterStatus
from arrears.staff.collection_views import _case_in_scope, _form_errors, _require
from arrears.staff.navigation import safe_next
from arrears.staff.proof_forms import AcknowledgementForm, AttachmentForm, ProofForm, SuitForm

EVIDENCE_PAGE = 50


def _unit_url(unit_id: int) -> str:
    return reverse("staff:unit", args=[unit_id]) + "#evidence"


@login_required
def evidence_needed(request):
    """待补证据: every unproven limitation event of an open case in the user's communities."""
    _require(request.user, "collection.add_limitationproof")
    events = limitation.unproven_events(units=estate_selectors.units_visible_to(request.user))
    page = Paginator(events, EVIDENCE_PAGE).get_page(request.GET.get("page"))
    return render(request, "staff/evidence_needed.html", {
        "page": page, "rows": limitation.evidence_rows(page.object_list), "max_mb": limitation.MAX_UPLOAD_BYTES // 1024 // 1024,
    })


def _prove(request, event: LimitationEvent, kind: str, upload):
    limitation.check_proof_kind(event, kind)
    if kind == ProofKind.LETTER_DELIVERY:
        # A written demand is proven only for a letter the letters module recorded as delivered.
        letter = Letter.objects.filter(attempt_id=event.attempt_id, status=LetterStatus.DELIVERED).first() \
            if event.attempt_id else None
        if letter is None:
            raise DomainError("该书面催告不是经函件模块登记送达的函件，不能补证", "this demand is not a letter delivered through the "
                              "letters module: it cannot be proven", code="not_a_letter")
        letters.attach_delivery_proof(letter=letter, upload=upload, staff=request.user)
    elif kind == ProofKind.RECORDING and event.attempt_id is not None:
        # The recording belongs to the call: attached to its attempt, it proves the promise.
        attachments.add_attachment(attempt=event.attempt, kind="recording", upload=upload, staff=request.user)
    else:
        limitation.attach_proof(event=event, staff=request.user, proof=limitation.Proof(kind=kind, upload=upload))


@login_required
@require_POST
def event_proof(request, pk):
    _require(request.user, "collection.add_limitationproof")
    events = LimitationEvent.objects.filter(unit__in=estate_selectors.units_visible_to(request.user))
    event = get_object_or_404(events.select_related("attempt"), pk=pk)
    back = safe_next(request, reverse("staff:evidence_needed"))
    form = ProofForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(back)
    try:
        _prove(request, event, form.cleaned_data["kind"], form.cleaned_data["file"])
    except DomainError as error:
        messages.error(request, error.localized)
        return redirect(back)
    messages.success(request, _("已补充证据：%(day)s %(kind)s 自今日起计入诉讼时效") % {
        "day": event.occurred_on.isoformat(), "kind": event.get_kind_display()})
    return redirect(back)


@login_required
@require_POST
def unit_attachment(request, pk):
    """A recording, photo or scan attached from the unit page to one of its attempts."""
    _require(request.user, "collection.add_attemptattachment")
    unit = get_object_or_404(estate_selectors.units_visible_to(request.user), pk=pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(_unit_url(unit.pk))
    attempt = ContactAttempt.objects.filter(unit_id=unit.pk, pk=form.cleaned_data["attempt"]).first()
    if attempt is None:
        messages.error(request, _("请选择该房屋的一条联系记录。"))
        return redirect(_unit_url(unit.pk))
    try:
        attachment = attachments.add_attachment(attempt=attempt, kind=form.cleaned_data["kind"],
                                                upload=form.cleaned_data["file"], staff=request.user)
    except DomainError as error:
        messages.error(request, error.localized)
        return redirect(_unit_url(unit.pk))
    messages.success(request, _("已上传%(kind)s，SHA-256 %(sha)s") % {
        "kind": attachment.get_kind_display(), "sha": attachment.sha256[:16] + "…"})
    return redirect(_unit_url(unit.pk))


@login_required
def evidence_file(request, what, pk):
    """Download an attempt's attachment or a proof file, within the user's scope."""
    units = estate_selectors.units_visible_to(request.user)
    if what == "attachment":
        _require(request.user, "collection.view_attemptattachment")
        field = get_object_or_404(AttemptAttachment.objects.filter(attempt__unit__in=units), pk=pk).file
    else:
        _require(request.user, "collection.view_limitationproof")
        field = get_object_or_404(LimitationProof.objects.filter(event__unit__in=units), pk=pk).file
    if not field:
        raise Http404
    return FileResponse(field.open("rb"), as_attachment=True, filename=field.name.rsplit("/", 1)[-1])


@login_required
@require_POST
def case_acknowledgement(request, pk):
    _require(request.user, "collection.add_limitationevent")
    case = _case_in_scope(request, pk)
    form = AcknowledgementForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(_unit_url(case.unit_id))
    try:
        limitation.record_acknowledgement(case=case, acknowledged_on=form.cleaned_data["acknowledged_on"],
                                          document=form.cleaned_data["file"], staff=request.user,
                                          note=form.cleaned_data["note"])
    except DomainError as error:
        messages.error(request, error.localized)
        return redirect(_unit_url(case.unit_id))
    messages.success(request, _("已登记业主书面确认。"))
    return redirect(_unit_url(case.unit_id))


@login_required
@require_POST
def case_suit(request, pk):
    _require(request.user, "collection.add_limitationevent")
    case = _case_in_scope(request, pk)
    form = SuitForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(_unit_url(case.unit_id))
    try:
        limitation.record_suit(case=case, filed_on=form.cleaned_data["filed_on"], court_receipt=form.cleaned_data["file"],
                               staff=request.user, court_case_number=form.cleaned_data["court_case_number"])
    except DomainError as error:
        messages.error(request, error.localized)
        return redirect(_unit_url(case.unit_id))
    messages.success(request, _("已登记起诉。"))
    return redirect(_unit_url(case.unit_id))
