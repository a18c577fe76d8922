"""Keep a staff member's real name and phone: what owners hear in scripts and read in letters."""

import re
import unicodedata

from django.db import transaction

from arrears.core.errors import DomainError
from arrears.core.models import StaffProfile, record

_PHONE = re.compile(r"^[0-9+()\- ]*$")
_EXTENSION = re.compile(r"^[0-9]*$")
NAME_MAX = 20
NAME_MARKS = set(" ·•.'-")  # 古丽·买买提, J. R., O'Neil, Ann-Marie


def _is_name(text: str) -> bool:
    """Letters (any script) and the marks names carry: no digits, markup, line breaks or bidi controls,
    since owners read the name in scripts and letters."""
    return all(unicodedata.category(c)[0] in "LM" or c in NAME_MARKS for c in text)


def update_staff_profile(*, user, last_name: str, first_name: str, title: str = "", office_phone: str = "",
                         extension: str = "", actor=None) -> StaffProfile:
    """Validate, then save the name (on the user) and the profile in one transaction; audit who changed it."""
    last_name, first_name = last_name.strip(), first_name.strip()
    # A Chinese keyboard types ０７５５－８８８８６２００: the same digits.
    office_phone, extension = (unicodedata.normalize("NFKC", value).strip() for value in (office_phone, extension))
    title = title.strip()
    if not last_name or not first_name:
        raise DomainError("请填写姓和名：业主听到和看到的是真实姓名", "give your family and given name: owners are told your real name",
                          code="name")
    if len(last_name) > NAME_MAX or len(first_name) > NAME_MAX:
        raise DomainError(f"姓和名各不超过 {NAME_MAX} 个字", f"at most {NAME_MAX} characters each for family and given name",
                          code="name")
    if not _is_name(last_name) or not _is_name(first_name):
        raise DomainError("姓名只能含文字（可有间隔号·、连字符）", "a name has letters only (a middle dot or hyphen may join them)",
                          code="name")
    if len(title) > StaffProfile._meta.get_field("title").max_length:
        raise DomainError("职务过长", "the title is too long", code="title")
    if not _PHONE.fullmatch(office_phone) or len(office_phone) > StaffProfile._meta.get_field("office_phone").max_length:
        raise DomainError("办公电话只能含数字、空格、+、-和括号", "an office phone has only digits, spaces, +, - and brackets",
                          code="office_phone")
    if not _EXTENSION.fullmatch(extension) or len(extension) > StaffProfile._meta.get_field("extension").max_length:
        raise DomainError("分机号只能是数字（最多 10 位）", "an extension is digits only (at most 10)", code="extension")
    with transaction.atomic():
        user.last_name, user.first_name = last_name, first_name
        user.save(update_fields=["last_name", "first_name"])
        profile, _ = StaffProfile.objects.update_or_create(
            user=user, defaults={"title": title, "office_phone": office_phone, "extension": extension},
        )
        record(actor=actor or user, action="staff_profile.update", user=user.pk)
    user.staff_profile = profile
    return profile
