from django.db import migrations

from arrears.core.migrations._roles import create_roles


class Migration(migrations.Migration):
    """Every role that views letters views their delivery corrections too."""

    dependencies = [
        ("core", "0008_append_only"),
        ("notices", "0005_append_only"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
