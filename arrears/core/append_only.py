"""Which columns of the audit trail the database refuses to change (DESIGN.md §3).

One place: the model names this group (`frozen_groups`) for the ORM's refusal, and the
migration copies it into a trigger.
"""

from arrears.core.db import Frozen

AUDIT_EVENT = Frozen("core_auditevent", ("id", "actor_id", "action", "community_id", "detail", "at"), refuse_delete=True)

EVIDENCE_COLUMNS = {"core_auditevent": (AUDIT_EVENT,)}
