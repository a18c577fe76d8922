from django.db import migrations

from arrears.core.migrations._roles import create_roles


class Migration(migrations.Migration):
    """Managers set the team's targets (insights.change_target); collectors see their own (insights.view_target)."""

    dependencies = [
        ("core", "0015_legal_roles"),
        ("insights", "0003_targets"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
