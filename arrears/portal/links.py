"""Staff-side work on owners' links: make a fresh one to send, revoke every earlier one."""

from django.db import transaction
from django.db.models import F

from arrears.core.models import record
from arrears.estate.models import Owner
from arrears.notices.context import statement_link


def revoke_links(*, owner: Owner, staff, reason: str = "") -> Owner:
    """Raise the owner's link generation: every link sent before stops working at once."""
    with transaction.atomic():
        Owner.objects.filter(pk=owner.pk).update(link_generation=F("link_generation") + 1)
        record(actor=staff, action="statement_links_revoked", community_id=owner.community_id, owner=owner.pk,
               reason=reason[:200])
    owner.refresh_from_db(fields=["link_generation"])
    return owner


def current_link(*, owner: Owner, unit_id: int) -> str:
    return statement_link(owner.pk, unit_id, owner.link_generation)
