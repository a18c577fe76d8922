"""Bring stored keys to their normal form (issue 13, path 9); list the lookalikes that collide.

Rows that would share a unique key once normalised ("101" and "101\u200b" in one building) are
not touched: each may carry charges, payments and cases, and merging them is a person's decision.
`arrears keys --check` lists what remains.
"""

from django.db import migrations

from arrears.core import keys

KEY_FIELDS = {
    "Company": ["name"],
    "Community": ["name"],
    "Building": ["name"],
    "Unit": ["entrance", "room"],
    "Owner": ["name", "id_number"],
    "Contact": ["value", "name"],
    "Vehicle": ["plate"],
}


def normalise_keys(apps, schema_editor):
    for name, fields in KEY_FIELDS.items():
        for line in keys.describe(keys.normalise_table(apps.get_model("estate", name), fields)):
            print(line)  # noqa: T201  (the operator running migrate reads what is left to merge)


class Migration(migrations.Migration):
    dependencies = [("estate", "0005_community_service_centre")]

    operations = [migrations.RunPython(normalise_keys, migrations.RunPython.noop, elidable=True)]
