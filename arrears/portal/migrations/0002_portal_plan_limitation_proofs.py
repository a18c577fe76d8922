"""Plans accepted on the owner's own portal request prove their limitation event (the owner's
portal action is the proof), from the time the request was accepted. Plans staff accepted
without a portal request wait for the signed plan (待补证据)."""

from django.db import migrations


def prove_portal_plans(apps, schema_editor):
    InstalmentRequest = apps.get_model("portal", "InstalmentRequest")
    LimitationEvent = apps.get_model("collection", "LimitationEvent")
    LimitationProof = apps.get_model("collection", "LimitationProof")
    accepted = InstalmentRequest.objects.filter(status="accepted", plan__isnull=False).select_related("plan").order_by("pk")
    for request in accepted.iterator():
        plan = request.plan
        # Events written before they pointed at their plan are found by owner, unit, kind and day.
        events = LimitationEvent.objects.filter(unit_id=request.unit_id, owner_id=request.owner_id, kind="plan",
                                                occurred_on=plan.accepted_on, proofs__isnull=True)
        for event in events:
            LimitationProof.objects.create(
                community_id=event.community_id, event=event, kind="portal",
                reference=f"portal instalment request #{request.pk}", added_by_id=request.decided_by_id,
                added_at=request.decided_at or request.requested_at,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("collection", "0005_limitation_proof"),
    ]
    operations = [migrations.RunPython(prove_portal_plans, migrations.RunPython.noop)]
