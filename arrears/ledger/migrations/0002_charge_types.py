from django.db import migrations

CHARGE_TYPES = [
    ("property_fee", "物业费"),
    ("parking_fee", "车位管理费"),
    ("shared_utilities", "公摊水电费"),
    ("other", "其他"),
]


def create(apps, schema_editor):
    ChargeType = apps.get_model("ledger", "ChargeType")
    for code, name in CHARGE_TYPES:
        ChargeType.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
