from django.db import migrations

from arrears.core.migrations._roles import create_roles


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("estate", "0001_initial"),
        ("ledger", "0002_charge_types"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
