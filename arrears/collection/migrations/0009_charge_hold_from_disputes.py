"""Hold every charge that has an open dispute (the ledger's `Charge.on_hold` cache starts equal to
its derivation); from here on `collection.services.sync_charge_hold` keeps it so."""

from django.db import migrations


def hold_disputed(apps, schema_editor):
    Charge = apps.get_model("ledger", "Charge")
    ChargeDispute = apps.get_model("collection", "ChargeDispute")
    disputed = ChargeDispute.objects.filter(closed_on__isnull=True).values("charge_id")
    Charge.objects.filter(pk__in=disputed).update(on_hold=True)


def release_all(apps, schema_editor):
    apps.get_model("ledger", "Charge").objects.filter(on_hold=True).update(on_hold=False)


class Migration(migrations.Migration):
    dependencies = [
        ("collection", "0008_append_only"),
        ("ledger", "0005_payment_designation_charge_hold"),
    ]

    operations = [migrations.RunPython(hold_disputed, release_all)]
