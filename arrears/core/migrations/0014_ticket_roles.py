from django.db import migrations

from arrears.core.migrations._roles import create_roles


class Migration(migrations.Migration):
    """Collectors work service tickets (estate.change_serviceticket); managers assign them (estate.assign_serviceticket)."""

    dependencies = [
        ("core", "0013_staff_profile"),
        ("estate", "0009_ticket_workflow"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
