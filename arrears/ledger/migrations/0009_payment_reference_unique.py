"""One payment per reference, company and method, enforced by the database.

Payments already in the database that share a reference (same company and method) are sorted
oldest first, and the oldest keeps the reference. A later one that re-entered a reversed payment
(the reversal is the only lawful way a reference came back) is linked to that reversal as its
correction. Any other later one is a real repeat: the money stays as it was (the ledger is
append-only, and reversing money to please a migration would reopen debts), the payment is marked
`repeats_reference` so the new constraint passes over it, and it is listed on the console and in
the audit log (action `ledger.reference_repeated`) for the company to check by hand. Nothing is
silently dropped, merged or renumbered.
"""

import django.db.models.deletion
from django.db import migrations, models

from arrears.core.db import FreezeColumns, Frozen

AUDIT_ACTION = "ledger.reference_repeated"


def link_and_report_repeats(apps, schema_editor):
    Payment = apps.get_model("ledger", "Payment")
    PaymentReversal = apps.get_model("ledger", "PaymentReversal")
    AuditEvent = apps.get_model("core", "AuditEvent")
    groups = (Payment.objects.exclude(reference="").values("company_id", "method", "reference")
              .annotate(n=models.Count("id")).filter(n__gt=1).order_by("company_id", "method", "reference"))
    reported = []
    for group in groups:
        rows = list(Payment.objects.filter(company_id=group["company_id"], method=group["method"],
                                           reference=group["reference"]).order_by("pk")
                    .values("pk", "receipt_number", "community_id", "unit_id", "amount", "paid_on"))
        reversal_of = dict(PaymentReversal.objects.filter(payment_id__in=[r["pk"] for r in rows])
                           .values_list("payment_id", "pk"))
        holder, repeats = rows[0], []
        for row in rows[1:]:
            if holder["pk"] in reversal_of:  # the holder was reversed: this one re-entered it
                Payment.objects.filter(pk=row["pk"]).update(corrects_id=reversal_of[holder["pk"]])
                holder = row
            else:
                Payment.objects.filter(pk=row["pk"]).update(repeats_reference=True)
                repeats.append(row)
        if repeats:
            reported.append((group, holder, repeats))
            AuditEvent.objects.create(action=AUDIT_ACTION, community_id=holder["community_id"], detail={
                "company": group["company_id"], "method": group["method"], "reference": group["reference"],
                "holder": holder["pk"], "holder_receipt": holder["receipt_number"],
                "repeats": [r["pk"] for r in repeats], "repeat_receipts": [r["receipt_number"] for r in repeats],
            })
    if schema_editor.connection.vendor == "postgresql":
        # The links above queue deferred foreign-key checks; PostgreSQL will not build the index
        # below on a table with pending trigger events, so run them now.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    if reported:
        lines = [f"\n  {len(reported)} 个交易参考号在同一物业公司、同一方式下登记了不止一笔缴费；"
                 f"最早的一笔保留参考号，其余标记为“重复（历史数据）”，金额不变，请逐笔核对是否重复入账：",
                 f"  {len(reported)} payment reference(s) were taken more than once in one company and method; "
                 f"the oldest keeps the reference, the others are marked repeats_reference (money unchanged). "
                 f"Check each by hand for a double credit (audit action {AUDIT_ACTION}):"]
        for group, holder, repeats in reported:
            others = ", ".join(f"#{r['pk']} {r['receipt_number'] or '-'} ¥{r['amount']} {r['paid_on']}" for r in repeats)
            lines.append(f"    company {group['company_id']} {group['method']} {group['reference']!r}: "
                         f"kept #{holder['pk']} {holder['receipt_number'] or '-'}; repeats: {others}")
        print("\n".join(lines))


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0012_disclosure_roles'),
        ('ledger', '0008_import_job'),
    ]

    operations = [
        migrations.AddField(
            model_name='payment',
            name='corrects',
            field=models.OneToOneField(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='correction', to='ledger.paymentreversal', verbose_name='重新登记的冲正'),
        ),
        migrations.AddField(
            model_name='payment',
            name='repeats_reference',
            field=models.BooleanField(db_default=False, default=False, editable=False, verbose_name='与更早的缴费交易参考号重复（历史数据）'),
        ),
        # Before the constraint (which it makes pass) and before the new columns are frozen.
        migrations.RunPython(link_and_report_repeats, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.UniqueConstraint(condition=models.Q(models.Q(('reference', ''), _negated=True), ('corrects__isnull', True), ('repeats_reference', False)), fields=('company', 'method', 'reference'), name='payment_reference_unique'),
        ),
        # The columns as they stand now (arrears/ledger/append_only.py), copied: freeze the two new
        # ones, and reinstall the trigger that a SQLite table rebuild above has dropped.
        FreezeColumns(
            Frozen(
                'ledger_payment',
                (
                    'id', 'company_id', 'community_id', 'unit_id', 'owner_id', 'amount', 'paid_on', 'method',
                    'reference', 'receipt_number', 'operator_id', 'designation', 'corrects_id',
                    'repeats_reference', 'created_at',
                ), refuse_delete=True,
            ),
            previous=Frozen(
                'ledger_payment',
                (
                    'id', 'company_id', 'community_id', 'unit_id', 'owner_id', 'amount', 'paid_on', 'method',
                    'reference', 'receipt_number', 'operator_id', 'designation', 'created_at',
                ), refuse_delete=True,
            ),
        ),
    ]
