"""Bring stored keys to their normal form (issue 13, path 9); list the lookalikes that remain.

A payment's reference and receipt number are append-only evidence: a lookalike there is listed,
never rewritten (a wrong entry is corrected by a reversal). Charge types that collide once
normalised are listed for a person to merge.
"""

from django.db import migrations

from arrears.core import keys


def normalise_keys(apps, schema_editor):
    tables = [("ChargeType", ["name"], ()), ("Payment", ["reference", "receipt_number"], ("reference", "receipt_number"))]
    for name, fields, frozen in tables:
        for line in keys.describe(keys.normalise_table(apps.get_model("ledger", name), fields, frozen=frozen)):
            print(line)  # noqa: T201  (the operator running migrate reads what is left to merge)


class Migration(migrations.Migration):
    dependencies = [("estate", "0006_normalise_keys"), ("ledger", "0006_append_only_ledger")]

    operations = [migrations.RunPython(normalise_keys, migrations.RunPython.noop, elidable=True)]
