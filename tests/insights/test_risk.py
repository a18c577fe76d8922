"""The early-warning model: features as of a day, the hold-out report, the stored model, the scores."""

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import numpy as np
import pytest
import time_machine
from django.core.management import CommandError, call_command

from arrears.collection.models import RiskScore
from arrears.collection.signals import run_finished
from arrears.core.errors import DomainError
from arrears.insights import risk
from arrears.insights import risk_features as rf
from arrears.insights.models import RiskModel
from tests.insights.conftest import UNITS, late_owner, pay

pytestmark = pytest.mark.django_db
TODAY = date(2026, 2, 15)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def features_on(company_id, accounts, day):
    history = rf.read_history(company_id)
    units = np.array([unit.pk for _i, unit, _o in accounts])
    owners = np.array([owner.pk for _i, _u, owner in accounts])
    return rf.feature_matrix(history, rf.account_key(units, owners), units, np.full(len(units), day.toordinal()))


def test_it_labels_a_bill_late_when_principal_is_left_30_days_after_the_due_date(ledger):
    history = rf.read_history(ledger["company"].pk)
    groups = history.groups
    assert len(groups.key) == UNITS * 24
    # paid 45 days late is late, 3 days early is not (whatever the one-in-ten flips)
    assert 0.25 < groups.late.mean() < 0.45
    assert set(np.round(groups.left, 2)) <= {0.0, 200.0}


def test_a_feature_as_of_a_day_does_not_change_when_later_rows_are_added(ledger):
    # given the features of every owner-unit as of 2025-09-20
    accounts, day = ledger["accounts"], date(2025, 9, 20)
    before = features_on(ledger["company"].pk, accounts, day)
    # when rows dated on or after that day arrive: payments, a new owner's bill, a complaint
    _i, unit, owner = accounts[0]
    pay(unit, owner, "600.00", date(2025, 9, 20))
    pay(unit, owner, "400.00", date(2026, 2, 1))
    from arrears.estate.models import ServiceTicket
    ServiceTicket.objects.create(community=unit.community, unit=unit, kind="complaint", summary="漏水",
                                 opened_on=date(2025, 10, 1))
    after = features_on(ledger["company"].pk, accounts, day)
    # then nothing as of that day moved
    np.testing.assert_array_equal(before, after)
    # and a day later the payment does count
    assert not np.array_equal(features_on(ledger["company"].pk, accounts, date(2025, 9, 21))[0], before[0])


def test_late_owners_have_a_late_history_and_overdue_principal(ledger):
    x = features_on(ledger["company"].pk, ledger["accounts"], date(2025, 9, 20))
    share, overdue = rf.FEATURE_CODES.index("late_share"), rf.FEATURE_CODES.index("overdue_months")
    late = np.array([late_owner(i) for i, _u, _o in ledger["accounts"]])
    assert x[late, share].mean() > 0.7 > 0.3 > x[~late, share].mean()
    assert x[late, overdue].mean() >= 1 and x[~late, overdue].mean() < 0.5


@pytest.mark.parametrize(("scores", "labels", "expected"), [
    # 20 rows, k = 2: the two highest are both late
    ([0.9, 0.8] + [0.1] * 18, [1, 1] + [0] * 18, (1.0, 1.0, 2)),
    # a 0/1 score with 5 tied at the top, 2 of them late: the 2 places are filled at the tied rate 2/5
    ([1] * 5 + [0] * 15, [1, 1, 0, 0, 0] + [0] * 14 + [1], (0.4, round(0.8 / 3, 4), 2)),
])
def test_the_top_decile_shares_ties_out_at_their_own_rate(scores, labels, expected):
    precision, recall, k = risk.top_decile(np.array(scores, dtype=float), np.array(labels, dtype=float))
    assert (round(precision, 4), round(recall, 4), k) == expected


def test_training_reports_both_models_beside_the_baseline_on_the_months_after_the_cut_off(ledger):
    report = risk.train(company_id=ledger["company"].pk, cut_off=date(2025, 7, 1))
    # train: bills whose outcome was known on the cut-off; test: bills due on or after it
    assert (report["train"]["first_due"], report["train"]["last_due"]) == ("2024-01-05", "2025-05-05")
    assert (report["test"]["first_due"], report["test"]["last_due"]) == ("2025-07-05", "2025-12-05")
    assert (report["train"]["examples"], report["test"]["examples"]) == (17 * UNITS, 6 * UNITS)
    assert set(report["metrics"]) == {risk.LOGISTIC, risk.BOOSTING, risk.BASELINE}
    for metrics in report["metrics"].values():
        assert 0.5 <= metrics["auc"] <= 1
        assert len(metrics["reliability"]) == 10
        assert sum(row["count"] for row in metrics["reliability"]) == 6 * UNITS
    assert report["metrics"][risk.LOGISTIC]["auc"] >= report["metrics"][risk.BASELINE]["auc"] - 0.05
    assert report["algorithm"] in (risk.LOGISTIC, risk.BOOSTING)
    assert f"auc_{risk.LOGISTIC}" in report["validation"]
    # saved with the model, and the dashboard reads it
    model = RiskModel.objects.get()
    assert (model.active, model.cut_off, model.report["metrics"]) == (True, date(2025, 7, 1), report["metrics"])
    assert risk.latest_report(ledger["company"].pk)["model_id"] == model.pk


def test_training_is_deterministic(ledger):
    first = risk.train(company_id=ledger["company"].pk, cut_off=date(2025, 7, 1), save=False)
    second = risk.train(company_id=ledger["company"].pk, cut_off=date(2025, 7, 1), save=False)
    assert first == second


def test_a_new_model_replaces_the_active_one(ledger):
    risk.train(company_id=ledger["company"].pk, cut_off=date(2025, 7, 1))
    risk.train(company_id=ledger["company"].pk, cut_off=date(2025, 8, 1))
    assert list(RiskModel.objects.order_by("pk").values_list("active", "cut_off")) == [
        (False, date(2025, 7, 1)), (True, date(2025, 8, 1))]


def test_a_model_whose_bytes_do_not_match_their_digest_is_refused(ledger):
    risk.train(company_id=ledger["company"].pk, cut_off=date(2025, 7, 1))
    model = RiskModel.objects.get()
    model.fitted = bytes(model.fitted)[:-1] + b"x"
    model.save()
    with pytest.raises(DomainError) as refused:
        risk.score(company_id=ledger["company"].pk, as_of=TODAY)
    assert refused.value.code == "model_digest"
    assert RiskScore.objects.count() == 0


def test_scoring_writes_one_row_per_open_owner_unit_with_three_factors_and_a_rescore_changes_nothing(ledger):
    risk.train(company_id=ledger["company"].pk, cut_off=date(2025, 7, 1))
    result = risk.score(company_id=ledger["company"].pk, as_of=TODAY)
    assert (result["scored"], result["created"]) == (UNITS, UNITS)
    scores = {row.unit_id: row for row in RiskScore.objects.all()}
    late = [scores[unit.pk].score for i, unit, _o in ledger["accounts"] if late_owner(i)]
    prompt = [scores[unit.pk].score for i, unit, _o in ledger["accounts"] if not late_owner(i)]
    assert min(late) > max(prompt)
    row = next(iter(scores.values()))
    assert len(row.factors) == 3 and {"code", "value", "contribution"} <= set(row.factors[0])
    assert Decimal("0") <= row.score <= Decimal("1")
    assert risk.score(company_id=ledger["company"].pk, as_of=TODAY)["unchanged"] == UNITS


def test_the_score_command_refuses_clearly_without_a_model(ledger):
    with pytest.raises(CommandError, match="risk train"):
        call_command("risk", "score", "--date", "2026-02-15")


def test_the_train_command_prints_the_report_and_saves_it(ledger):
    out = StringIO()
    call_command("risk", "train", "--cut-off", "2025-07-01", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["cut_off"] == "2025-07-01"
    out = StringIO()
    call_command("risk", "train", "--cut-off", "2025-07-01", stdout=out)
    assert "late_last_time" in out.getvalue() and "AUC" in out.getvalue()
    assert RiskModel.objects.filter(active=True).count() == 1


def test_too_little_history_is_refused(ledger):
    with pytest.raises(DomainError) as refused:
        risk.train(company_id=ledger["company"].pk, cut_off=date(2024, 2, 1))
    assert refused.value.code == "thin_history"


def test_after_the_daily_run_it_rescores_with_the_last_model_and_skips_without_one(ledger):
    run_finished.send(sender=None, as_of=TODAY, summary={})
    assert RiskScore.objects.count() == 0  # no model yet: skipped
    risk.train(company_id=ledger["company"].pk, cut_off=date(2025, 7, 1))
    run_finished.send(sender=None, as_of=TODAY, summary={})
    assert RiskScore.objects.count() == UNITS


def test_the_monthly_task_retrains(ledger):
    from arrears.insights.tasks import retrain_risk_models

    assert [row["company_id"] for row in retrain_risk_models("2026-02-15")] == [ledger["company"].pk]
    assert RiskModel.objects.filter(active=True).count() == 1
