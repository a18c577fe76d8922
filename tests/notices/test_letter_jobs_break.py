"""Trying to break the letters page and its background jobs (helper J): foreign and garbage ids, a
batch above MAX_BATCH, a job that fails midway, the same selection from two threads at once."""

from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.notices import letter_jobs, letters, pdf
from arrears.notices.models import Letter, LetterBatch, LetterCounter, LetterJob
from tests import factories
from tests.notices import test_letter_jobs as base
from tests.races import race

_post = base._post
due, manager, media = base.due, base.manager, base.media  # the same fixtures as the page's own tests

ISSUED = date(2026, 5, 10)


def test_garbage_case_ids_are_not_a_server_error(client, manager, due):
    client.force_login(manager)
    response = client.post(reverse("staff:letters_issue"), {"kind": "collection", "case": ["abc", "２", str(due["here"].pk)],
                                                             "issued_on": "2026-05-10"})
    assert response.status_code in (302, 404)
    assert response.status_code == 302 or not LetterJob.objects.exists()


def test_an_unknown_kind_is_refused_with_the_reason(client, manager, due):
    client.force_login(manager)
    response = client.post(reverse("staff:letters_issue"), {"kind": "<b>x</b>", "case": [due["here"].pk],
                                                             "issued_on": "2026-05-10"}, follow=True)
    html = response.content.decode()
    assert "函件类型无效" in html and "<b>x</b>" not in html
    assert not LetterBatch.objects.exists()


def test_a_legal_user_polling_the_managers_job_status_is_not_found(client, settings, manager, due):
    settings.ARREARS_IMPORT_RUNNER = "celery"
    job = letter_jobs.start_job(user=manager, kind="collection", cases=[due["here"]], issued_on=ISSUED)
    other = factories.user("legal2", groups=[roles.LEGAL])
    StaffScope.objects.create(user=other, community=due["here"].community)
    client.force_login(other)
    for name in ("staff:letter_job", "staff:letter_job_status"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.get(reverse("staff:letter_job_status", args=[job.pk + 1000])).status_code == 404


def test_a_selection_above_max_batch_is_refused_with_the_reason(client, manager, due, monkeypatch):
    monkeypatch.setattr(letters, "MAX_BATCH", 1)
    client.force_login(manager)
    response = _post(client, [due["here"], due["next_door"]])
    page = client.get(response.url).content.decode()
    assert "一批最多 1 份" in page
    assert not LetterJob.objects.exists() and not Letter.objects.exists()


def test_a_job_that_fails_midway_writes_nothing_and_consumes_no_number(client, settings, manager, due, monkeypatch):
    settings.ARREARS_IMPORT_RUNNER = "celery"
    job = letter_jobs.start_job(user=manager, kind="collection", cases=[due["here"], due["next_door"]], issued_on=ISSUED)
    real = pdf.render_letter
    calls = []

    def second_fails(content):
        calls.append(content)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(content)

    monkeypatch.setattr(pdf, "render_letter", second_fails)
    # when
    letter_jobs.run_job(job.pk)
    # then: the job says it failed, in both languages; nothing written, no number taken
    job.refresh_from_db()
    assert job.status == "failed" and "未出函" in job.error_zh and job.batch is None
    assert not Letter.objects.exists() and not LetterBatch.objects.exists()
    assert not LetterCounter.objects.filter(last__gt=0).exists()
    # and the same selection, tried again once it works, gets the first numbers
    monkeypatch.setattr(pdf, "render_letter", real)
    again = letter_jobs.start_job(user=manager, kind="collection", cases=[due["here"], due["next_door"]], issued_on=ISSUED)
    assert again.pk != job.pk
    letter_jobs.run_job(again.pk)
    assert sorted(Letter.objects.values_list("number", flat=True))[-1].endswith("-00002")


def test_a_storage_failure_while_writing_leaves_no_letter_without_its_pdf(settings, manager, due, monkeypatch, tmp_path):
    settings.ARREARS_IMPORT_RUNNER = "celery"
    job = letter_jobs.start_job(user=manager, kind="collection", cases=[due["here"], due["next_door"]], issued_on=ISSUED)
    from django.db.models.fields.files import FieldFile

    real_save, saved = FieldFile.save, []

    def second_save_fails(self, name, content, save=True):
        saved.append(name)
        if len(saved) == 2:
            raise OSError("storage went away")
        return real_save(self, name, content, save)

    monkeypatch.setattr(FieldFile, "save", second_save_fails)
    letter_jobs.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert not Letter.objects.exists() and not LetterBatch.objects.exists()
    assert not LetterCounter.objects.filter(last__gt=0).exists()
    # nor a numbered PDF of a letter that was never issued left in the storage
    assert saved and not [p for p in tmp_path.rglob("*") if p.is_file()]


# ----------------------------------------------------------------------------- PostgreSQL races


def _race(*jobs):
    return race(*jobs, timeout=180)


needs_postgres = pytest.mark.skipif(connection.vendor != "postgresql",
                                    reason="row locks and a partial unique index that waits: PostgreSQL's")


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_selection_from_two_threads_makes_one_batch(settings, manager, due):
    settings.ARREARS_IMPORT_RUNNER = "inline"
    cases = [due["here"], due["next_door"]]

    def post():
        job = letter_jobs.start_job(user=manager, kind="collection", cases=cases, issued_on=ISSUED)
        return job.pk if job is not None else None

    results = _race(post, post)
    assert all(isinstance(r, int) for r in results), results
    assert LetterBatch.objects.count() == 1
    assert sorted(Letter.objects.values_list("number", flat=True)) == [
        f"CF{due['here'].community_id:03d}-2026-00001", f"CF{due['here'].community_id:03d}-2026-00002"]
    assert LetterCounter.objects.get().last == 2
    connection.close()


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_users_batching_the_same_owners_at_once_get_one_batch_and_gapless_numbers(settings, manager, due):
    settings.ARREARS_IMPORT_RUNNER = "inline"
    legal = factories.user("legal", groups=[roles.LEGAL])
    StaffScope.objects.create(user=legal, community=due["here"].community)
    cases = [due["here"], due["next_door"]]
    results = _race(lambda: letter_jobs.start_job(user=manager, kind="collection", cases=cases, issued_on=ISSUED),
                    lambda: letter_jobs.start_job(user=legal, kind="collection", cases=cases, issued_on=ISSUED))
    statuses = sorted(getattr(r, "status", type(r).__name__) for r in results)
    # one made the batch; the other was refused with the reason (at the check, or under the counter's lock)
    assert statuses in (["DomainError", "done"], ["done", "failed"]), results
    assert LetterBatch.objects.count() == 1 and Letter.objects.count() == 2
    assert LetterCounter.objects.get().last == 2
    connection.close()
