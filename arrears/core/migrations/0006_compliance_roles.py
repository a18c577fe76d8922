from django.db import migrations

from arrears.core.migrations._roles import create_roles


class Migration(migrations.Migration):
    """Managers may see the compliance page (collection.view_compliance)."""

    dependencies = [
        ("core", "0005_portal_roles"),
        ("collection", "0004_attempt_evidence"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
