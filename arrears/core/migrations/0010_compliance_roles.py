from django.db import migrations

from arrears.core.migrations._roles import create_roles


class Migration(migrations.Migration):
    """Managers may see the compliance page (collection.view_compliance)."""

    dependencies = [
        ("core", "0009_delivery_correction_roles"),
        ("collection", "0007_attempt_evidence"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
