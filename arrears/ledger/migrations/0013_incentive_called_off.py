import datetime

from django.db import migrations, models
from django.db.models.expressions import CombinedExpression


class Migration(migrations.Migration):
    """A programme called off before it started ends the day before it starts (never in force)."""

    dependencies = [("ledger", "0012_waiver_evidence")]

    operations = [
        migrations.RemoveConstraint(model_name="incentiveprogramme", name="incentive_to_after_from"),
        migrations.AddConstraint(
            model_name="incentiveprogramme",
            constraint=models.CheckConstraint(
                condition=models.Q(("valid_to__isnull", True),
                                   ("valid_to__gte", CombinedExpression(models.F("valid_from"), "-",
                                                                        models.Value(datetime.timedelta(days=1)))),
                                   _connector="OR"),
                name="incentive_to_after_from",
            ),
        ),
    ]
