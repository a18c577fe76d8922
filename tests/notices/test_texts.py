"""Templates: the defaults pass their own checks; unknown placeholders and revealing neutral texts are refused."""

import pytest

from arrears.core.errors import DomainError
from arrears.notices import texts
from arrears.notices.models import NoticeTemplate


@pytest.mark.parametrize("row", texts.DEFAULT_TEMPLATES, ids=lambda row: f"{row['code']}-{row['channel']}")
def test_every_default_template_passes_the_checks(row):
    texts.check_template(code=row["code"], channel=str(row["channel"]), name=row["name"], body=row["body"],
                         subject=row.get("subject", ""), neutral=row.get("neutral", False))


def test_the_defaults_are_installed_by_the_migration(db):
    assert NoticeTemplate.objects.filter(community__isnull=True).count() == len(texts.DEFAULT_TEMPLATES)
    assert texts.ensure_templates() == 0


@pytest.mark.parametrize(("body", "neutral", "code"), [
    ("尊敬的{owner_name}：请于{deadline}前缴纳{amont}元", False, "template_placeholder"),
    ("您好，请{owner_name}致电{company_phone}，您尚欠{amount}元", True, "neutral_text"),
    ("您好，请转告{owner_name}尽快缴纳物业费", True, "neutral_text"),
])
def test_a_bad_template_is_refused_when_saved(db, body, neutral, code):
    with pytest.raises(DomainError) as refused:
        texts.save_template(code="custom", channel="sms", name="自定义", body=body, neutral=neutral)
    assert refused.value.code in (code, "template_placeholder")
    assert not NoticeTemplate.objects.filter(code="custom").exists()


def test_sms_length_counts_the_signature_and_bills_long_messages_in_parts_of_67():
    assert texts.sms_length("短" * 64, "阳光物业") == (70, 1)
    assert texts.sms_length("短" * 65, "阳光物业") == (71, 2)
    assert texts.sms_length("短" * 128, "阳光物业") == (134, 2)
    assert texts.sms_length("短" * 129, "阳光物业") == (135, 3)


def test_render_fills_known_fields_and_shows_anything_else_as_typed():
    assert texts.render("{owner_name}：{x} {0} {{", {"owner_name": "张三业主"}) == "张三业主：{x} {0} {{"
    assert texts.render("{owner_name.__class__}", {"owner_name": "张三业主"}) == "{owner_name.__class__}"


def test_a_community_template_overrides_the_default(db):
    from tests import factories

    community = factories.community()
    texts.save_template(community=community, code="overdue", channel="sms", name="本小区逾期提醒",
                        body="{owner_name}您好，{room}物业费{amount}元已到期。")
    assert texts.template_for(community.pk, "overdue", "sms").name == "本小区逾期提醒"
    assert texts.template_for(community.pk + 1, "overdue", "sms").community_id is None
