"""Which columns of the ledger the database refuses to change (DESIGN.md §3 and §4: the ledger is append-only).

A payment restarts the limitation period from its date (民法典第195条) and is the owner's proof of
what was paid: who paid, how much, when and for what never change once written; a mistake is
undone by a `PaymentReversal` and its mirror allocations, never by an edit. Only the cached
`unallocated` credit moves. Extending a list is a one-line change here plus a migration with
`FreezeColumns(new, previous=old)` that copies both lists.
"""

from arrears.core.db import Frozen

PAYMENT = Frozen("ledger_payment", (
    "id", "company_id", "community_id", "unit_id", "owner_id", "amount", "paid_on", "method", "reference",
    "receipt_number", "operator_id", "designation", "corrects_id", "repeats_reference", "created_at",
), refuse_delete=True)
PAYMENT_REVERSAL = Frozen("ledger_paymentreversal", (
    "id", "community_id", "payment_id", "reversed_on", "reason", "requested_by_id", "approved_by_id", "created_at",
), refuse_delete=True)
ALLOCATION = Frozen("ledger_allocation", (
    "id", "community_id", "payment_id", "charge_id", "component", "amount", "value_date", "reversal_id",
), refuse_delete=True)

# Incentives (seed 000): what a programme granted, and the prepaid years it promised a discount on.
PREPAY_AWARD = Frozen("ledger_prepayaward", (
    "id", "community_id", "programme_id", "unit_id", "owner_id", "payment_id", "starts", "ends", "created_at",
), refuse_delete=True)
INCENTIVE_GRANT = Frozen("ledger_incentivegrant", (
    "id", "community_id", "programme_id", "kind", "charge_id", "component", "waiver_id", "amount", "granted_on",
    "payment_id", "award_id", "withdraws_id", "restores_id", "created_at",
), refuse_delete=True)

# A waiver lowers what the owner owes: what was asked, by whom and for what never changes, and once
# decided the decision stands (a waiver granted in error is answered by a new charge, not an edit).
WAIVER = Frozen("ledger_waiver", (
    "id", "community_id", "charge_id", "component", "amount", "reason", "requested_by_id", "requested_on",
), refuse_delete=True)
WAIVER_DECISION = Frozen("ledger_waiver", (
    "status", "approved_by_id", "decided_on",
), name="frozen_decision", when="OLD.status <> 'requested'")

EVIDENCE_COLUMNS = {
    "ledger_payment": (PAYMENT,),
    "ledger_paymentreversal": (PAYMENT_REVERSAL,),
    "ledger_allocation": (ALLOCATION,),
    "ledger_prepayaward": (PREPAY_AWARD,),
    "ledger_incentivegrant": (INCENTIVE_GRANT,),
    "ledger_waiver": (WAIVER, WAIVER_DECISION),
}
