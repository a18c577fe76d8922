"""The early-warning risk model (issue 17, part 5): who is likely to leave the next bill unpaid.

For each owner-unit and bill (the charges due on one day), the label is whether principal was
still outstanding 30 days after the due date. The prediction is made `LEAD_DAYS` before the due
date, because that is when it is used: the pre-due reminder of an owner above the community's
threshold goes out 14 days ahead instead of 7. Features come from the ledger and the case history
only (risk_features.py), each as of the prediction day; no personal data (name, age, sex, origin,
ID number, phone) is read.

`train` fits on the company's own history and reports on a time-based hold-out: the model is fitted
on bills whose outcome was known by the cut-off (due + 30 before it) and tested on bills due on or
after it. Logistic regression is the baseline; gradient boosting is chosen only when it beats it on
a validation slice carved from the end of the training period (never on the test set). Both are
reported on the test set beside the naive rule "was late last time". The model saved is the chosen
recipe refitted on every bill whose outcome is known. `score` scores every open owner-unit with the
company's active model and hands the scores to collection (collection.risk.record_risk_scores).
"""

from __future__ import annotations

import io
import logging
import math
from datetime import date

# scikit-learn, joblib and threadpoolctl are imported where a model is fitted, evaluated or loaded: the unit
# page imports this module, and every process serving it would otherwise pay about 1.5 s to start.
import numpy as np
from django.db import transaction
from django.utils import timezone

from arrears.collection.risk import ScoreRow, quantize_score, record_risk_scores, unit_scores
from arrears.core.errors import DomainError
from arrears.estate.models import Community, Company
from arrears.insights import risk_features as rf
from arrears.insights.models import RiskModel
from arrears.ledger import rules

log = logging.getLogger("arrears.insights.risk")

LEAD_DAYS = 14  # predicted 14 days before the due date: the day the early reminder is decided
HOLD_OUT_MONTHS = 6  # default cut-off: six months before the last bill whose outcome is known
VALIDATION_MONTHS = 3  # the end of the training period that chooses between the two algorithms
MIN_EXAMPLES = 50
RANDOM_STATE = 0
LOGISTIC, BOOSTING, BASELINE = "logistic_regression", "gradient_boosting", "late_last_time"
FACTORS = 3
# One OpenMP thread: the fits are small, and boosting's threads spinning against the web workers
# on a shared machine cost 30 times the work (13 s instead of 0.4 s for 500 rows).
THREADS = 1


# ----------------------------------------------------------------------------- estimators


def _estimator(algorithm: str):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if algorithm == LOGISTIC:
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
    return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, l2_regularization=1.0,
                                          early_stopping=False, random_state=RANDOM_STATE)


def _fit(algorithm: str, x: np.ndarray, y: np.ndarray):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=THREADS):
        return _estimator(algorithm).fit(x, y)


def _probability(estimator, x: np.ndarray) -> np.ndarray:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=THREADS):
        return estimator.predict_proba(x)[:, 1] if len(x) else np.zeros(0)


# ----------------------------------------------------------------------------- metrics (pure)


def top_decile(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float, int]:
    """Precision and recall among the top 10% by score (k = ceil(n/10)); ties shared out evenly.

    Where the k-th place falls inside a run of equal scores (the baseline's 0/1 score always
    does), the places left are filled from the tied run at its own positive rate: the expected
    result of breaking the ties at random, not the luck of the sort order.
    """
    n, positives = len(scores), float(labels.sum())
    if not n:
        return 0.0, 0.0, 0
    k = math.ceil(n / 10)
    threshold = np.sort(scores)[::-1][k - 1]
    above, tied = scores > threshold, scores == threshold
    hits = labels[above].sum() + (k - above.sum()) * labels[tied].mean()
    return float(hits / k), float(hits / positives) if positives else 0.0, k


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> list[dict]:
    """Ten equal-width bins of predicted probability: count, mean predicted, observed rate."""
    index = np.minimum((probabilities * bins).astype(int), bins - 1)
    table = []
    for b in range(bins):
        inside = index == b
        count = int(inside.sum())
        table.append({
            "bin": f"{b / bins:.1f}–{(b + 1) / bins:.1f}", "count": count,
            "mean_predicted": round(float(probabilities[inside].mean()), 4) if count else None,
            "observed": round(float(labels[inside].mean()), 4) if count else None,
        })
    return table


def evaluate(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """ROC AUC, top-decile precision and recall, Brier score and the reliability table."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    auc = float(roc_auc_score(labels, probabilities)) if 0 < labels.sum() < len(labels) else None
    precision, recall, k = top_decile(probabilities, labels)
    return {
        "auc": None if auc is None else round(auc, 4),
        "top_decile_precision": round(precision, 4), "top_decile_recall": round(recall, 4), "top_decile_size": k,
        "brier": round(float(brier_score_loss(labels, probabilities)), 4) if len(labels) else None,
        "reliability": reliability(probabilities, labels),
    }


# ----------------------------------------------------------------------------- examples


class Examples:
    """Every bill of a company whose outcome is known, with its features as of due − LEAD_DAYS."""

    def __init__(self, history: rf.History, *, known_by: date):
        groups = history.groups
        keep = groups.due + rf.LATE_AFTER_DAYS < known_by.toordinal()
        self.due = groups.due[keep]
        self.y = groups.late[keep]
        self.x = rf.feature_matrix(history, groups.key[keep], groups.unit[keep], self.due - LEAD_DAYS)
        self.late_last = self.x[:, rf.FEATURE_CODES.index("late_last")]

    def where(self, mask):
        return self.x[mask], self.y[mask]


def _span(examples: Examples, mask) -> dict:
    days = examples.due[mask]
    return {
        "examples": int(mask.sum()), "late": int(examples.y[mask].sum()),
        "late_rate": round(float(examples.y[mask].mean()), 4) if mask.any() else None,
        "first_due": date.fromordinal(int(days.min())).isoformat() if mask.any() else None,
        "last_due": date.fromordinal(int(days.max())).isoformat() if mask.any() else None,
    }


def _refuse_if_thin(zh: str, en: str, y: np.ndarray) -> None:
    if len(y) < MIN_EXAMPLES or y.sum() == 0 or y.sum() == len(y):
        raise DomainError(
            f"{zh}样本不足（{len(y)} 笔，逾期 {int(y.sum())} 笔）：需要至少 {MIN_EXAMPLES} 笔，且逾期与按时都有",
            f"too few {en}examples ({len(y)}, {int(y.sum())} late): at least {MIN_EXAMPLES}, with both outcomes",
            code="thin_history",
        )


def default_cut_off(examples: Examples) -> date:
    """Six months before the last bill whose outcome is known, on the first of that month."""
    last = date.fromordinal(int(examples.due.max()))
    return rules.add_months(rules.month_start(last), -(HOLD_OUT_MONTHS - 1))


# ----------------------------------------------------------------------------- train


def train(*, company_id: int, today: date | None = None, cut_off: date | None = None, save: bool = True) -> dict:
    """Fit, evaluate on the hold-out, save the model and its report (made active); return the report."""
    from sklearn.metrics import roc_auc_score

    today = today or timezone.localdate()
    history = rf.read_history(company_id)
    examples = Examples(history, known_by=today)
    _refuse_if_thin("", "", examples.y)
    cut_off = cut_off or default_cut_off(examples)
    # Train as if on the cut-off day: only bills whose outcome was known by then.
    train_mask = examples.due + rf.LATE_AFTER_DAYS < cut_off.toordinal()
    test_mask = examples.due >= cut_off.toordinal()
    validation_start = rules.add_months(cut_off, -VALIDATION_MONTHS)
    fit_mask = examples.due + rf.LATE_AFTER_DAYS < validation_start.toordinal()
    validation_mask = train_mask & (examples.due >= validation_start.toordinal())
    x_train, y_train = examples.where(train_mask)
    x_test, y_test = examples.where(test_mask)
    _refuse_if_thin("训练", "training ", y_train)
    _refuse_if_thin("检验", "test ", y_test)

    # Choose on the validation slice (fitted on what precedes it), never on the test set.
    validation = {"examples": int(validation_mask.sum()), "first_due": validation_start.isoformat()}
    chosen = LOGISTIC
    x_fit, y_fit = examples.where(fit_mask)
    x_val, y_val = examples.where(validation_mask)
    if 0 < y_fit.sum() < len(y_fit) and 0 < y_val.sum() < len(y_val):
        for algorithm in (LOGISTIC, BOOSTING):
            probabilities = _probability(_fit(algorithm, x_fit, y_fit), x_val)
            validation[f"auc_{algorithm}"] = round(float(roc_auc_score(y_val, probabilities)), 4)
        if validation[f"auc_{BOOSTING}"] > validation[f"auc_{LOGISTIC}"]:
            chosen = BOOSTING
    else:
        validation["note"] = "validation slice has one outcome only: logistic regression kept"

    # The early reminder only ever reaches owners with nothing overdue (pre-due messages skip open
    # cases): the same figures on that part of the test set say whether the model helps there.
    clear = x_test[:, rf.FEATURE_CODES.index("overdue_months")] == 0
    metrics, clear_metrics = {}, {}
    for algorithm in (LOGISTIC, BOOSTING):
        probabilities = _probability(_fit(algorithm, x_train, y_train), x_test)
        metrics[algorithm] = evaluate(probabilities, y_test)
        clear_metrics[algorithm] = evaluate(probabilities[clear], y_test[clear])
    # The naive rule as a probability: the late rate, in training, of those late / not late last time.
    last_train = examples.late_last[train_mask]
    rate = {flag: float(y_train[last_train == flag].mean()) if (last_train == flag).any() else float(y_train.mean())
            for flag in (0.0, 1.0)}
    last_test = examples.late_last[test_mask]
    baseline = evaluate(np.where(last_test == 1.0, rate[1.0], rate[0.0]), y_test)
    baseline["auc"] = (round(float(roc_auc_score(y_test, last_test)), 4)
                       if 0 < y_test.sum() < len(y_test) and 0 < last_test.sum() < len(last_test) else 0.5)
    metrics[BASELINE] = baseline
    clear_metrics[BASELINE] = evaluate(np.where(last_test == 1.0, rate[1.0], rate[0.0])[clear], y_test[clear])
    clear_metrics[BASELINE]["auc"] = (round(float(roc_auc_score(y_test[clear], last_test[clear])), 4)
                                      if 0 < y_test[clear].sum() < clear.sum() and 0 < last_test[clear].sum() < clear.sum()
                                      else 0.5)

    # The model kept: the chosen recipe refitted on every bill whose outcome is known today.
    final = _fit(chosen, examples.x, examples.y)
    bundle = {"algorithm": chosen, "features": rf.FEATURE_CODES, "estimator": final,
              "medians": np.median(examples.x, axis=0).tolist()}
    report = {
        "company_id": company_id, "trained_on": today.isoformat(), "cut_off": cut_off.isoformat(),
        "lead_days": LEAD_DAYS, "label": "principal outstanding 30 days after the due date",
        "algorithm": chosen, "features": rf.FEATURE_CODES,
        "train": _span(examples, train_mask), "test": _span(examples, test_mask), "validation": validation,
        "metrics": metrics, "refit_examples": int(len(examples.y)),
        "test_nothing_overdue": {"examples": int(clear.sum()), "late": int(y_test[clear].sum()), "metrics": clear_metrics},
        "notes": [
            "train: bills with due + 30 days before the cut-off; test: bills due on or after it",
            "features as of due − 14 days, from rows dated before that day",
            "baseline AUC from its 0/1 score; its probability for the Brier score and the reliability table is"
            " the training late rate of owners late / not late last time",
            "top decile: the first ceil(n/10) by score; ties at the boundary counted at their own late rate"
            " (the expected result of random tie-breaking)",
        ],
    }
    if save:
        model = save_model(company_id=company_id, bundle=bundle, report=report, today=today, cut_off=cut_off)
        report["model_id"] = model.pk
    return report


def save_model(*, company_id: int, bundle: dict, report: dict, today: date, cut_off: date) -> RiskModel:
    """Store the fitted model with its SHA-256 and report; it becomes the company's only active model."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump(bundle, buffer)
    data = buffer.getvalue()
    with transaction.atomic():
        RiskModel.objects.filter(company_id=company_id, active=True).update(active=False)
        return RiskModel.objects.create(
            company_id=company_id, trained_at=timezone.now(), trained_on=today, cut_off=cut_off,
            algorithm=bundle["algorithm"], features=bundle["features"], report=report, fitted=data,
            sha256=RiskModel.digest(data), active=True,
        )


def active_model(company_id: int) -> RiskModel | None:
    return RiskModel.objects.filter(company_id=company_id, active=True).first()


def load(model: RiskModel) -> dict:
    """The fitted bundle, after its bytes are checked against the stored SHA-256 (never unpickled otherwise)."""
    import joblib

    data = bytes(model.fitted)
    if RiskModel.digest(data) != model.sha256:
        raise DomainError(f"风险模型 {model.pk} 的校验值不符，拒绝加载", f"risk model {model.pk} fails its SHA-256 check",
                          code="model_digest")
    return joblib.load(io.BytesIO(data))


# ----------------------------------------------------------------------------- factors


def contributions(bundle: dict, x: np.ndarray) -> np.ndarray:
    """Each feature's push on each row's log-odds.

    Logistic regression: coefficient × standardised value (exact: they add up to the log-odds less
    the intercept). Gradient boosting: the change in log-odds when that one feature is set to its
    training median, the others kept (an occlusion estimate; the parts need not add up).
    """
    estimator = bundle["estimator"]
    if bundle["algorithm"] == LOGISTIC:
        scaler, logistic = estimator[0], estimator[-1]
        return scaler.transform(x) * logistic.coef_[0]
    base = _logit(_probability(estimator, x))
    pushes = np.zeros_like(x)
    for column, median in enumerate(bundle["medians"]):
        moved = x.copy()
        moved[:, column] = median
        pushes[:, column] = base - _logit(_probability(estimator, moved))
    return pushes


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def strongest(values: np.ndarray, pushes: np.ndarray, features: list[str]) -> list[list[dict]]:
    """The three features pushing each row hardest, either way: code, value and push, four places."""
    order = np.argsort(-np.abs(pushes), axis=1, kind="stable")[:, :FACTORS]
    return [
        [{"code": features[j], "value": round(float(values[i, j]), 4), "contribution": round(float(pushes[i, j]), 4)}
         for j in row]
        for i, row in enumerate(order)
    ]


# ----------------------------------------------------------------------------- score


def score(*, company_id: int, as_of: date) -> dict:
    """Score every open owner-unit of the company with its active model; refuse when there is none."""
    model = active_model(company_id)
    if model is None:
        raise DomainError("尚未训练逾期风险模型：请先运行 arrears risk train",
                          "no risk model has been trained: run `arrears risk train` first", code="no_model")
    bundle = load(model)
    history = rf.read_history(company_id)
    units, owners, communities = rf.open_accounts(company_id, as_of)
    days = np.full(len(units), as_of.toordinal(), dtype=np.int64)
    x = rf.feature_matrix(history, rf.account_key(units, owners), units, days)
    probabilities = _probability(bundle["estimator"], x)
    factors = strongest(x, contributions(bundle, x), bundle["features"]) if len(x) else []
    rows = [ScoreRow(int(c), int(u), int(o), quantize_score(p), f)
            for c, u, o, p, f in zip(communities, units, owners, probabilities, factors, strict=True)]
    community_ids = Community.objects.filter(company_id=company_id).values_list("pk", flat=True)
    written = record_risk_scores(rows=rows, model_id=model.pk, scored_on=as_of, community_ids=community_ids)
    return {"company_id": company_id, "model_id": model.pk, "scored": len(rows), **written}


def score_all(*, as_of: date) -> list[dict]:
    """Score every company that has a model; skip (and log) those without one."""
    results = []
    for company_id in Company.objects.order_by("pk").values_list("pk", flat=True):
        if active_model(company_id) is None:
            log.info("risk scoring skipped for company %s: no trained model", company_id)
            continue
        results.append(score(company_id=company_id, as_of=as_of))
    return results


def retrain_all(*, today: date | None = None) -> list[dict]:
    """Train every company's model afresh (the monthly task); a company with too little history is logged."""
    results = []
    for company_id in Company.objects.order_by("pk").values_list("pk", flat=True):
        try:
            results.append(train(company_id=company_id, today=today))
        except DomainError as exc:
            log.warning("risk model not trained for company %s: %s", company_id, exc)
    return results


def latest_report(company_id: int) -> dict | None:
    """The active model's hold-out report for the dashboard, or None when no model was trained."""
    model = active_model(company_id)
    if model is None:
        return None
    return {**model.report, "model_id": model.pk, "trained_at": model.trained_at.isoformat()}


def unit_risk(unit_id: int) -> list[dict]:
    """The unit page's view of its owners' scores: percent, and the three factors labelled."""
    shown = []
    for row in unit_scores(unit_id):
        factors = [{"label": rf.FEATURE_LABELS.get(f["code"], f["code"]), "value": rf.display_value(f["code"], f["value"]),
                    "raises": f["contribution"] > 0} for f in row.factors]
        shown.append({"owner_id": row.owner_id, "percent": row.score * 100, "factors": factors,
                      "scored_on": row.scored_on})
    return shown


def after_run(sender=None, *, as_of: date, **kwargs) -> None:
    """After the daily run: rescore with each company's last trained model (none: skipped, logged).

    A failure is logged, not raised: the run has committed, and yesterday's scores stay in place.
    """
    try:
        score_all(as_of=as_of)
    except Exception:
        log.exception("risk scoring after the run of %s failed", as_of)
