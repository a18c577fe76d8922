"""The court evidence pack's pages: download a case's pack as of today, and the community's contract
and tariff basis that every pack carries. Thin: scope, call legal.evidence_pack or
legal.community_documents, respond."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from arrears.collection.limitation import MAX_UPLOAD_BYTES
from arrears.collection.models import Case
from arrears.core.errors import DomainError
from arrears.core.models import record
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Community
from arrears.legal import community_documents, evidence_pack
from arrears.legal.models import DocumentKind
from arrears.staff.collection_views import _require


@login_required
@require_safe
def evidence_pack_download(request, pk):
    """The case's evidence pack as of today, as a ZIP; the download is an audit event."""
    # The court's copy is the legal desk's and the managers': a collector works the case, not the suit.
    if not (request.user.has_perm("legal.add_matter") or request.user.has_perm("legal.approve_award")):
        raise PermissionDenied
    cases = Case.objects.filter(unit__in=estate_selectors.units_visible_to(request.user))
    case = get_object_or_404(cases.select_related("unit__building", "unit__community__company", "owner"), pk=pk)
    as_of = timezone.localdate()
    try:
        pack = evidence_pack.build(case, as_of)
    except DomainError as error:
        messages.error(request, error.localized)
        return redirect(reverse("staff:unit", args=[case.unit_id]) + "#case")
    # Built in a temporary file and streamed from it: recordings never sit in memory together.
    file = tempfile.TemporaryFile()
    evidence_pack.write(pack, file)
    file.seek(0)
    record(actor=request.user, action="legal.evidence_pack_downloaded", community_id=case.community_id, case=case.pk,
           unit=case.unit_id, as_of=as_of.isoformat(), files=len(pack.names))
    return FileResponse(file, as_attachment=True, filename=evidence_pack.pack_file_name(pack),
                        content_type="application/zip")


def _community_in_scope(user, pk) -> Community:
    """A community the user holds whole: the contract is the community's, not one building's."""
    if not user.is_superuser:
        communities, _buildings = estate_selectors.scope_grants(user)
        if int(pk) not in communities:
            raise Http404
    return get_object_or_404(Community, pk=pk)


@login_required
def community_documents_page(request, pk):
    """The community's contract and tariff basis: every upload listed, a new one supersedes the older."""
    _require(request.user, "legal.add_communitydocument")
    community = _community_in_scope(request.user, pk)
    if request.method == "POST":
        try:
            document = community_documents.upload_document(
                community=community, kind=request.POST.get("kind", ""), title=request.POST.get("title", ""),
                upload=request.FILES.get("file"), staff=request.user)
        except DomainError as error:
            messages.error(request, error.localized)
        else:
            messages.success(request, _("已上传：%(title)s") % {"title": document.title})
        return redirect("staff:community_documents", pk=community.pk)
    documents = community_documents.documents_of(community)
    uploaded = {row.kind for row in documents}
    missing = [label for value, label in DocumentKind.choices if value in ("contract", "tariff") and value not in uploaded]
    return render(request, "staff/community_documents.html", {
        "community": community, "documents": documents, "kinds": DocumentKind.choices, "missing": missing,
        "max_mb": MAX_UPLOAD_BYTES // 1024 // 1024,
    })
