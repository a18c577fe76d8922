from django.db import migrations

from arrears.core.db import FreezeColumns, Frozen


class Migration(migrations.Migration):
    """Waivers become evidence: the request never changes, the decision never changes once made.

    The column lists are copied from arrears/ledger/append_only.py as they stand today.
    """

    dependencies = [("ledger", "0011_incentives")]

    operations = [
        FreezeColumns(Frozen(
            "ledger_waiver",
            ("id", "community_id", "charge_id", "component", "amount", "reason", "requested_by_id", "requested_on"),
            refuse_delete=True,
        )),
        FreezeColumns(Frozen(
            "ledger_waiver", ("status", "approved_by_id", "decided_on"),
            name="frozen_decision", when="OLD.status <> 'requested'",
        )),
    ]
