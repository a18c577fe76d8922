from django.db import migrations

from arrears.core.migrations._roles import create_roles


class Migration(migrations.Migration):
    """Managers may enter and confirm a year's holiday arrangement (the banner sends them there)."""

    dependencies = [
        ("core", "0006_limitation_proof_roles"),
        ("collection", "0006_holiday_arrangement"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
