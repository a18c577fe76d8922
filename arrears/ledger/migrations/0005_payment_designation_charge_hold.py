"""Charge.on_hold (a charge under an open dispute, paid only by a designation) and Payment.designation
(the payer's designated charges, 民法典第560条). Database defaults too, so rows written by COPY or raw
SQL that do not name the columns are valid."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0004_payment_method_online'),
    ]

    operations = [
        migrations.AddField(
            model_name='charge',
            name='on_hold',
            field=models.BooleanField(db_default=False, default=False, editable=False, help_text='有未处理的费用异议：只有缴款人指定时才冲抵', verbose_name='异议暂停冲抵'),
        ),
        migrations.AddField(
            model_name='payment',
            name='designation',
            field=models.JSONField(blank=True, db_default=[], default=list, editable=False, verbose_name='缴款人指定冲抵的费用'),
        ),
    ]
