from django.db import migrations

from arrears.core.migrations._roles import create_roles


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_roles"),
        ("estate", "0002_serviceticket"),
        ("collection", "0001_initial"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
