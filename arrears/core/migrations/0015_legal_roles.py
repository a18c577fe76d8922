from django.db import migrations

from arrears.core.migrations._roles import create_roles


class Migration(migrations.Migration):
    """The legal desk's permissions: legal staff walk matters; managers approve awards and public notices."""

    dependencies = [
        ("core", "0014_ticket_roles"),
        ("legal", "0002_evidence_and_charge_types"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
