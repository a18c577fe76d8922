"""The ledger is append-only (DESIGN.md §4): the database refuses to change a payment, a reversal or an
allocation (a payment's date restarts the limitation period), and on PostgreSQL to delete one."""

from django.db import migrations

from arrears.core.db import FreezeColumns, Frozen

# The columns as they stood when this migration was written (arrears/ledger/append_only.py):
# copied, never imported, so that a later change to the list needs its own migration.


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0005_payment_designation_charge_hold'),
    ]

    operations = [
        FreezeColumns(Frozen(
            'ledger_payment',
            (
                'id', 'company_id', 'community_id', 'unit_id', 'owner_id', 'amount', 'paid_on', 'method', 'reference',
                'receipt_number', 'operator_id', 'designation', 'created_at',
            ), refuse_delete=True,
        )),
        FreezeColumns(Frozen(
            'ledger_paymentreversal',
            (
                'id', 'community_id', 'payment_id', 'reversed_on', 'reason', 'requested_by_id', 'approved_by_id',
                'created_at',
            ), refuse_delete=True,
        )),
        FreezeColumns(Frozen(
            'ledger_allocation',
            (
                'id', 'community_id', 'payment_id', 'charge_id', 'component', 'amount', 'value_date', 'reversal_id',
            ), refuse_delete=True,
        )),
    ]
