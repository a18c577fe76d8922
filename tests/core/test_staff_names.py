"""What owners are told a staff member is called and which number to ring."""

import pytest

from arrears.core import roles
from arrears.core.models import StaffProfile
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("family", "given", "expected"), [
    ("李", "明", "李明"),
    ("欧阳", "娜娜", "欧阳娜娜"),
    ("Lee", "Ann", "Ann Lee"),
    ("李", "", "李"),
    ("", "", ""),
])
def test_it_writes_the_real_name_family_name_first(family, given, expected):
    assert roles.real_name(factories.user("u1", last_name=family, first_name=given)) == expected


def test_it_never_gives_an_owner_a_login_name_or_role_code():
    nameless = factories.user("collector", groups=[roles.COLLECTOR])
    assert roles.staff_name(nameless) == "工作人员"
    StaffProfile.objects.create(user=nameless, title="管家")
    nameless.refresh_from_db()
    assert roles.staff_name(nameless) == "管家"


@pytest.mark.parametrize(("office", "extension", "expected"), [
    ("0755-88886201", "8012", "0755-88886201 转 8012"),
    ("", "8012", "0755-88886200 转 8012"),
    ("0755-88886201", "", "0755-88886201"),
    ("", "", "0755-88886200"),
])
def test_it_gives_the_office_phone_and_extension(office, extension, expected):
    user = factories.user("li", last_name="李", first_name="明")
    StaffProfile.objects.create(user=user, office_phone=office, extension=extension)
    user.refresh_from_db()
    assert roles.staff_phone(user, fallback="0755-88886200") == expected


def test_without_a_profile_the_service_centre_answers():
    assert roles.staff_phone(factories.user("li"), fallback="0755-88886200") == "0755-88886200"


def test_an_admin_keeps_the_profile_beside_the_users_name(admin_client):
    from django.urls import reverse

    colleague = factories.user("li")
    page = admin_client.get(reverse("admin:auth_user_change", args=[colleague.pk])).content.decode()
    assert "staff_profile-0-extension" in page and "分机号" in page
