"""The unit page shows the owner's early-warning score to staff who see amounts, and to nobody else."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from arrears.collection.risk import ScoreRow, record_risk_scores

pytestmark = pytest.mark.django_db

FACTORS = [
    {"code": "late_share", "value": 0.75, "contribution": 1.8},
    {"code": "complaints", "value": 0.6931, "contribution": 0.7},
    {"code": "prepaid_months", "value": 2.0, "contribution": -0.4},
]


@pytest.fixture
def scored(estate):
    unit, owner = estate["unit"], estate["owner"]
    record_risk_scores(rows=[ScoreRow(unit.community_id, unit.pk, owner.pk, Decimal("0.8125"), FACTORS)], model_id=3,
                       scored_on=date(2026, 5, 9), community_ids=[unit.community_id])
    return estate


def test_it_shows_the_score_and_its_three_factors_in_chinese(client, insider, scored):
    client.force_login(insider)
    html = client.get(reverse("staff:unit", args=[scored["unit"].pk])).content.decode()
    assert 'data-testid="risk"' in html
    assert "<strong>81%</strong>" in html
    assert "过往逾期比例：75%" in html and "投诉与整改：1" in html and "预存可抵（月数）：2.0" in html
    assert html.count("推高风险") == 2 and html.count("降低风险") == 1


def test_it_shows_the_score_in_english_to_who_chose_english(client, insider, scored):
    client.force_login(insider)
    client.cookies.load({"django_language": "en"})
    html = client.get(reverse("staff:unit", args=[scored["unit"].pk])).content.decode()
    assert "Chance the next bill is still unpaid 30 days after its due date: <strong>81%</strong>" in html
    assert "Share of past bills paid late" in html and "raises the risk" in html


def test_the_front_desk_sees_no_risk(client, front_desk, scored):
    client.force_login(front_desk)
    response = client.get(reverse("staff:unit", args=[scored["unit"].pk]))
    assert response.context["risk_scores"] == []
    assert 'data-testid="risk"' not in response.content.decode()
