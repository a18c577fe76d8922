"""The legal desk's rules as plain values: each route's stages with the follow-up each one sets,
which route may follow which, and how an award is posted against the claimed charges.

The periods are the Civil Procedure Law's (民事诉讼法): the court decides on a complaint within
7 days and on a payment-order application within 5; the owner may object to a payment order
within 15 days of service, and appeal a first-instance judgment within 15 days of service;
enforcement is applied for within 2 years of the last day for performance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from arrears.core.money import ZERO

MEDIATION, PAYMENT_ORDER, SUIT, ARBITRATION, ENFORCEMENT = "mediation", "payment_order", "suit", "arbitration", "enforcement"


@dataclass(frozen=True)
class Stage:
    code: str
    zh: str
    en: str
    # The follow-up task the stage sets: days after the stage's date (negative: before it), and what to do.
    follow_days: int | None = None
    follow_zh: str = ""
    follow_en: str = ""
    document: bool = False  # the stage is proven by a document (a receipt, a ruling)
    reference: bool = False  # it carries the court's case number
    amount: bool = False  # it carries an amount (agreed in mediation, recovered in enforcement)
    scheduled: bool = False  # its date may lie ahead (a hearing, a mediation session)
    files: bool = False  # filing: fixes the claim and restarts limitation (民法典第195条), with the court's receipt


STAGES: dict[str, tuple[Stage, ...]] = {
    MEDIATION: (
        Stage("applied", "申请诉前调解", "applied for pre-suit mediation", 14, "跟进调解安排", "follow up the mediation date",
              document=True, files=True),
        Stage("session", "调解日期", "mediation session", -1, "准备并出席调解", "prepare for and attend the mediation",
              scheduled=True),
        Stage("agreed", "达成调解协议", "mediation agreement reached", 30, "跟进调解协议履行", "follow up performance of the agreement",
              document=True, amount=True),
        Stage("failed", "调解不成", "mediation failed", 7, "决定转支付令或起诉", "decide: payment order or suit"),
    ),
    PAYMENT_ORDER: (
        Stage("applied", "提交支付令申请", "payment order applied for", 5, "跟进法院是否受理", "follow up whether the court accepts",
              document=True, files=True),
        Stage("accepted", "法院受理", "accepted by the court", 15, "跟进支付令发出", "follow up the issue of the order",
              reference=True),
        Stage("issued", "支付令发出", "payment order issued", 7, "跟进支付令送达", "follow up service of the order", document=True),
        Stage("served", "支付令送达业主", "order served on the owner", 15, "异议期届满：确认业主是否异议、是否清偿",
              "objection period over: check objection or payment"),
        Stage("objected", "业主提出异议", "owner objected", 7, "支付令失效：决定是否起诉", "order lapsed: decide on a suit",
              document=True),
        Stage("effective", "支付令生效", "payment order effective", 7, "业主未履行：申请强制执行", "unpaid: apply for enforcement",
              document=True),
    ),
    SUIT: (
        Stage("filed", "提交起诉", "complaint filed", 7, "跟进法院立案", "follow up the court's acceptance", document=True,
              files=True),
        Stage("accepted", "法院立案受理", "accepted, case number given", 7, "缴纳诉讼费，准备证据", "pay the court fee, prepare evidence",
              reference=True),
        Stage("hearing", "开庭", "hearing", -1, "准备并出庭", "prepare for and attend the hearing", scheduled=True),
        Stage("judgment", "一审判决送达", "judgment served", 15, "上诉期届满：确认是否上诉、判决是否生效",
              "appeal period over: check for an appeal and effect", document=True),
        Stage("mediated", "法院调解结案", "settled by court mediation", 30, "跟进调解书履行", "follow up performance",
              document=True, amount=True),
        Stage("appealed", "提起上诉", "appealed", 30, "跟进二审", "follow up the appeal", document=True),
        Stage("effective", "判决生效", "judgment effective", 10, "履行期届满：未履行则申请强制执行",
              "performance period over: apply for enforcement if unpaid", document=True),
        Stage("withdrawn", "撤诉", "suit withdrawn", None, document=True),
    ),
    ARBITRATION: (
        Stage("applied", "申请仲裁", "arbitration applied for", 7, "跟进仲裁受理", "follow up acceptance", document=True, files=True),
        Stage("accepted", "仲裁受理", "accepted", 7, "准备证据", "prepare evidence", reference=True),
        Stage("hearing", "仲裁开庭", "hearing", -1, "准备并出庭", "prepare for and attend the hearing", scheduled=True),
        Stage("award", "裁决书送达", "award served", 10, "履行期届满：未履行则申请强制执行",
              "performance period over: apply for enforcement if unpaid", document=True),
    ),
    ENFORCEMENT: (
        Stage("applied", "申请强制执行", "enforcement applied for", 7, "跟进执行立案", "follow up the enforcement case",
              document=True, files=True),
        Stage("accepted", "执行立案", "enforcement case opened", 30, "跟进执行进展", "follow up enforcement", reference=True),
        Stage("recovered", "执行到款", "amount recovered", 3, "核对到账并交财务登记缴费", "check receipt and have finance record the payment",
              amount=True),
        Stage("terminated", "终结本次执行", "enforcement ended for now", None, document=True),
        Stage("completed", "执行完毕", "enforcement completed", None, document=True),
    ),
}

# Which route may follow: mediation fails into a payment order or a suit; an objected order into
# a suit; a judgment, an effective order or an award into enforcement.
NEXT_ROUTES = {
    MEDIATION: frozenset({PAYMENT_ORDER, SUIT, ARBITRATION, ENFORCEMENT}),
    PAYMENT_ORDER: frozenset({SUIT, ENFORCEMENT}),
    SUIT: frozenset({ENFORCEMENT}),
    ARBITRATION: frozenset({ENFORCEMENT}),
    ENFORCEMENT: frozenset(),
}


def stage(route: str, code: str) -> Stage | None:
    return next((s for s in STAGES.get(route, ()) if s.code == code), None)


# -- posting an award --------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A claimed charge on the award's date: its id, due date, principal and late fee outstanding."""

    charge_id: int
    due: date
    outstanding: Decimal
    late_fee: Decimal


@dataclass(frozen=True)
class PostingPlan:
    principal_cuts: tuple[tuple[int, Decimal], ...]  # (charge id, principal to waive)
    late_fee_cuts: tuple[tuple[int, Decimal], ...]  # (charge id, late fee to waive)
    late_fee_added: Decimal  # awarded beyond the ledger's late fee: charged as its own item
    costs: Decimal  # the court costs put on the owner: charged as their own item

    @property
    def principal_cut(self) -> Decimal:
        return sum((amount for _, amount in self.principal_cuts), ZERO)

    @property
    def late_fee_cut(self) -> Decimal:
        return sum((amount for _, amount in self.late_fee_cuts), ZERO)


class AwardExceedsClaim(ValueError):
    """The award's principal is more than the claimed charges still owe: nothing is charged without basis."""

    def __init__(self, outstanding: Decimal):
        super().__init__(outstanding)
        self.outstanding = outstanding


def _take_oldest_first(lines: list[Line], total: Decimal, field: str) -> tuple[tuple[int, Decimal], ...]:
    cuts, left = [], total
    for line in sorted(lines, key=lambda item: (item.due, item.charge_id)):
        if left <= ZERO:
            break
        take = min(getattr(line, field), left)
        if take > ZERO:
            cuts.append((line.charge_id, take))
            left -= take
    return tuple(cuts)


def posting_plan(lines: list[Line], *, principal: Decimal, late_fee: Decimal, costs: Decimal) -> PostingPlan:
    """What makes the claimed charges equal the award on its date.

    A court that allows less principal has usually barred the oldest periods (limitation) or
    rejected some: the cut falls on the oldest charges first; so does a cut in the late fee
    (第585条). A late fee awarded beyond the ledger's and the costs put on the owner become their
    own charges. Principal awarded beyond what the charges owe is refused: the claim is the
    ledger's, and payments made during the suit are deducted from it, not added back.
    """
    owed = sum((line.outstanding for line in lines), ZERO)
    if principal > owed:
        raise AwardExceedsClaim(owed)
    fees = sum((line.late_fee for line in lines), ZERO)
    return PostingPlan(
        principal_cuts=_take_oldest_first(lines, owed - principal, "outstanding"),
        late_fee_cuts=_take_oldest_first(lines, max(fees - late_fee, ZERO), "late_fee"),
        late_fee_added=max(late_fee - fees, ZERO),
        costs=costs,
    )
