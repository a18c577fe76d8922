"""Which columns of the notices app's evidence tables the database refuses to change (DESIGN.md §3).

One place: the models name these groups (`frozen_groups`) for the ORM's refusal, and the
migrations copy them into triggers. Extending a list is a one-line change here plus a
migration with `FreezeColumns(new, previous=old)` that copies both lists.
"""

from arrears.core.db import Frozen

MESSAGE_EVENT = Frozen("notices_messageevent", (
    "id", "community_id", "message_id", "at", "kind", "detail", "actor_id",
), refuse_delete=True)
LETTER_BATCH = Frozen("notices_letterbatch", (
    "id", "community_id", "kind", "issued_on", "deadline", "count", "override_reason", "override_by_id", "created_by_id",
    "created_at",
), refuse_delete=True)
# The merged PDF and the ZIP are stored right after the letters, in the same transaction.
LETTER_BATCH_FILES = Frozen("notices_letterbatch", (
    "merged_pdf", "merged_sha256", "zip_file", "zip_sha256",
), name="frozen_files", when="OLD.zip_sha256 <> ''")
# A letter's content and PDF are frozen at issue.
LETTER = Frozen("notices_letter", (
    "id", "community_id", "batch_id", "case_id", "unit_id", "owner_id", "task_id", "kind", "template_code", "number",
    "issued_on", "deadline", "as_of", "principal", "late_fee", "content", "pdf", "pdf_sha256", "created_by_id",
    "created_at",
), refuse_delete=True)
# Its delivery (or return) is recorded once; a correction is a `DeliveryCorrection` row.
LETTER_DELIVERY = Frozen("notices_letter", (
    "status", "delivery_method", "tracking_no", "delivered_on", "proof", "proof_sha256", "delivery_note", "attempt_id",
    "recorded_by_id",
), name="frozen_delivery", when="OLD.status <> 'issued'")
DELIVERY_CORRECTION = Frozen("notices_deliverycorrection", (
    "id", "community_id", "letter_id", "corrects_id", "delivery_method", "tracking_no", "proof", "proof_sha256",
    "delivery_note", "reason", "corrected_by_id", "corrected_at",
), refuse_delete=True)

EVIDENCE_COLUMNS = {
    "notices_messageevent": (MESSAGE_EVENT,),
    "notices_letterbatch": (LETTER_BATCH, LETTER_BATCH_FILES),
    "notices_letter": (LETTER, LETTER_DELIVERY),
    "notices_deliverycorrection": (DELIVERY_CORRECTION,),
}
