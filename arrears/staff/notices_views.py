"""Notices pages: the outbox (filter, read, resend, send what is due), the notice templates
(list, edit, a community's own copy) and the providers' delivery-receipt callback.
Thin: parse, call one selector or service of arrears.notices, render or redirect."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from arrears.collection.models import Channel, MessageStatus
from arrears.core.errors import DomainError
from arrears.estate import selectors as estate_selectors
from arrears.notices import channels, outbox, texts
from arrears.notices import selectors as notices_selectors
from arrears.notices.models import NoticeTemplate
from arrears.staff.collection_views import _domain_message, _form_errors, _require
from arrears.staff.navigation import safe_next
from arrears.staff.notices_forms import OutboxFilterForm, OverrideForm, TemplateForm

OUTBOX_PAGE = 50
DISPATCH_LIMIT = 200
ATTENTION = (MessageStatus.FAILED, MessageStatus.UNDELIVERED, MessageStatus.BLOCKED)
# What outbox.dispatch counts, as the page says it.
OUTCOME_LABELS = {
    "sent": gettext_lazy("已发送"), "retry": gettext_lazy("稍后重试"), "failed": gettext_lazy("发送失败"),
    "blocked": gettext_lazy("已拦截"), "rescheduled": gettext_lazy("改期"), "cancelled": gettext_lazy("已取消"),
    "recovered": gettext_lazy("中断后核实已发送"), "unknown": gettext_lazy("结果不明"),
    "skipped": gettext_lazy("已由其他进程处理"),
}


def mask_recipient(value: str) -> str:
    """Only the last 4 characters show (个人信息保护法: minimum disclosure)."""
    value = value or ""
    return "*" * max(len(value) - 4, 0) + value[-4:]


# -- outbox -------------------------------------------------------------------------------------


@login_required
def outbox_list(request):
    _require(request.user, "collection.view_outgoingmessage")
    today = timezone.localdate()
    communities = estate_selectors.communities_visible_to(request.user).order_by("name").values_list("pk", "name")
    form = OutboxFilterForm(request.GET or None, communities=communities)
    data = form.cleaned_data if form.is_valid() else {}
    filters = notices_selectors.OutboxFilters(**{k: v for k, v in data.items() if v not in (None, "")})
    rows, counts = notices_selectors.outbox_page(request.user, filters, today=today)
    page = Paginator(rows, OUTBOX_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    status_query = query.copy()
    status_query.pop("status", None)
    return render(request, "staff/outbox.html", {
        "form": form, "page": page, "filters": filters, "query": query.urlencode(), "status_query": status_query.urlencode(),
        "counts": [(value, label, counts.get(value, 0), value in ATTENTION) for value, label in MessageStatus.choices],
        "total": sum(counts.values()), "resendable": outbox.RESENDABLE,
        "may_change": request.user.has_perm("collection.change_outgoingmessage"),
    })


@login_required
def outbox_message(request, pk):
    _require(request.user, "collection.view_outgoingmessage")
    message = notices_selectors.message_detail(request.user, pk)
    if message is None:
        raise Http404
    return render(request, "staff/outbox_message.html", {
        "message": message, "events": notices_selectors.message_events(message),
        "recipient": mask_recipient(message.recipient), "resendable": message.status in outbox.RESENDABLE,
        "may_change": request.user.has_perm("collection.change_outgoingmessage"),
    })


@login_required
@require_POST
def outbox_resend(request, pk):
    _require(request.user, "collection.change_outgoingmessage")
    message = notices_selectors.message_detail(request.user, pk)
    if message is None:
        raise Http404
    back = safe_next(request, reverse("staff:outbox"))
    try:
        copy = outbox.resend(message, staff=request.user)
    except DomainError as error:
        messages.error(request, _domain_message(error))
        return redirect(back)
    messages.success(request, _("已重新排队发送（新消息 #%(new)s，原消息 #%(old)s 保留为记录）。") % {"new": copy.pk, "old": message.pk})
    return redirect(back)


@login_required
@require_POST
def outbox_dispatch(request):
    _require(request.user, "collection.change_outgoingmessage")
    # Only the messages of the user's own communities and buildings: the page lists no others.
    outcomes = outbox.dispatch(limit=DISPATCH_LIMIT, scope=notices_selectors.messages_visible_to(request.user))
    if not outcomes:
        messages.info(request, _("没有到期待发的消息。"))
    else:
        parts = pgettext("punctuation", "，").join(f"{OUTCOME_LABELS.get(name, name)} {count}" for name, count in sorted(outcomes.items()))
        level = messages.error if outcomes.get("failed") or outcomes.get("unknown") else messages.success
        level(request, _("已处理 %(total)s 条到期消息：%(parts)s。") % {"total": sum(outcomes.values()), "parts": parts})
    return redirect(safe_next(request, reverse("staff:outbox")))


# -- templates ----------------------------------------------------------------------------------


@login_required
def template_list(request):
    _require(request.user, "notices.view_noticetemplate")
    return render(request, "staff/notice_templates.html", {
        "templates": notices_selectors.templates_visible_to(request.user),
        "may_edit_defaults": request.user.has_perm("notices.change_noticetemplate")
        and notices_selectors.sees_every_community(request.user),
    })


def _may_edit(user, template: NoticeTemplate) -> bool:
    if not user.has_perm("notices.change_noticetemplate"):
        return False
    return template.community_id is not None or notices_selectors.sees_every_community(user)


def _override_choices(user, template: NoticeTemplate) -> list[tuple[int, str]]:
    """The user's communities that have no copy of this default yet."""
    if template.community_id is not None or not user.has_perm("notices.add_noticetemplate"):
        return []
    taken = NoticeTemplate.objects.filter(code=template.code, channel=template.channel, community__isnull=False)
    communities = estate_selectors.communities_visible_to(user).exclude(pk__in=taken.values("community_id")).order_by("name")
    return list(communities.values_list("pk", "name"))


def _placeholders() -> list[tuple[str, str]]:
    """(name, label in the page's language): the whitelist carries its own zh and en labels."""
    english = (translation.get_language() or "").startswith("en")
    return [(name, en if english else zh) for name, (zh, en) in texts.PLACEHOLDERS.items()]


def _preview(template: NoticeTemplate, body: str, subject: str, sign: str) -> dict:
    text = texts.render(body, texts.EXAMPLE_CONTEXT)
    sms = template.channel == Channel.SMS
    preview = {"body": f"【{sign}】{text}" if sms and sign else text, "subject": texts.render(subject, texts.EXAMPLE_CONTEXT)}
    if sms:
        preview["length"], preview["parts"] = texts.sms_length(text, sign)
    return preview


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request, pk):
    _require(request.user, "notices.view_noticetemplate")
    template = get_object_or_404(notices_selectors.templates_visible_to(request.user).select_related("community__company"),
                                 pk=pk)
    may_edit = _may_edit(request.user, template)
    letter = template.channel in texts.LETTER_CHANNELS
    error = None
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        form = TemplateForm(request.POST, letter=letter)
        if form.is_valid():
            data = form.cleaned_data
            try:
                texts.save_template(
                    code=template.code, channel=template.channel, community=template.community, name=data["name"],
                    subject=data["subject"], body=data["body"], neutral=data["neutral"], active=data["active"],
                    provider_codes=form.provider_codes(), payment_methods=data.get("payment_methods", ""),
                    staff=request.user,
                )
            except DomainError as refused:
                error = refused
            else:
                messages.success(request, _("模板已保存。"))
                return redirect("staff:template_edit", pk=template.pk)
        body, subject = request.POST.get("body", ""), request.POST.get("subject", "")
    else:
        form = TemplateForm(initial=TemplateForm.initial_for(template), letter=letter)
        body, subject = template.body, template.subject
    if not may_edit:
        for field in form.fields.values():
            field.disabled = True
    sign = notices_selectors.sign_name(template, request.user)
    override_choices = _override_choices(request.user, template)
    return render(request, "staff/notice_template.html", {
        "template": template, "form": form, "error": error, "may_edit": may_edit, "letter": letter,
        "preview": _preview(template, body, subject, sign), "sign": sign, "sms": template.channel == Channel.SMS,
        "placeholders": _placeholders(),
        "neutral_placeholders": texts.NEUTRAL_PLACEHOLDERS, "example": texts.EXAMPLE_CONTEXT,
        "sms_single": texts.SMS_SINGLE, "sms_part": texts.SMS_PART,
        "override_form": OverrideForm(communities=override_choices) if override_choices else None,
    })


@login_required
@require_POST
def template_override(request, pk):
    """为本小区另设: copy a default template into one of the user's communities, then edit the copy."""
    _require(request.user, "notices.add_noticetemplate")
    default = get_object_or_404(NoticeTemplate, pk=pk, community__isnull=True)
    communities = estate_selectors.communities_visible_to(request.user)
    form = OverrideForm(request.POST, communities=communities.values_list("pk", "name"))
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("staff:template_edit", pk=default.pk)
    community = communities.get(pk=form.cleaned_data["community"])
    existing = NoticeTemplate.objects.filter(community=community, code=default.code, channel=default.channel).first()
    if existing is not None:
        messages.info(request, _("%(community)s 已有自己的此模板。") % {"community": community.name})
        return redirect("staff:template_edit", pk=existing.pk)
    try:
        copy = texts.save_template(
            code=default.code, channel=default.channel, community=community, name=default.name, subject=default.subject,
            body=default.body, neutral=default.neutral, active=default.active, provider_codes=default.provider_codes,
            payment_methods=default.payment_methods, staff=request.user,
        )
    except DomainError as error:
        messages.error(request, _domain_message(error))
        return redirect("staff:template_edit", pk=default.pk)
    messages.success(request, _("已为 %(community)s 另设模板，可在此修改。") % {"community": community.name})
    return redirect("staff:template_edit", pk=copy.pk)


# -- delivery receipts --------------------------------------------------------------------------


@csrf_exempt
@require_POST
def receipts(request, provider, token):
    """A provider pushes delivery reports here; the secret token in the URL is the only credential."""
    expected = getattr(settings, "NOTICES_RECEIPT_TOKEN", "") or ""
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Http404
    backend = channels.backend_named(provider)
    if backend is None:
        raise Http404
    try:
        found = backend.parse_receipts(request.body, dict(request.headers))
    except ValueError:
        return HttpResponseBadRequest("bad receipt body")
    outbox.apply_receipts(found)
    content_type, content = backend.receipt_ack()  # each provider wants its own answer, or it pushes again
    return HttpResponse(content, content_type=content_type)

