from django.db import migrations

# What the default scripts said before staff had real names and extensions: "管家{collector}" read
# "管家工作人员" for a nameless login, and "打{company_phone}找我" sent the owner to the switchboard.
LEGACY = [
    ("{collector_phone}", "{company_phone}"),
    ("的{collector}，耽误您一两分钟", "的管家{collector}，耽误您一两分钟"),
    ("我是{collector}。平时多亏", "我是管家{collector}。平时多亏"),
    ("的{collector}，这是我的工牌", "的管家{collector}，这是我的工牌"),
]


def legacy(body: str) -> str:
    for new, old in LEGACY:
        body = body.replace(new, old)
    return body


def name_the_staff(apps, schema_editor):
    """Default scripts still as shipped take the new words; a script staff edited is left as they wrote it."""
    from arrears.collection.scripts import DEFAULT_SCRIPTS

    Script = apps.get_model("collection", "Script")
    for row in DEFAULT_SCRIPTS:
        Script.objects.filter(code=row["code"], body=legacy(row["body"])).exclude(body=row["body"]).update(body=row["body"])


class Migration(migrations.Migration):
    dependencies = [("collection", "0014_dispute_ticket")]
    operations = [migrations.RunPython(name_the_staff, migrations.RunPython.noop)]
