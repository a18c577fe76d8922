from django.db import migrations


def create_default_scripts(apps, schema_editor):
    """Create the default script library; a code that already exists is left as staff made it."""
    from arrears.collection.scripts import DEFAULT_SCRIPTS

    Script = apps.get_model("collection", "Script")
    for row in DEFAULT_SCRIPTS:
        defaults = {key: value for key, value in row.items() if key != "code"}
        Script.objects.get_or_create(code=row["code"], defaults=defaults)


class Migration(migrations.Migration):

    dependencies = [
        ("collection", "0001_initial"),
    ]

    operations = [
        # Reversing keeps the scripts: staff may have edited them, and they are data, not schema.
        migrations.RunPython(create_default_scripts, migrations.RunPython.noop),
    ]
