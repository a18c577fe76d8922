from django.db import migrations

from arrears.core.db import FreezeColumns, Frozen

# The columns as they stood when this migration was written (arrears/legal/append_only.py):
# copied, never imported, so that a later change to the list needs its own migration.

# What a posted award may charge the owner: the costs the court put on them, and a late fee the
# court awarded beyond what the ledger computed. Neither bears a late fee of its own.
CHARGE_TYPES = [("court_costs", "诉讼费用"), ("awarded_late_fee", "判决违约金差额")]


def create_charge_types(apps, schema_editor):
    ChargeType = apps.get_model("ledger", "ChargeType")
    for code, name in CHARGE_TYPES:
        ChargeType.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("legal", "0001_initial"), ("ledger", "0002_charge_types")]

    operations = [
        FreezeColumns(Frozen("legal_matterstage", (
            "id", "community_id", "matter_id", "route", "stage", "occurred_on", "amount", "reference", "note", "document",
            "sha256", "task_id", "corrects_id", "correction_reason", "recorded_by_id", "recorded_at",
        ), refuse_delete=True)),
        FreezeColumns(Frozen("legal_mattercost", (
            "id", "community_id", "matter_id", "kind", "amount", "paid_on", "note", "document", "sha256", "corrects_id",
            "correction_reason", "recorded_by_id", "recorded_at",
        ), refuse_delete=True)),
        FreezeColumns(Frozen("legal_award", (
            "id", "community_id", "matter_id", "kind", "decided_on", "effective_on", "late_fee_as_of", "principal",
            "late_fee", "costs", "reference", "document", "sha256", "recorded_by_id", "recorded_at",
        ), refuse_delete=True)),
        FreezeColumns(Frozen("legal_award", (
            "status", "decided_by_id", "decided_at", "decision_note", "posted",
        ), name="frozen_decision", when="OLD.status <> 'requested'")),
        FreezeColumns(Frozen("legal_communitydocument", (
            "id", "community_id", "kind", "title", "file", "sha256", "uploaded_by_id", "uploaded_at",
        ), refuse_delete=True)),
        FreezeColumns(Frozen("legal_publicnotice", (
            "id", "community_id", "building_id", "mode", "show_amounts", "as_of", "legal_basis", "office_phone", "body",
            "prepared_by_id", "prepared_at", "file", "sha256",
        ), refuse_delete=True)),
        FreezeColumns(Frozen("legal_publicnoticeentry", (
            "id", "community_id", "notice_id", "unit_id", "label", "amount",
        ), refuse_delete=True)),
        migrations.RunPython(create_charge_types, migrations.RunPython.noop),
    ]
