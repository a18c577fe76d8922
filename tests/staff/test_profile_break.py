"""Break-it on 我的资料 (/me/): only one's own profile, names that are names, a phone typed on a
Chinese keyboard, and nothing an owner would read as markup or a second phone number."""

import pytest
from django.urls import reverse

from arrears.core import profiles
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent, StaffProfile


def test_a_forged_user_field_edits_only_ones_own_profile(client, insider, outsider):
    client.force_login(outsider)
    client.post(reverse("staff:my_profile"), {"user": insider.pk, "user_id": insider.pk, "last_name": "黑",
                                              "first_name": "客", "extension": "1"})
    insider.refresh_from_db()
    assert (insider.last_name, insider.first_name) == ("", "")
    assert not StaffProfile.objects.filter(user=insider).exists()
    assert list(AuditEvent.objects.filter(action="staff_profile.update").values_list("actor", flat=True)) == [outsider.pk]


def test_the_page_needs_a_login(client):
    assert client.get(reverse("staff:my_profile")).status_code == 302  # to the login page


def test_full_width_digits_from_a_chinese_keyboard_are_taken_as_digits(insider):
    profile = profiles.update_staff_profile(user=insider, last_name=" 李 ", first_name="明", office_phone="０２１－５５５５００００",
                                            extension="８０１２")
    assert (profile.office_phone, profile.extension) == ("021-55550000", "8012")


@pytest.mark.parametrize(("field", "value"), [
    ("last_name", "<b>李"), ("first_name", "明</script>"), ("first_name", "明 13800001234"), ("last_name", "李\n明"),
    ("first_name", "明\u202e"), ("first_name", "明&amp;"),
])
def test_a_name_is_letters_only(insider, field, value):
    values = {"last_name": "李", "first_name": "明", field: value}
    with pytest.raises(DomainError) as refused:
        profiles.update_staff_profile(user=insider, **values)
    assert refused.value.code == "name"
    insider.refresh_from_db()
    assert insider.last_name == ""


@pytest.mark.parametrize(("family", "given"), [("欧阳", "娜娜"), ("Lee", "Ann-Marie"), ("O'Neil", "J. R."), ("阿依", "古丽·买买提")])
def test_real_names_of_every_kind_are_taken(insider, family, given):
    profiles.update_staff_profile(user=insider, last_name=family, first_name=given)
    insider.refresh_from_db()
    assert (insider.last_name, insider.first_name) == (family, given)


@pytest.mark.parametrize("value", ["13800001234\n转 999", "0755<script>", "9" * 31])
def test_a_phone_is_a_phone(insider, value):
    with pytest.raises(DomainError) as refused:
        profiles.update_staff_profile(user=insider, last_name="李", first_name="明", office_phone=value)
    assert refused.value.code == "office_phone"


def test_a_title_with_markup_is_shown_as_text(client, insider):
    client.force_login(insider)
    client.post(reverse("staff:my_profile"), {"last_name": "李", "first_name": "明", "title": "<img src=x onerror=alert(1)>"})
    page = client.get(reverse("staff:my_profile")).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x" in page
