from django.db import migrations


def create_templates(apps, schema_editor):
    from arrears.notices.texts import DEFAULT_PAYMENT_METHODS, DEFAULT_TEMPLATES, LETTER_CHANNELS

    NoticeTemplate = apps.get_model("notices", "NoticeTemplate")
    existing = set(NoticeTemplate.objects.filter(community__isnull=True).values_list("code", "channel"))
    NoticeTemplate.objects.bulk_create([
        NoticeTemplate(code=row["code"], channel=str(row["channel"]), name=row["name"], subject=row.get("subject", ""),
                       body=row["body"], neutral=row.get("neutral", False),
                       payment_methods="\n".join(DEFAULT_PAYMENT_METHODS) if row["channel"] in LETTER_CHANNELS else "")
        for row in DEFAULT_TEMPLATES if (row["code"], str(row["channel"])) not in existing
    ])


class Migration(migrations.Migration):
    dependencies = [("notices", "0001_initial")]
    operations = [migrations.RunPython(create_templates, migrations.RunPython.noop)]
