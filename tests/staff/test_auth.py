from django.urls import reverse

from tests import factories


def test_it_renders_the_login_page(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "员工登录" in html and "staff/staff.css" in html


def test_it_logs_in_with_the_right_password(client, db):
    factories.user("alice")
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 302 and response["Location"] == reverse("staff:home")


def test_it_locks_the_account_after_five_failures(client, db, settings):
    factories.user("alice")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
        assert response.status_code == 200
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 429
    html = response.content.decode()
    assert "账号已被暂时锁定" in html and "60 分钟后再试" in html
    # then even the right password is refused until the cool-off ends
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 429


def test_it_logs_out_by_post_only(client, db):
    client.force_login(factories.user("alice"))
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("staff:home")).status_code == 302
