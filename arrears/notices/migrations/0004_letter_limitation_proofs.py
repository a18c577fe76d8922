"""Existing delivered letters that carry their proof (a tracking number of registered mail or EMS,
or the SHA-256 of the owner's signed receipt) prove their written-demand event, from the time
the delivery was recorded: the deadlines they moved stay where they were. Hand-logged letters
and letters without proof stay unproven (待补证据)."""

from django.db import migrations

TRACKED = {"registered_mail": "挂号信", "ems": "EMS"}


def prove_delivered_letters(apps, schema_editor):
    Letter = apps.get_model("notices", "Letter")
    LimitationEvent = apps.get_model("collection", "LimitationEvent")
    LimitationProof = apps.get_model("collection", "LimitationProof")
    letters = Letter.objects.filter(status="delivered", attempt__isnull=False).select_related("attempt").order_by("pk")
    for letter in letters.iterator():
        tracking = letter.tracking_no if letter.delivery_method in TRACKED else ""
        if not (tracking or letter.proof_sha256):
            continue
        reference = " ".join(part for part in (letter.number, TRACKED.get(letter.delivery_method, ""), tracking) if part)
        events = LimitationEvent.objects.filter(attempt_id=letter.attempt_id, kind="written_demand", proofs__isnull=True)
        for event in events:
            LimitationProof.objects.create(community_id=event.community_id, event=event, kind="letter_delivery",
                                           reference=reference, sha256=letter.proof_sha256,
                                           added_by_id=letter.recorded_by_id, added_at=letter.attempt.created_at)


class Migration(migrations.Migration):
    dependencies = [
        ("notices", "0003_true_words"),
        ("collection", "0005_limitation_proof"),
    ]
    operations = [migrations.RunPython(prove_delivered_letters, migrations.RunPython.noop)]
