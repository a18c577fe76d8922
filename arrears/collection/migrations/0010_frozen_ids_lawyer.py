"""Freeze each evidence row's id (swapping two ids would hand one row's proof to the other) and an outbox message once sent (to whom, when) and once delivered (the report)."""

from django.db import migrations

from arrears.core.db import FreezeColumns, Frozen

# The columns as they stood when this migration was written (arrears/collection/append_only.py):
# copied, never imported, so that a later change to the list needs its own migration.


class Migration(migrations.Migration):

    dependencies = [
        ('collection', '0009_charge_hold_from_disputes'),
    ]

    operations = [
        FreezeColumns(
            Frozen(
                'collection_contactattempt',
                (
                    'id', 'community_id', 'case_id', 'unit_id', 'owner_id', 'contact_id', 'relation',
                    'channel', 'at', 'outcome', 'reason', 'notes', 'script_code', 'blocked_rule',
                    'blocked_reason', 'violation_rule', 'violation_reason', 'third_party', 'task_id',
                    'corrects_id', 'correction_reason', 'staff_id', 'created_at',
                ), refuse_delete=True,
            ),
            previous=Frozen(
                'collection_contactattempt',
                (
                    'community_id', 'case_id', 'unit_id', 'owner_id', 'contact_id', 'relation', 'channel',
                    'at', 'outcome', 'reason', 'notes', 'script_code', 'blocked_rule', 'blocked_reason',
                    'violation_rule', 'violation_reason', 'third_party', 'task_id', 'corrects_id',
                    'correction_reason', 'staff_id', 'created_at',
                ), refuse_delete=True,
            ),
        ),
        FreezeColumns(
            Frozen(
                'collection_attemptattachment',
                (
                    'id', 'community_id', 'attempt_id', 'kind', 'file', 'sha256', 'uploaded_by_id',
                    'uploaded_at',
                ), refuse_delete=True,
            ),
            previous=Frozen(
                'collection_attemptattachment',
                (
                    'community_id', 'attempt_id', 'kind', 'file', 'sha256', 'uploaded_by_id', 'uploaded_at',
                ), refuse_delete=True,
            ),
        ),
        FreezeColumns(
            Frozen(
                'collection_limitationevent',
                (
                    'id', 'community_id', 'unit_id', 'owner_id', 'kind', 'occurred_on', 'attempt_id',
                    'plan_id', 'note',
                ), refuse_delete=True,
            ),
            previous=Frozen(
                'collection_limitationevent',
                (
                    'community_id', 'unit_id', 'owner_id', 'kind', 'occurred_on', 'attempt_id', 'plan_id',
                    'note',
                ), refuse_delete=True,
            ),
        ),
        FreezeColumns(
            Frozen(
                'collection_limitationproof',
                (
                    'id', 'community_id', 'event_id', 'kind', 'file', 'sha256', 'attachment_id',
                    'reference', 'note', 'added_by_id', 'added_at',
                ), refuse_delete=True,
            ),
            previous=Frozen(
                'collection_limitationproof',
                (
                    'community_id', 'event_id', 'kind', 'file', 'sha256', 'attachment_id', 'reference',
                    'note', 'added_by_id', 'added_at',
                ), refuse_delete=True,
            ),
        ),
        FreezeColumns(
            Frozen(
                'collection_outgoingmessage',
                (
                    'id', 'community_id', 'case_id', 'unit_id', 'owner_id', 'key', 'channel',
                    'template_code', 'scheduled_on', 'created_at',
                ), refuse_delete=True,
            ),
            previous=Frozen(
                'collection_outgoingmessage',
                (
                    'community_id', 'case_id', 'unit_id', 'owner_id', 'key', 'channel', 'template_code',
                    'scheduled_on', 'created_at',
                ), refuse_delete=True,
            ),
        ),
        FreezeColumns(Frozen(
            'collection_outgoingmessage',
            (
                'contact_id', 'provider', 'provider_message_id', 'sent_at',
            ), name='frozen_sent', when='OLD.sent_at IS NOT NULL',
        )),
        FreezeColumns(Frozen(
            'collection_outgoingmessage',
            (
                'status', 'delivered_at', 'receipt_code', 'receipt_description',
            ), name='frozen_delivered', when="OLD.status = 'delivered'",
        )),
    ]
