"""One language per page (issue 14): a contact logged against a rule says why in the viewer's
language only; the arrears list's 情形 column names each situation, not a bare code."""

import re

import pytest
from django.urls import reverse

from arrears.core.i18n import CJK

from .test_views import make_task


def _messages(html: str) -> str:
    found = re.search(r'<ul class="messages">(.*?)</ul>', html, re.S)
    return found.group(1) if found else ""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_call_logged_against_a_rule_says_why_in_one_language(client, insider, case, estate, today, language):
    estate["owner"].do_not_contact = True
    estate["owner"].save()
    task = make_task(case)
    client.force_login(insider)
    client.post(reverse("set_language"), {"language": language, "next": "/"})
    said = _messages(client.post(reverse("staff:task_log", args=[task.pk]), {"outcome": "answered"}, follow=True)
                     .content.decode())
    if language == "en":
        assert "The owner asked not to be contacted" in said
        assert not CJK.search(said.replace(estate["unit"].label, "")), said
    else:
        assert "业主已要求不再联系" in said and "asked" not in said and " / " not in said


@pytest.mark.parametrize(("language", "label"), [("zh-hans", "1 所有欠费业主"), ("en", "1 every unpaid owner")])
def test_the_arrears_list_names_each_situation(client, insider, case, language, label):
    client.force_login(insider)
    client.post(reverse("set_language"), {"language": language, "next": "/"})
    page = client.get(reverse("staff:cases")).content.decode()
    cell = re.search(r'data-label="[^"]*">((?:(?!</td>).)*situation(?:(?!</td>).)*)</td>', page, re.S).group(1)
    assert label in cell and "1,2,7" not in page
