"""Freeze each evidence row's id (swapping two ids would hand one row's proof to the other)."""

from django.db import migrations

from arrears.core.db import FreezeColumns, Frozen

# The columns as they stood when this migration was written (arrears/core/append_only.py):
# copied, never imported, so that a later change to the list needs its own migration.


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0010_compliance_roles'),
    ]

    operations = [
        FreezeColumns(
            Frozen(
                'core_auditevent',
                (
                    'id', 'actor_id', 'action', 'community_id', 'detail', 'at',
                ), refuse_delete=True,
            ),
            previous=Frozen(
                'core_auditevent',
                (
                    'actor_id', 'action', 'community_id', 'detail', 'at',
                ), refuse_delete=True,
            ),
        ),
    ]
