from django.db import migrations

from arrears.core.migrations._roles import create_roles


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_portal_roles"),
        ("collection", "0005_limitation_proof"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
