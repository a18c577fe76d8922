"""Which columns of collection's evidence tables the database refuses to change (DESIGN.md §3).

One place: the models name these groups (`frozen_groups`) for the ORM's refusal, and the
migrations copy them into triggers. Extending a list is a one-line change here plus a
migration with `FreezeColumns(new, previous=old)` that copies both lists.
"""

from arrears.core.db import Frozen

CONTACT_ATTEMPT = Frozen("collection_contactattempt", (
    "id", "community_id", "case_id", "unit_id", "owner_id", "contact_id", "relation", "channel", "at", "outcome", "reason",
    "notes", "script_code", "blocked_rule", "blocked_reason", "violation_rule", "violation_reason", "third_party",
    "task_id", "corrects_id", "correction_reason", "staff_id", "created_at", "place",
), refuse_delete=True)
ATTEMPT_ATTACHMENT = Frozen("collection_attemptattachment", (
    "id", "community_id", "attempt_id", "kind", "file", "sha256", "uploaded_by_id", "uploaded_at",
), refuse_delete=True)
LIMITATION_EVENT = Frozen("collection_limitationevent", (
    "id", "community_id", "unit_id", "owner_id", "kind", "occurred_on", "attempt_id", "plan_id", "note",
), refuse_delete=True)
# Proof is added, never changed: an event counts from the day its first proof row was added.
LIMITATION_PROOF = Frozen("collection_limitationproof", (
    "id", "community_id", "event_id", "kind", "file", "sha256", "attachment_id", "reference", "note", "added_by_id", "added_at",
), refuse_delete=True)
# The outbox row: who, what and when are fixed at insert; the dispatch state machine (status,
# attempts, claim, hand-over, provider ids, receipt, errors, not_before, the contact it looked
# up, a step switched off) keeps moving.
OUTGOING_MESSAGE = Frozen("collection_outgoingmessage", (
    "id", "community_id", "case_id", "unit_id", "owner_id", "key", "channel", "template_code", "scheduled_on", "created_at",
), refuse_delete=True)
# The text is rendered once, before the first hand-over; from then on it is what the owner got.
OUTGOING_MESSAGE_TEXT = Frozen("collection_outgoingmessage", (
    "recipient", "subject", "body", "body_sha256", "params",
), name="frozen_text", when="OLD.body_sha256 <> ''")
# Once the provider accepted it: to whom it went (the contact row says whether that person may
# hear of the debt) and when. Once delivered: the delivery report. A letter cites these.
OUTGOING_MESSAGE_SENT = Frozen("collection_outgoingmessage", (
    "contact_id", "provider", "provider_message_id", "sent_at",
), name="frozen_sent", when="OLD.sent_at IS NOT NULL")
OUTGOING_MESSAGE_DELIVERED = Frozen("collection_outgoingmessage", (
    "status", "delivered_at", "receipt_code", "receipt_description",
), name="frozen_delivered", when="OLD.status = 'delivered'")
# What the owner said on the follow-up call after payment, and what it opened.
SATISFACTION_RATING = Frozen("collection_satisfactionrating", (
    "id", "community_id", "case_id", "attempt_id", "rating", "ticket_id", "follow_up_id", "staff_id", "created_at",
), refuse_delete=True)
# A row's id is frozen too: swapping two rows' ids would hand one row's proof to the other.

EVIDENCE_COLUMNS = {
    "collection_contactattempt": (CONTACT_ATTEMPT,),
    "collection_attemptattachment": (ATTEMPT_ATTACHMENT,),
    "collection_limitationevent": (LIMITATION_EVENT,),
    "collection_limitationproof": (LIMITATION_PROOF,),
    "collection_satisfactionrating": (SATISFACTION_RATING,),
    "collection_outgoingmessage": (OUTGOING_MESSAGE, OUTGOING_MESSAGE_TEXT, OUTGOING_MESSAGE_SENT,
                                   OUTGOING_MESSAGE_DELIVERED),
}
