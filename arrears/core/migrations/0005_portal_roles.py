from django.db import migrations

from arrears.core.migrations._roles import create_roles


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_notices_roles"),
        ("portal", "0001_initial"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
