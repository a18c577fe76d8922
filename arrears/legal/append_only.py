"""Which columns of the legal desk's evidence tables the database refuses to change (DESIGN.md §3).

A matter's stages, costs and awards, the community's contract documents and a public notice's
lines are what the company shows a court: written once, corrected by a new row. An award's
four-eyes decision and a notice's approval and withdrawal are the only columns that move, once.
"""

from arrears.core.db import Frozen

MATTER_STAGE = Frozen("legal_matterstage", (
    "id", "community_id", "matter_id", "route", "stage", "occurred_on", "amount", "reference", "note", "document",
    "sha256", "task_id", "corrects_id", "correction_reason", "recorded_by_id", "recorded_at",
), refuse_delete=True)
MATTER_COST = Frozen("legal_mattercost", (
    "id", "community_id", "matter_id", "kind", "amount", "paid_on", "note", "document", "sha256", "corrects_id",
    "correction_reason", "recorded_by_id", "recorded_at",
), refuse_delete=True)
AWARD = Frozen("legal_award", (
    "id", "community_id", "matter_id", "kind", "decided_on", "effective_on", "late_fee_as_of", "principal", "late_fee",
    "costs", "reference", "document", "sha256", "recorded_by_id", "recorded_at",
), refuse_delete=True)
# Once decided, the decision and what it posted stay as they were.
AWARD_DECISION = Frozen("legal_award", (
    "status", "decided_by_id", "decided_at", "decision_note", "posted",
), name="frozen_decision", when="OLD.status <> 'requested'")
COMMUNITY_DOCUMENT = Frozen("legal_communitydocument", (
    "id", "community_id", "kind", "title", "file", "sha256", "uploaded_by_id", "uploaded_at",
), refuse_delete=True)
PUBLIC_NOTICE = Frozen("legal_publicnotice", (
    "id", "community_id", "building_id", "mode", "show_amounts", "as_of", "legal_basis", "office_phone", "body",
    "prepared_by_id", "prepared_at", "file", "sha256",
), refuse_delete=True)
PUBLIC_NOTICE_ENTRY = Frozen("legal_publicnoticeentry", (
    "id", "community_id", "notice_id", "unit_id", "label", "amount",
), refuse_delete=True)

EVIDENCE_COLUMNS = {
    "legal_matterstage": (MATTER_STAGE,),
    "legal_mattercost": (MATTER_COST,),
    "legal_award": (AWARD, AWARD_DECISION),
    "legal_communitydocument": (COMMUNITY_DOCUMENT,),
    "legal_publicnotice": (PUBLIC_NOTICE,),
    "legal_publicnoticeentry": (PUBLIC_NOTICE_ENTRY,),
}
