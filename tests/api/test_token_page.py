"""The API token page: create (shown once), list, revoke; admins see and revoke everyone's."""

import re

import pytest
from django.core.cache import cache

from arrears.api.models import ApiToken
from arrears.core import roles
from arrears.core.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    cache.clear()
    return {"ann": factories.user("ann", groups=[roles.COLLECTOR]), "bob": factories.user("bob", groups=[roles.COLLECTOR]),
            "admin": factories.user("boss", groups=[roles.ADMIN])}


def test_a_token_is_shown_once_and_works(client, people):
    client.force_login(people["ann"])
    answer = client.post("/api-tokens/", {"name": "金蝶对接", "days": "30"})
    assert answer.status_code == 302
    page = client.get("/api-tokens/").content.decode()
    raw = re.search(r'data-testid="token-text">(arr_[A-Za-z0-9_-]+)<', page).group(1)
    assert "金蝶对接" in page
    assert raw not in client.get("/api-tokens/").content.decode()  # once only
    client.logout()
    assert client.get("/api/v1/units", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    assert AuditEvent.objects.filter(action="api.token.issue", actor=people["ann"]).exists()


def test_bad_input_is_refused_with_a_reason_and_nothing_written(client, people):
    client.force_login(people["ann"])
    for data in ({"name": "", "days": "30"}, {"name": "x", "days": "0"}, {"name": "x", "days": "abc"},
                 {"name": "x", "days": "9999"}, {"name": "x" * 61, "days": "30"}):
        follow = client.post("/api-tokens/", data, follow=True)
        assert follow.status_code == 200
        assert 'class="error"' in follow.content.decode() or "error" in follow.content.decode()
    assert not ApiToken.objects.exists()


def test_users_revoke_their_own_and_admins_anyones(client, people):
    client.force_login(people["bob"])
    client.post("/api-tokens/", {"name": "bob 的", "days": "30"}, follow=True)  # read the message and the token
    bobs = ApiToken.objects.get(user=people["bob"])
    client.force_login(people["ann"])
    assert "bob 的" not in client.get("/api-tokens/").content.decode()
    assert client.post(f"/api-tokens/{bobs.pk}/revoke/").status_code == 404
    bobs.refresh_from_db()
    assert bobs.revoked_at is None
    client.force_login(people["admin"])
    assert "bob 的" in client.get("/api-tokens/").content.decode()
    assert client.post(f"/api-tokens/{bobs.pk}/revoke/").status_code == 302
    bobs.refresh_from_db()
    assert bobs.revoked_at is not None and bobs.revoked_by == people["admin"]
    first = bobs.revoked_at
    client.post(f"/api-tokens/{bobs.pk}/revoke/")  # twice: the first revocation stands
    bobs.refresh_from_db()
    assert bobs.revoked_at == first


def test_the_page_is_english_under_en(client, people):
    client.force_login(people["ann"])
    client.cookies["django_language"] = "en"
    page = client.get("/api-tokens/").content.decode()
    assert "Create a token" in page and "创建令牌" not in page


def test_the_page_needs_a_login(client):
    assert client.get("/api-tokens/").status_code == 302
