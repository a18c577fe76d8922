"""The run's bulk writer of plain tuples (`core.db.bulk_insert`): the rows it is given, in their
order, the model's defaults for the fields it is not given, conflicts skipped only when asked."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from arrears.collection.models import CaseStep, Task, TaskStatus
from arrears.collection.run import TASK_FIELDS, create_default_policy
from arrears.core.db import bulk_insert

DAY = date(2026, 5, 20)


def _task(case, key, priority):
    return (case.community_id, case.pk, key, "ladder", "call", None, 1, "", f"事项 {key}", DAY, priority, None, DAY)


def test_it_writes_tuples_in_their_order_with_the_model_defaults_for_the_rest(case):
    # when
    inserted = bulk_insert(Task, TASK_FIELDS, [_task(case, "b", 5), _task(case, "a", 7)])
    # then
    assert inserted == 2
    rows = list(Task.objects.order_by("pk").values_list("key", "priority", "status", "cancel_reason", "done_at",
                                                         "title", "due_on"))
    assert rows == [("b", 5, TaskStatus.OPEN, "", None, "事项 b", DAY), ("a", 7, TaskStatus.OPEN, "", None, "事项 a", DAY)]


def test_it_skips_rows_that_exist_only_when_asked(case):
    # given
    bulk_insert(Task, TASK_FIELDS, [_task(case, "a", 1)])
    # when
    inserted = bulk_insert(Task, TASK_FIELDS, [_task(case, "a", 2), _task(case, "c", 3)], ignore_conflicts=True)
    # then: the existing row is left as it was
    assert inserted == 1
    assert list(Task.objects.order_by("key").values_list("key", "priority")) == [("a", 1), ("c", 3)]
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert(Task, TASK_FIELDS, [_task(case, "a", 9)])


def test_it_writes_foreign_keys_and_dates(case):
    # given
    step = create_default_policy(case.community).steps.order_by("pk").first()
    # when
    bulk_insert(CaseStep, ["community", "case", "step", "fired_on"], [(case.community_id, case.pk, step.pk, DAY)])
    # then
    assert list(CaseStep.objects.values_list("case_id", "step_id", "fired_on")) == [(case.pk, step.pk, DAY)]
