"""The letters page: one community at a time, nothing ticked, no second letter within the policy's
days, and batches rendered as a job with a progress bar (letter_jobs)."""

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from arrears.collection.models import CollectionPolicy, Task
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.estate.models import StaffScope
from arrears.notices import letter_jobs, letters
from arrears.notices.models import Letter, LetterBatch, LetterJob
from tests import factories
from tests.collection.conftest import make_case


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _due_letter(case):
    Task.objects.create(community=case.community, case=case, key="step:letter_1", kind="ladder", channel="letter",
                        title="催费函（第一次）", due_on=case.as_of, created_on=case.as_of)
    return case


@pytest.fixture
def due(estate, media):
    """Two cases of 阳光花园 and one of 翠湖苑, all at the letter step."""
    here = _due_letter(make_case(estate["unit"], estate["owner"]))
    next_door = _due_letter(make_case(estate["other_unit"], estate["neighbour_owner"], principal="480.00"))
    far_unit = estate["far_unit"]
    far = _due_letter(make_case(far_unit, far_unit.ownerships.get().owner))
    return {"here": here, "next_door": next_door, "far": far}


@pytest.fixture
def manager(estate):
    """A manager of both communities."""
    user = factories.user("boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=user, community=estate["community"])
    StaffScope.objects.create(user=user, community=estate["far_unit"].community)
    return user


def _page(client, **query):
    return client.get(reverse("staff:letters"), query).content.decode()


def _post(client, cases, issued_on="2026-05-10"):
    return client.post(reverse("staff:letters_issue"),
                       {"kind": "collection", "case": [c.pk for c in cases], "issued_on": issued_on})


def test_the_community_is_chosen_first_and_nothing_is_ticked(client, manager, due, estate):
    client.force_login(manager)
    first = _page(client)
    assert 'data-testid="choose-community"' in first and 'name="case"' not in first
    html = _page(client, community=estate["community"].pk)
    assert "3栋1单元1201" in html and "5栋1单元1201" in html and "1栋1单元0101" not in html
    section = html.split('data-testid="collection-letters"')[1].split("</section>")[0]
    assert section.count('name="case"') == 2 and " checked" not in section and "全选本小区 2 户" in section
    far = _page(client, community=estate["far_unit"].community_id)
    assert "1栋1单元0101" in far and "3栋1单元1201" not in far


def test_a_community_outside_the_scope_is_not_listed(client, insider, due, estate):
    client.force_login(insider)  # 阳光花园 only: it is the one community, chosen for them
    html = _page(client, community=estate["far_unit"].community_id)
    assert "3栋1单元1201" in html and "1栋1单元0101" not in html and "翠湖苑" not in html


def test_a_case_lettered_within_the_policys_days_is_not_offered_again(client, manager, due, estate):
    client.force_login(manager)
    assert _post(client, [due["here"]]).status_code == 302
    html = _page(client, community=estate["community"].pk)
    assert html.count('name="case"') == 1 and "5栋1单元1201" in html
    assert "1 户在 30 天内已出过催费函，不再列出。" in html


def test_posting_it_anyway_is_refused_with_the_reason(client, manager, due, estate):
    client.force_login(manager)
    _post(client, [due["here"]], issued_on="2026-05-08")
    # when: the next day's batch holds the same owner
    response = _post(client, [due["here"], due["next_door"]], issued_on="2026-05-09")
    # then: nothing issued, and the page says who and why
    assert LetterBatch.objects.count() == 1 and Letter.objects.count() == 1
    follow = client.get(response.url).content.decode()
    first = Letter.objects.get().number
    assert f"3栋1单元1201 2026-05-08 已出 {first}（30 天内不再出函）" in follow


def test_the_policy_sets_the_days(manager, due):
    CollectionPolicy.objects.create(community=due["here"].community, letter_repeat_days=5)
    letters.issue_batch(kind="collection", cases=[due["here"]], issued_on=date(2026, 5, 4), staff=manager)
    with pytest.raises(DomainError, match="5 天内不再出函"):
        letters.issue_batch(kind="collection", cases=[due["here"]], issued_on=date(2026, 5, 8), staff=manager)
    # 2026-05-04 + 5 days: offered again on the 9th
    assert letters.recent_letters([due["here"]], "collection", date(2026, 5, 9)) == {}
    assert letters.issue_batch(kind="collection", cases=[due["here"]], issued_on=date(2026, 5, 9), staff=manager).count == 1


def test_a_batch_of_two_communities_is_refused(manager, due):
    with pytest.raises(DomainError, match="一批函件只能属于同一个小区"):
        letter_jobs.start_job(user=manager, kind="collection", cases=[due["here"], due["far"]], issued_on=date(2026, 5, 10))
    assert not LetterJob.objects.exists()


def test_the_inline_runner_issues_the_batch_and_says_so(client, manager, due):
    client.force_login(manager)
    response = _post(client, [due["here"], due["next_door"]])
    job = LetterJob.objects.get()
    assert job.status == "done" and (job.done, job.total) == (2, 2)
    assert response.url == reverse("staff:letter_batch", args=[job.batch_id])
    status = client.get(reverse("staff:letter_job_status", args=[job.pk])).json()
    assert status["finished"] and status["percent"] == 100
    assert status["pdf_url"] == reverse("staff:letter_batch_file", args=[job.batch_id, "pdf"])


def test_the_same_selection_posted_twice_makes_one_batch(client, manager, due):
    client.force_login(manager)
    first = _post(client, [due["here"], due["next_door"]])
    second = _post(client, [due["next_door"], due["here"]])  # the same ticks, posted again
    assert first.url == second.url
    assert LetterBatch.objects.count() == 1 and LetterJob.objects.count() == 1


def test_a_queued_job_shows_its_progress_and_finishes(client, settings, manager, due):
    # given: a worker runner, whose launch waits for a commit the test transaction never makes
    settings.ARREARS_IMPORT_RUNNER = "celery"
    client.force_login(manager)
    response = _post(client, [due["here"], due["next_door"]])
    job = LetterJob.objects.get()
    assert response.url == reverse("staff:letter_job", args=[job.pk])
    assert client.get(reverse("staff:letter_job_status", args=[job.pk])).json() == {
        "status": "queued", "done": 0, "total": 2, "percent": 0, "batch": None, "finished": False}
    page = client.get(response.url).content.decode()
    assert '<progress max="100" value="0"' in page and "正在后台生成" in page
    # a double tap while it waits finds the same job
    assert _post(client, [due["here"], due["next_door"]]).url == response.url
    # when the worker runs it (twice: a redelivery does nothing)
    letter_jobs.run_job(job.pk)
    letter_jobs.run_job(job.pk)
    # then
    job.refresh_from_db()
    assert job.status == "done" and job.done == 2 and LetterBatch.objects.count() == 1
    page = client.get(response.url).content.decode()
    assert reverse("staff:letter_batch_file", args=[job.batch_id, "zip"]) in page and "<script>" not in page.split("</h1>")[1]


def test_progress_is_told_after_every_letter(manager, due):
    seen = []
    letters.issue_batch(kind="collection", cases=[due["here"], due["next_door"]], issued_on=date(2026, 5, 10),
                        staff=manager, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]


def test_a_job_that_meets_changed_facts_fails_with_the_reason(client, settings, manager, due):
    settings.ARREARS_IMPORT_RUNNER = "celery"
    job = letter_jobs.start_job(user=manager, kind="collection", cases=[due["here"]], issued_on=date(2026, 5, 10))
    letters.issue_batch(kind="collection", cases=[due["here"]], issued_on=date(2026, 5, 10), staff=manager)  # meanwhile
    letter_jobs.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "30 天内不再出函" in job.error_zh and job.batch is None
    client.force_login(manager)
    assert client.get(reverse("staff:letter_job_status", args=[job.pk])).json()["error"] == job.error_zh


def test_another_users_job_is_not_found(client, settings, manager, insider, due):
    settings.ARREARS_IMPORT_RUNNER = "celery"
    job = letter_jobs.start_job(user=manager, kind="collection", cases=[due["here"]], issued_on=date(2026, 5, 10))
    colleague = factories.user("legal", groups=[roles.LEGAL])
    StaffScope.objects.create(user=colleague, community=due["here"].community)
    client.force_login(colleague)
    assert client.get(reverse("staff:letter_job", args=[job.pk])).status_code == 404
    assert client.get(reverse("staff:letter_job_status", args=[job.pk])).status_code == 404


def test_cases_of_another_community_cannot_be_posted(client, insider, due, estate):
    legal = factories.user("legal", groups=[roles.LEGAL])
    StaffScope.objects.create(user=legal, community=estate["community"])
    client.force_login(legal)
    assert _post(client, [due["far"]]).status_code == 404
    assert not LetterJob.objects.exists()


def test_one_active_job_per_selection_in_the_database(manager, due):
    fields = {"user": manager, "community": due["here"].community, "kind": "collection", "issued_on": date(2026, 5, 10),
              "digest": "d" * 64}
    LetterJob.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        LetterJob.objects.create(**fields)
    LetterJob.objects.update(status="failed")
    LetterJob.objects.create(**fields)  # once the first has ended, the same selection may run again


def test_the_celery_runner_queues_the_task_after_the_commit(client, settings, manager, due,
                                                            django_capture_on_commit_callbacks):
    settings.ARREARS_IMPORT_RUNNER = "celery"
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _post(client, [due["here"]])
    job = LetterJob.objects.get()
    assert job.status == "queued" and len(callbacks) == 1
    callbacks[0]()  # the task runs eagerly here: no broker in tests
    job.refresh_from_db()
    assert job.status == "done" and job.batch.count == 1


@pytest.mark.skipif(connection.vendor == "sqlite", reason="the thread path needs a database that waits for locks: "
                                                          "run on PostgreSQL (see the import job's thread test)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_thread_runner_renders_after_the_commit(client, settings, manager, due):
    settings.ARREARS_IMPORT_RUNNER = "thread"
    client.force_login(manager)
    response = _post(client, [due["here"], due["next_door"]])
    for thread in list(letter_jobs.threads):
        thread.join(timeout=120)
    job = LetterJob.objects.get()
    assert response.url == reverse("staff:letter_job", args=[job.pk])
    assert job.status == "done" and (job.done, job.total) == (2, 2) and job.batch.count == 2
    connection.close()


def test_the_case_lists_filters_ride_along_when_the_community_is_chosen(client, manager, due, estate):
    client.force_login(manager)
    first = _page(client, tier="B")
    assert 'name="tier" value="B"' in first and 'name="case"' not in first
    html = _page(client, tier="B", community=estate["community"].pk)
    assert html.count('name="case"') == 2 and "按欠费列表的筛选条件列出在催案件" in html
    assert 'name="case"' not in _page(client, tier="A", community=estate["community"].pk)
