"""Early-warning scores as collection keeps them: one row per open owner-unit (`RiskScore`).

The insights app fits the model and computes the scores; it hands them here, because collection
reads them (the pre-due reminder comes a week earlier for owners above their community's
threshold) and collection never imports insights (DESIGN.md §4). A score only ever brings a
reminder forward; no sanction, task or case depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from arrears.collection.models import RiskScore

SCORE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class ScoreRow:
    community_id: int
    unit_id: int
    owner_id: int
    score: Decimal  # 0–1, four places
    factors: list  # the three strongest factors: [{"code", "value", "contribution"}, …]


def quantize_score(value: float) -> Decimal:
    """A probability as stored: four places, half up, inside 0–1."""
    return min(Decimal("1"), max(Decimal("0"), Decimal(str(value)).quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)))


def record_risk_scores(*, rows: list[ScoreRow], model_id: int, scored_on: date, community_ids) -> dict:
    """Make the stored scores of `community_ids` exactly `rows`; write only what changed.

    Set-based: the current rows of those communities are read once, then new owner-units are
    inserted, changed ones updated (score, factors or model; `scored_on` moves only with them) and
    owner-units no longer given (no longer open) deleted, one statement each. Scoring the same
    day twice changes nothing.
    """
    community_ids = sorted(set(community_ids))
    wanted = {(row.unit_id, row.owner_id): row for row in rows}
    with transaction.atomic():
        current = {
            (unit_id, owner_id): (pk, score, factors, old_model)
            for pk, unit_id, owner_id, score, factors, old_model in RiskScore.objects.filter(
                community_id__in=community_ids).order_by("pk").select_for_update().values_list(
                "pk", "unit_id", "owner_id", "score", "factors", "model_id")
        }
        new, changed = [], []
        for key, row in wanted.items():
            found = current.get(key)
            if found is None:
                new.append(RiskScore(community_id=row.community_id, unit_id=row.unit_id, owner_id=row.owner_id,
                                     score=row.score, factors=row.factors, model_id=model_id, scored_on=scored_on))
            elif (found[1], found[2], found[3]) != (row.score, row.factors, model_id):
                changed.append(RiskScore(pk=found[0], score=row.score, factors=row.factors, model_id=model_id,
                                         scored_on=scored_on))
        gone = [found[0] for key, found in current.items() if key not in wanted]
        RiskScore.objects.bulk_create(new, batch_size=2000)
        RiskScore.objects.bulk_update(changed, ["score", "factors", "model_id", "scored_on"], batch_size=1000)
        for first in range(0, len(gone), 5000):
            RiskScore.objects.filter(pk__in=gone[first:first + 5000]).delete()
    return {"created": len(new), "updated": len(changed), "deleted": len(gone), "unchanged": len(wanted) - len(new) - len(changed)}


def unit_scores(unit_id: int) -> list[RiskScore]:
    """The stored scores of a unit's owners (the unit page shows them)."""
    return list(RiskScore.objects.filter(unit_id=unit_id).order_by("owner_id"))
