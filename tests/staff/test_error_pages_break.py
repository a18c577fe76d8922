"""Trying to break the error pages (helper J): no request at all, owners' pages in English, a form
too large to read, a CSRF failure on an owner's page."""

import re

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from arrears.staff import errors

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_500_page_renders_without_a_request(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = errors.server_error()
    assert response.status_code == 500 and "系统出错" in response.content.decode()


def test_the_500_page_renders_for_a_request_with_no_user_or_session():
    request = RequestFactory().get("/letters/")
    assert not hasattr(request, "user") and not hasattr(request, "session")
    assert "系统出错" in errors.server_error(request).content.decode()


@pytest.mark.parametrize("path", ["/s/not-a-token/nowhere", "/pay/nowhere/else"])
def test_an_owners_404_follows_the_language_and_shows_no_staff_site(client, db, path):
    client.cookies.load({"django_language": "en"})
    html = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "staff.css" not in html and "home-link" not in html
    # the language switch names the other language in itself; nothing else is Chinese
    body = re.sub(r'<button[^>]*lang="zh-hans"[^>]*>[^<]*</button>', "", html)
    assert not CJK.search(body), CJK.findall(body)


def test_a_csrf_failure_on_an_owners_page_shows_the_owners_look(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/s/not-a-token/pay")
    html = response.content.decode()
    assert response.status_code == 403
    assert "staff.css" not in html and "工作台" not in html


def test_a_csrf_failure_is_explained_in_english_under_en(insider):
    client = Client(enforce_csrf_checks=True)
    client.cookies.load({"django_language": "en"})
    client.force_login(insider)
    html = client.post(reverse("staff:import"), {"action": "discard"}).content.decode()
    assert "nothing was saved" in html.lower() and not CJK.search(html)


def test_a_form_too_large_to_read_gets_a_styled_page_that_says_why(client, insider, settings):
    """More fields than DATA_UPLOAD_MAX_NUMBER_FIELDS (e.g. 1,001 ticked cases) is a 400: styled, in the user's language."""
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    client = Client(raise_request_exception=False)
    client.force_login(insider)
    response = client.post(reverse("staff:letters_issue"), {"case": [str(n) for n in range(20)]})
    html = response.content.decode()
    assert response.status_code == 400
    assert "staff/staff.css" in html and "无法处理" in html and 'href="/"' in html
    client.cookies.load({"django_language": "en"})
    html = client.post(reverse("staff:letters_issue"), {"case": [str(n) for n in range(20)]}).content.decode()
    assert "could not be processed" in html and not CJK.search(html)


def test_a_staff_page_with_the_database_down_gets_the_styled_500(insider, monkeypatch):
    from django.db import OperationalError
    from django.db.backends.base.base import BaseDatabaseWrapper

    client = Client(raise_request_exception=False)
    client.force_login(insider)

    def down(self, *args, **kwargs):
        raise OperationalError("could not connect to server")

    with monkeypatch.context() as patch:  # undone before the test database is rolled back
        patch.setattr(BaseDatabaseWrapper, "cursor", down)
        response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "系统出错" in html and "could not connect" not in html


def test_a_logged_in_staff_member_on_an_owners_missing_page_sees_no_staff_site(client, insider):
    client.force_login(insider)
    html = client.get("/s/not-a-token/nowhere").content.decode()
    assert "staff.css" not in html and "工作台" not in html and insider.username not in html
