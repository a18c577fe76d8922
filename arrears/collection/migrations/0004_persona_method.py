"""The persona drives the method: follow-up calls after a letter's quiet period, a private heads-up
before a lawyer letter, and the scripts the persona chooses.

Idempotent and safe on a database staff have used: a step whose code a policy already has is left
as it is, a script whose code exists is left as staff made it, and the lawyer letter is moved
behind the heads-up only where its requirement is still the default one.
"""

from decimal import Decimal

from django.db import migrations, models

FOLLOW_UP_NAME = "函件静默期结束后跟进"

# Frozen here (not read from defaults.py): what this migration adds must not change with later code.
NEW_STEPS = [
    {"code": "letter_1_follow_up", "name": FOLLOW_UP_NAME, "day_offset": 60, "channel": "call", "technique": 8,
     "script_code": "letter_follow_up", "requires_steps": "letter_1", "days_after_required": 8, "after_delivery": True},
    {"code": "letter_2_follow_up", "name": FOLLOW_UP_NAME, "day_offset": 90, "channel": "call", "technique": 8,
     "script_code": "letter_follow_up", "requires_steps": "letter_2", "days_after_required": 8, "after_delivery": True},
    {"code": "lawyer_heads_up", "name": "律师函前私下告知", "day_offset": 115, "channel": "call", "technique": 9,
     "script_code": "lawyer_heads_up", "requires_steps": "letter_2", "days_after_required": 7,
     "no_payment_since_required": True, "lawyer_letter_eligibility": True, "min_months": 3},
    {"code": "lawyer_letter_follow_up", "name": FOLLOW_UP_NAME, "day_offset": 120, "channel": "call", "technique": 9,
     "script_code": "lawyer_letter_follow_up", "requires_steps": "lawyer_letter", "days_after_required": 1,
     "after_delivery": True},
]
NEW_SCRIPTS = ("service_fix_first", "resistant_duty", "evasive_contact", "letter_follow_up", "lawyer_heads_up",
               "lawyer_letter_follow_up")


def add_scripts(apps, schema_editor):
    """Create the persona and follow-up scripts that are missing; existing codes are left alone."""
    from arrears.collection.scripts import DEFAULT_SCRIPTS

    Script = apps.get_model("collection", "Script")
    for row in DEFAULT_SCRIPTS:
        if row["code"] in NEW_SCRIPTS:
            defaults = {key: value for key, value in row.items() if key != "code"}
            Script.objects.get_or_create(code=row["code"], defaults=defaults)


def add_steps(apps, schema_editor):
    """Give every policy's ladder the new steps it lacks; put the lawyer letter behind the heads-up."""
    CollectionPolicy = apps.get_model("collection", "CollectionPolicy")
    LadderStep = apps.get_model("collection", "LadderStep")
    for policy in CollectionPolicy.objects.order_by("pk"):
        have = set(LadderStep.objects.filter(policy=policy).values_list("code", flat=True))
        LadderStep.objects.bulk_create([
            LadderStep(policy=policy, template_code="", min_amount=Decimal("0.00"), **row)
            for row in NEW_STEPS if row["code"] not in have
        ])
        # Only the untouched default: a ladder staff reworked keeps their choice.
        LadderStep.objects.filter(
            policy=policy, code="lawyer_letter", requires_steps="letter_2", days_after_required=7,
        ).update(requires_steps="lawyer_heads_up", days_after_required=5)


class Migration(migrations.Migration):

    dependencies = [
        ("collection", "0003_outbox_dispatch"),
    ]

    operations = [
        migrations.AddField(
            model_name="ladderstep",
            name="after_delivery",
            field=models.BooleanField(
                default=False, help_text="间隔天数自前置步骤的函件登记送达之日起算；函件未送达的不触发",
                verbose_name="自函件送达起算",
            ),
        ),
        # Reversing keeps the rows: they are data staff may have edited since, not schema.
        migrations.RunPython(add_scripts, migrations.RunPython.noop),
        migrations.RunPython(add_steps, migrations.RunPython.noop),
    ]
