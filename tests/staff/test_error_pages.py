"""Error pages: styled like the site the user was on, one language, what happened and the way back."""

import re

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from arrears.notices.context import statement_token
from arrears.staff import errors

CJK = re.compile(r"[\u4e00-\u9fff]")


def english(client):
    client.cookies.load({"django_language": "en"})
    return client


def test_it_shows_a_styled_403_when_a_staff_view_refuses(client, insider):
    # given: a collector, who may not import
    client.force_login(insider)
    # when
    response = client.get(reverse("staff:import"))
    # then
    html = response.content.decode()
    assert response.status_code == 403
    assert "无权访问" in html and "请联系您的经理" in html
    assert 'href="/"' in html and "staff/staff.css" in html
    assert "Forbidden" not in html


def test_it_shows_the_403_wholly_in_english_under_en(client, insider):
    english(client).force_login(insider)
    html = client.get(reverse("staff:import")).content.decode()
    assert "No access" in html and "ask your manager" in html and "Back to the home page" in html
    assert not CJK.search(html), CJK.findall(html)


def test_it_shows_a_styled_404_for_another_communitys_unit(client, insider, estate):
    client.force_login(insider)
    response = client.get(reverse("staff:unit", args=[estate["far_unit"].pk]))
    html = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in html and "不在您负责的范围内" in html and 'href="/"' in html
    english(client)
    html = client.get(reverse("staff:unit", args=[estate["far_unit"].pk])).content.decode()
    assert "Page not found" in html and not CJK.search(html)


def test_it_shows_a_styled_500_in_the_users_language(client, insider, monkeypatch):
    # given: the home page's selector fails
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("arrears.staff.views.staff_selectors.scope_summary", broken)
    client = Client(raise_request_exception=False)
    client.force_login(insider)
    # when
    response = client.get("/")
    # then
    html = response.content.decode()
    assert response.status_code == 500
    assert "系统出错" in html and "请联系系统管理员" in html and 'href="/"' in html
    assert "the database went away" not in html
    english(client)
    html = client.get("/").content.decode()
    assert "Something went wrong" in html and not CJK.search(html)


def test_it_renders_the_500_page_without_the_database(db, django_assert_num_queries):
    request = RequestFactory().get("/units/1/")
    with django_assert_num_queries(0):
        response = errors.server_error(request)
    assert response.status_code == 500 and "系统出错" in response.content.decode()


def test_it_answers_a_csrf_failure_with_the_expired_page(insider):
    # given: a form posted without its token (a page left open past its session)
    client = Client(enforce_csrf_checks=True)
    client.force_login(insider)
    # when
    response = client.post(reverse("staff:import"), {"action": "discard"})
    # then
    html = response.content.decode()
    assert response.status_code == 403
    assert "页面已过期" in html and "未保存任何内容" in html and 'href="/"' in html
    assert "CSRF" not in html


@pytest.mark.parametrize("path", ["/s/not-a-token/nowhere", "/pay/nowhere/else"])
def test_it_gives_owners_a_404_without_the_staff_site(client, db, path):
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in html and "账单链接" in html and "portal/portal.css" in html
    assert "staff.css" not in html and "工作台" not in html and "物业费催收系统" not in html


def test_it_gives_owners_a_500_without_the_staff_site(estate, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("arrears.portal.views.statements.accounts", broken)
    client = Client(raise_request_exception=False)
    token = statement_token(estate["owner"].pk, estate["unit"].pk, estate["owner"].link_generation)
    english(client)
    response = client.get(reverse("portal:statement", args=[token]))
    html = response.content.decode()
    assert response.status_code == 500
    assert "The system is busy" in html and "Nothing was charged" in html
    # the portal's language switch names the other language in itself; nothing else is Chinese
    body = re.sub(r'<button[^>]*lang="zh-hans"[^>]*>[^<]*</button>', "", html)
    assert not CJK.search(body) and "staff.css" not in html


def test_it_tells_owner_pages_from_staff_pages():
    assert errors.is_owner_page("/s/abc") and errors.is_owner_page("/pay/sandbox/1")
    assert not errors.is_owner_page("/units/1/") and not errors.is_owner_page("/settings/")
