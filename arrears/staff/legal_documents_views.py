"""Court documents of a matter (download as PDF) and the company's texts of them (list, edit, preview).
Thin: parse, call arrears.legal.documents, render or respond."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from arrears.core.errors import DomainError
from arrears.core.models import record
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Company
from arrears.legal import documents
from arrears.legal.models import DocumentTemplate, Matter, TemplateKind
from arrears.notices import pdf
from arrears.staff.collection_views import _require


def _matters_in_scope(user):
    return Matter.objects.filter(unit__in=estate_selectors.units_visible_to(user))


def _pdf_response(data: bytes, filename: str, *, attachment: bool) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(attachment, filename)
    return response


@login_required
@require_GET
def matter_document(request, pk, kind):
    _require(request.user, "legal.view_matter")
    if kind not in TemplateKind.values:
        raise Http404
    matter = get_object_or_404(_matters_in_scope(request.user).select_related("community__company", "unit__building", "owner"),
                               pk=pk)
    as_of = timezone.localdate()
    try:
        data = documents.render(kind, matter, as_of)
    except DomainError as error:
        return render(request, "staff/legal_document_refused.html", {"error": error, "matter": matter,
                                                                     "kind": TemplateKind(kind).label}, status=409)
    record(actor=request.user, action="legal.document_downloaded", community_id=matter.community_id, matter=matter.pk,
           kind=kind, as_of=as_of.isoformat(), sha256=pdf.sha256(data))
    name = f"{TemplateKind(kind).label}-{matter.court_case_number or matter.pk}-{as_of:%Y%m%d}.pdf"
    return _pdf_response(data, name, attachment=True)


# -- the company's texts -----------------------------------------------------------------------


class DocumentTemplateForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("标题"), max_length=documents.TITLE_MAX)
    body = forms.CharField(label=gettext_lazy("正文"), max_length=documents.BODY_MAX, strip=False,
                           widget=forms.Textarea(attrs={"rows": 24, "class": "mono"}))


def _companies(user):
    """The companies of the communities the user sees."""
    return Company.objects.filter(communities__in=estate_selectors.communities_visible_to(user)).distinct().order_by("name")


def _placeholders() -> list[tuple[str, str]]:
    english = (translation.get_language() or "").startswith("en")
    return [(name, en if english else zh) for name, (zh, en) in documents.PLACEHOLDERS.items()]


@login_required
@require_GET
def legal_templates(request):
    _require(request.user, "legal.view_documenttemplate")
    companies = list(_companies(request.user))
    own = {(row.company_id, row.kind): row for row in
           DocumentTemplate.objects.filter(company__in=companies).select_related("updated_by")}
    saved_defaults = {row.kind: row for row in DocumentTemplate.objects.filter(company__isnull=True)}
    kinds = []
    for kind, label in TemplateKind.choices:
        title, body = documents.built_in(kind)
        default = saved_defaults.get(kind)
        kinds.append({
            "kind": kind, "label": label, "title": default.title if default else title, "body": default.body if default else body,
            "companies": [{"company": company, "own": own.get((company.pk, kind))} for company in companies],
        })
    return render(request, "staff/legal_templates.html", {"kinds": kinds, "placeholders": _placeholders()})


@login_required
@require_http_methods(["GET", "POST"])
def legal_template_edit(request, company_pk, kind):
    _require(request.user, "legal.view_documenttemplate")
    if kind not in TemplateKind.values:
        raise Http404
    company = get_object_or_404(_companies(request.user), pk=company_pk)
    title, body, row = documents.template_for(kind, company.pk)
    own = row if row is not None and row.company_id == company.pk else None
    perm = "legal.change_documenttemplate" if own else "legal.add_documenttemplate"
    may_edit = request.user.has_perm(perm)
    error = None
    if request.method == "POST":
        form = DocumentTemplateForm(request.POST)
        preview = request.POST.get("action") == "preview"
        if not preview and not may_edit:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                if preview:
                    pdf_bytes = documents.render_text(kind, data["title"], data["body"],
                                                      documents.example_data(company, timezone.localdate()))
                    return _pdf_response(pdf_bytes, f"{TemplateKind(kind).label}-preview.pdf", attachment=False)
                documents.save_template(company=company, kind=kind, title=data["title"], body=data["body"],
                                        staff=request.user)
            except DomainError as refused:
                error = refused
            else:
                record(actor=request.user, action="legal.template_saved", company=company.pk, kind=kind)
                messages.success(request, _("模板已保存。"))
                return redirect("staff:legal_template_edit", company_pk=company.pk, kind=kind)
    else:
        form = DocumentTemplateForm(initial={"title": title, "body": body})
    if not may_edit:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "staff/legal_template.html", {
        "company": company, "kind": kind, "label": TemplateKind(kind).label, "form": form, "error": error,
        "own": own, "may_edit": may_edit, "placeholders": _placeholders(), "blocks": documents.BLOCKS,
    })
