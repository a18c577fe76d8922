from django.urls import reverse


def test_it_speaks_chinese_by_default(client, insider, estate):
    client.force_login(insider)
    html = client.get(reverse("staff:unit", args=[estate["unit"].pk])).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "对账单" in html and "催收员（客服/管家）" in html
    assert "即将上线" not in html  # no menu item for pages that do not exist yet


def test_it_switches_to_english(client, insider, estate):
    client.force_login(insider)
    url = reverse("staff:unit", args=[estate["unit"].pk])
    response = client.post(reverse("set_language"), {"language": "en", "next": url})
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert '<html lang="en">' in html
    for text in ["Statement", "Unit search", "Ledger history", "Collector", "Property fee", "Sign out"]:
        assert text in html, text
    for text in ["对账单", "即将上线", "房屋查询", "物业费"]:
        assert text not in html, text


def test_it_translates_the_login_and_admin_pages(client, admin_client, db):
    client.cookies.load({"django_language": "en"})
    assert "Staff sign-in" in client.get(reverse("login")).content.decode()
    admin_client.cookies.load({"django_language": "en"})
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "Payment reversal" in html and "Staff scope" in html and "Ledger" in html


def test_it_stays_chinese_for_an_english_browser_until_the_user_switches(client, insider, estate):
    # given: a staff PC whose browser asks for English
    client.force_login(insider)
    # when / then: still Chinese, the house default
    assert "房屋查询" in client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    # when the user picks English, it sticks
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Unit search" in client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
