"""Freeze each evidence row's id (swapping two ids would hand one row's proof to the other)."""

from django.db import migrations

from arrears.core.db import FreezeColumns, Frozen

# The columns as they stood when this migration was written (arrears/notices/append_only.py):
# copied, never imported, so that a later change to the list needs its own migration.


class Migration(migrations.Migration):

    dependencies = [
        ('notices', '0005_append_only'),
    ]

    operations = [
        FreezeColumns(
            Frozen(
                'notices_messageevent',
                (
                    'id', 'community_id', 'message_id', 'at', 'kind', 'detail', 'actor_id',
                ), refuse_delete=True,
            ),
            previous=Frozen(
                'notices_messageevent',
                (
                    'community_id', 'message_id', 'at', 'kind', 'detail', 'actor_id',
                ), refuse_delete=True,
            ),
        ),
        FreezeColumns(
            Frozen(
                'notices_letterbatch',
                (
                    'id', 'community_id', 'kind', 'issued_on', 'deadline', 'count', 'override_reason',
                    'override_by_id', 'created_by_id', 'created_at',
                ), refuse_delete=True,
            ),
            previous=Frozen(
                'notices_letterbatch',
                (
                    'community_id', 'kind', 'issued_on', 'deadline', 'count', 'override_reason',
                    'override_by_id', 'created_by_id', 'created_at',
                ), refuse_delete=True,
            ),
        ),
        FreezeColumns(
            Frozen(
                'notices_letter',
                (
                    'id', 'community_id', 'batch_id', 'case_id', 'unit_id', 'owner_id', 'task_id', 'kind',
                    'template_code', 'number', 'issued_on', 'deadline', 'as_of', 'principal', 'late_fee',
                    'content', 'pdf', 'pdf_sha256', 'created_by_id', 'created_at',
                ), refuse_delete=True,
            ),
            previous=Frozen(
                'notices_letter',
                (
                    'community_id', 'batch_id', 'case_id', 'unit_id', 'owner_id', 'task_id', 'kind',
                    'template_code', 'number', 'issued_on', 'deadline', 'as_of', 'principal', 'late_fee',
                    'content', 'pdf', 'pdf_sha256', 'created_by_id', 'created_at',
                ), refuse_delete=True,
            ),
        ),
        FreezeColumns(
            Frozen(
                'notices_deliverycorrection',
                (
                    'id', 'community_id', 'letter_id', 'corrects_id', 'delivery_method', 'tracking_no',
                    'proof', 'proof_sha256', 'delivery_note', 'reason', 'corrected_by_id', 'corrected_at',
                ), refuse_delete=True,
            ),
            previous=Frozen(
                'notices_deliverycorrection',
                (
                    'community_id', 'letter_id', 'corrects_id', 'delivery_method', 'tracking_no', 'proof',
                    'proof_sha256', 'delivery_note', 'reason', 'corrected_by_id', 'corrected_at',
                ), refuse_delete=True,
            ),
        ),
    ]
