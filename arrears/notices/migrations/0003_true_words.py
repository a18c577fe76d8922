"""The default templates say only what is true: the time overdue in days under a month, and the
reminders on record instead of "已通过电话、短信等方式多次提醒".

Only the company defaults (no community) are changed, and only where they still hold the old
words. An SMS template with a provider's approved template code is left alone: the provider's
copy still says "${months}个月", and {months} now reads "不足1" under a month, which is true.
A community's own templates are not touched; they render truthfully as they are.
"""

from django.db import migrations

CHANGES = [
    ("overdue_second", "sms", "尚有物业费{amount}元（{months}个月）未缴。", "尚有物业费{amount}元（已逾期 {arrears_period}）未缴。"),
    ("overdue", "email", "您在{community}{room}的物业费{amount}元（{months}个月）已于{oldest_due}起到期未缴。",
     "您在{community}{room}的物业费{amount}元已于{oldest_due}到期，至今已逾期 {arrears_period}，尚未缴纳。"),
    ("collection_letter", "letter", "明细见下表。此前我们已通过电话、短信等方式多次提醒。", "明细见下表。{reminders}"),
    ("lawyer_letter", "lawyer_letter", "明细见下表。委托人已多次以电话、上门及书面催费函等方式催告，您至今未予缴纳。",
     "明细见下表。{reminders}您至今未予缴纳。"),
]


def _apply(apps, pairs):
    NoticeTemplate = apps.get_model("notices", "NoticeTemplate")
    for code, channel, old, new in pairs:
        for template in NoticeTemplate.objects.filter(community__isnull=True, code=code, channel=channel):
            if old in template.body and not template.provider_codes:
                template.body = template.body.replace(old, new)
                template.save(update_fields=["body"])


def forwards(apps, schema_editor):
    _apply(apps, CHANGES)


def backwards(apps, schema_editor):
    _apply(apps, [(code, channel, new, old) for code, channel, old, new in CHANGES])


class Migration(migrations.Migration):
    dependencies = [("notices", "0002_default_templates")]
    operations = [migrations.RunPython(forwards, backwards)]
