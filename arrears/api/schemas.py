"""The API's typed shapes: the OpenAPI document is generated from these.

Money travels as a string of yuan with two decimals ("1280.00"), never a JSON number: a float
cannot hold every fen, and a client's parser would round it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, create_model
from pydantic_core import PydanticCustomError

from arrears.collection.models import Channel, ExcuseReason, Outcome
from arrears.estate.models import TicketKind
from arrears.portal.cashier import DESK_METHODS

MAX_ID = 2**63 - 1  # a bigint: a larger id is refused as invalid, never sent to the database
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Money = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", examples=["1280.00"])]
# ASCII digits only: \d also matches "١٢٣" and "５", which Decimal reads as numbers.
AmountIn = Annotated[str, Field(pattern=r"^[0-9]{1,12}(\.[0-9]{1,2})?$", examples=["1280.00"],
                                description="yuan, at most two decimals, as a string")]


def _no_nul(value: str) -> str:
    """Refused as the pages' forms refuse it: PostgreSQL cannot store a NUL in text."""
    if "\x00" in value:
        raise PydanticCustomError("null_character", "text must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]

_DATE_AND_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}")


def _date_and_time(value):
    """A time of contact is written out: a bare date ("2026-05-12") would be read as midnight, and a
    number as seconds since 1970, and either logged for good as a contact that broke the hours."""
    if not isinstance(value, str) or not _DATE_AND_TIME.match(value):
        raise PydanticCustomError("datetime_parsing", "a time must be ISO 8601 with its date and time")
    return value


def _plausible_year(value: datetime) -> datetime:
    """Years far from now are refused here: at year 1 or 9999 an offset overflows Python's datetime."""
    if not 1900 <= value.year <= 2100:
        raise PydanticCustomError("datetime_parsing", "a time must be ISO 8601 with its date and time")
    return value


When = Annotated[datetime, BeforeValidator(_date_and_time), AfterValidator(_plausible_year)]

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_date(value):
    """A day is "YYYY-MM-DD": a number would be read as seconds since 1970, a datetime cut to its date."""
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise PydanticCustomError("date_parsing", "a date must be YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_date)]
Rate = Annotated[str | None, Field(pattern=r"^\d+\.\d+$", examples=["0.8125"])]

LETTER_CHANNELS = {Channel.LETTER, Channel.LAWYER_LETTER}
LoggedChannel = Literal[tuple(value for value in Channel.values if value not in LETTER_CHANNELS)]  # type: ignore[valid-type]
LoggedOutcome = Literal[tuple(value for value in Outcome.values if value != Outcome.BLOCKED)]  # type: ignore[valid-type]
Reason = Literal[tuple(["", *ExcuseReason.values])]  # type: ignore[valid-type]
Kind = Literal[tuple(TicketKind.values)]  # type: ignore[valid-type]
DeskMethod = Literal[tuple(str(method) for method in DESK_METHODS)]  # type: ignore[valid-type]


class ProblemOut(Schema):
    type: str
    title: str
    status: int
    detail: str
    instance: str
    code: str
    errors: list[dict] | None = None


class CommunityOut(Schema):
    id: int
    name: str
    company: str
    address: str


class UnitOut(Schema):
    id: int
    community_id: int
    building_id: int
    building: str
    entrance: str
    room: str
    label: str
    floor_area: str
    status: str


class ContactOut(Schema):
    kind: str
    value: str = Field(description="masked unless the role sees full numbers")
    relation: str
    may_hear_of_debt: bool


class OwnerOut(Schema):
    id: int
    community_id: int
    kind: str
    name: str = Field(description="masked for roles that see no owner names (front desk)")
    id_number: str = Field(description="always masked; empty for roles that see no owner names (front desk)")
    do_not_contact: bool
    unit_ids: list[int]
    contacts: list[ContactOut]


class ChargeOut(Schema):
    id: int
    community_id: int
    unit_id: int
    owner_id: int
    charge_type: str
    period_start: date
    period_end: date
    due_date: date
    amount: Money
    settled_on: date | None


class PaymentOut(Schema):
    id: int
    community_id: int
    unit_id: int
    owner_id: int
    amount: Money
    paid_on: date
    method: str
    reference: str
    receipt_number: str
    unallocated: Money


class StatementChargeOut(Schema):
    type: str
    period_start: date
    period_end: date
    due: date
    amount: Money
    paid: Money
    waived: Money
    outstanding: Money
    late_fee: Money
    days_overdue: int


class StatementOut(Schema):
    unit_id: int
    as_of: date
    owner: str
    principal: Money
    late_fee: Money
    total: Money
    prepaid: Money
    oldest_due: date | None
    days_overdue: int | None
    charges: list[StatementChargeOut]


class StepOut(Schema):
    task_id: int
    kind: str
    channel: str
    title: str
    due_on: date
    technique: int | None


class CaseOut(Schema):
    id: int
    community_id: int
    unit_id: int
    unit: str
    owner_id: int
    owner: str
    status: str
    opened_on: date
    closed_on: date | None
    close_reason: str
    as_of: date
    principal: Money
    late_fee: Money
    days_overdue: int
    months_overdue: int
    bucket: str
    tier: str
    persona: str
    situations: list[int]
    techniques: list[int]
    limitation_deadline: date | None
    legal_hold: bool
    quiet_until: date | None
    collector_id: int | None
    next_steps: list[StepOut]


class TaskOut(Schema):
    id: int
    community_id: int
    case_id: int
    kind: str
    channel: str
    title: str
    due_on: date
    priority: int
    status: str
    assignee_id: int | None
    technique: int | None
    script_code: str


class KpiOut(Schema):
    as_of: date
    community_id: int | None
    period_collection_rate: Rate
    arrears_rate_amount: Rate
    arrears_rate_households: Rate
    recovery_7d: Rate
    recovery_15d: Rate
    success_rate: Rate
    promise_kept_rate: Rate
    satisfaction_rate: Rate
    avg_days_to_pay: Rate
    figures: dict[str, str | int]


class In(Schema):
    """A request body: a field the API does not know is refused, never dropped (a misspelt
    "charge_id" would otherwise send the money by the company's rule instead of the payer's)."""

    model_config = ConfigDict(extra="forbid")


def page_of(item):
    """The list envelope: the items and the cursor of the next page (null on the last)."""
    return create_model(f"{item.__name__.removesuffix('Out')}Page", __base__=Schema,
                        items=(list[item], ...), next_cursor=(str | None, ...))


class PaymentIn(In):
    unit_id: Id
    owner_id: Id
    amount: AmountIn
    method: DeskMethod
    paid_on: Day
    reference: Text = Field("", max_length=100, description="transfer, POS or order number; required unless cash")
    charge_ids: list[Id] = Field(default_factory=list, max_length=200,
                                  description="the payer's designation: these charges first (民法典第560条)")


class PaymentCreated(Schema):
    id: int
    receipt_number: str
    amount: Money
    unallocated: Money
    case_open: bool = Field(description="whether the owner still has an open collection case on the unit")


class AttemptIn(In):
    channel: LoggedChannel
    outcome: LoggedOutcome
    at: When | None = Field(None, description="when the contact happened, ISO 8601 with date and time (default now; "
                                              "at most 7 days back; without an offset, Beijing time)")
    contact_id: Id | None = None
    reason: Reason = ""
    notes: Text = Field("", max_length=2000)
    promise_amount: AmountIn | None = None
    promise_due: Day | None = None


class AttemptOut(Schema):
    id: int
    case_id: int | None
    channel: str
    outcome: str
    at: datetime
    third_party: bool
    violation_rule: str
    violation_reason: str


class PromiseIn(In):
    amount: AmountIn
    due_on: Day


class PromiseOut(Schema):
    id: int
    case_id: int
    amount: Money
    due_on: date
    made_on: date
    status: str


class TicketIn(In):
    kind: Kind
    summary: Text = Field(min_length=1, max_length=300)
    due_on: Day | None = None


class TicketOut(Schema):
    id: int
    community_id: int
    unit_id: int
    kind: str
    summary: str
    opened_on: date
    due_on: date | None
    status: str
