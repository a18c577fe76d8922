"""期限看板 (the limitation board): every overdue charge of the user's units whose limitation
deadline (民法典第188/195条) falls within 30 or 90 days, grouped by community, with what would
restart it. The rows are `collection.reports.limitation_rows`, the same as `arrears report
limitation`; a legal user's home page leads with the nearest of them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from arrears.collection import limitation
from arrears.collection.assess import PART_PAYMENT
from arrears.collection.models import LimitationEvent, LimitationEventKind
from arrears.collection.reports import LIMITATION_WINDOW_DAYS, limitation_rows
from arrears.core import roles
from arrears.estate import selectors as estate_selectors
from arrears.staff import access

WINDOWS = (30, LIMITATION_WINDOW_DAYS)
HOME_ROWS = 10
# What each restart needs to count (collection/limitation.py PROOFS_FOR); a part payment is its own proof.
RESTART_LABELS = {
    LimitationEventKind.WRITTEN_DEMAND.value: (_lazy("书面催告送达"), _lazy("经函件模块出具，有挂号/EMS 单号或业主签收回执")),
    LimitationEventKind.ACKNOWLEDGEMENT.value: (_lazy("业主书面确认欠款"), _lazy("业主签字的确认书，或业主线上确认")),
    LimitationEventKind.PLAN.value: (_lazy("业主确认分期"), _lazy("业主线上申请，或签字的分期协议")),
    LimitationEventKind.PROMISE.value: (_lazy("业主承诺缴费"), _lazy("当日通话录音，或业主书面确认")),
    PART_PAYMENT: (_lazy("部分缴费"), _lazy("该笔费用收到部分款项，入账即为凭证，只对该笔费用重新起算")),
    LimitationEventKind.SUIT.value: (_lazy("起诉"), _lazy("法院受理凭证")),
}


@dataclass(frozen=True)
class BoardRow:
    community: str
    unit: object
    owner: str
    charge_type: str
    period_start: date
    due: date
    outstanding: Decimal
    deadline: date
    days_left: int
    restart_by: list
    last_restart_on: date | None
    last_restart: str
    # Restarts already recorded but not yet proven (待补证据): proving one moves this deadline.
    pending: list


def may_see_board(user) -> bool:
    return user.has_perm("collection.view_case") and access.sees_amounts(user)


def board_rows(user, today: date, *, community_ids, days: int = LIMITATION_WINDOW_DAYS) -> list[BoardRow]:
    """The board's rows of `community_ids` in the user's scope: a fixed number of queries."""
    rows = limitation_rows(today, community_ids=community_ids, units=estate_selectors.units_visible_to(user), days=days)
    waiting = defaultdict(list)
    if rows:
        events = LimitationEvent.objects.filter(unit_id__in={row["_unit"].pk for row in rows})
        for event in limitation.unproven_events(events).order_by("occurred_on", "pk"):
            waiting[(event.unit_id, event.owner_id)].append(event)
    return [BoardRow(
        community=row["community"], unit=row["_unit"], owner=row["owner"], charge_type=row["charge_type"],
        period_start=date.fromisoformat(row["period_start"]), due=date.fromisoformat(row["due"]),
        outstanding=Decimal(row["outstanding"]), deadline=row["_deadline"], days_left=(row["_deadline"] - today).days,
        restart_by=[RESTART_LABELS[code][0] for code in row["restart_by"]], last_restart_on=row["_restarted_on"],
        last_restart=RESTART_LABELS[row["last_restart"]["kind"]][0] if row["last_restart"] else "",
        pending=[(RESTART_LABELS[event.kind][0], event.occurred_on) for event in waiting[(row["_unit"].pk, row["_owner_id"])]
                 if event.occurred_on > date.fromisoformat(row["due"]) and event.kind in RESTART_LABELS],
    ) for row in rows]


def home_top(user, today: date) -> dict | None:
    """The top of a legal user's home page: the next deadlines in their scope, or None for other roles."""
    if roles.LEGAL not in access.role_names(user) or not may_see_board(user):
        return None
    community_ids = list(estate_selectors.communities_visible_to(user).values_list("pk", flat=True))
    rows = sorted(board_rows(user, today, community_ids=community_ids), key=lambda row: row.deadline)
    return {"rows": rows[:HOME_ROWS], "more": max(len(rows) - HOME_ROWS, 0), "days": LIMITATION_WINDOW_DAYS}


@login_required
def limitation_board(request):
    if not may_see_board(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    wanted = request.GET.get("days") or ""
    days = int(wanted) if wanted.isascii() and wanted.isdigit() and int(wanted) in WINDOWS else LIMITATION_WINDOW_DAYS
    communities = list(estate_selectors.communities_visible_to(request.user).order_by("name").values_list("pk", "name"))
    asked = request.GET.get("community") or ""
    community = int(asked) if asked.isascii() and asked.isdigit() and int(asked) in {pk for pk, _ in communities} else None
    community_ids = [community] if community is not None else [pk for pk, _ in communities]
    rows = board_rows(request.user, today, days=days, community_ids=community_ids)
    return render(request, "staff/limitation_board.html", {
        "rows": rows, "today": today, "days": days, "windows": WINDOWS, "communities": communities,
        "community": community, "restarts": list(RESTART_LABELS.values()),
    })
