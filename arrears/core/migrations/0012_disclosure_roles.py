from django.db import migrations

from arrears.core.migrations._roles import create_roles


class Migration(migrations.Migration):
    """Managers and legal record who may hear of the debt (estate.authorise_disclosure); collectors no longer."""

    dependencies = [
        ("core", "0011_frozen_ids_lawyer"),
        ("estate", "0004_contact_authorise_disclosure"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
