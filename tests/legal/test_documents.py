"""Court documents drafted from a matter: the figures, the parties, the court, the company's own text."""

from datetime import date
from decimal import Decimal

import pytest

from arrears.core.errors import DomainError
from arrears.legal import documents
from arrears.legal.default_templates import DEFAULTS
from arrears.legal.models import DocumentTemplate
from tests.notices.test_pdf import text_of

from .conftest import TODAY


def test_it_states_the_hand_computed_claim_in_the_complaint(desk):
    # given two charges of ¥300.00 due 2025-01-05 and 2025-02-05, 万分之五 a day after 15 grace days, capped at 30%;
    # claim date 2025-06-30: 176 − 15 = 161 days → 300 × 0.0005 × 161 = 24.15; 145 − 15 = 130 days → 19.50
    matter = desk["matter"]

    # when
    text = text_of(documents.render("complaint", matter, TODAY))

    # then
    assert "民事起诉状" in text
    assert "¥600.00（大写：人民币陆佰元整）" in text
    assert "违约金¥43.65（大写：人民币肆拾叁元陆角伍分）" in text
    assert "¥643.65（大写：人民币陆佰肆拾叁元陆角伍分）" in text
    assert "2025-01-05300.0016124.15" in text and "2025-02-05300.0013019.50" in text
    assert "合计600.0043.65" in text
    assert "万分之五" in text and "15日宽限期" in text and "30%为限" in text
    assert "2025年1月1日至2025年2月28日" in text and "计算至2025年6月30日" in text
