"""Incentives (seed 000): programmes, prepaid-year awards and grants; grants and awards are append-only."""

import arrears.core.money
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from arrears.core.db import FreezeColumns, Frozen
from arrears.core.migrations._roles import create_roles


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0015_legal_roles'),
        ('estate', '0009_ticket_workflow'),
        ('ledger', '0010_charge_settled_on_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='IncentiveProgramme',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('early_payment', '提前缴费优惠'), ('prepay_year', '预缴全年奖励'), ('late_fee_waiver', '主动缴清免违约金')], max_length=20, verbose_name='类型')),
                ('name', models.CharField(max_length=100, verbose_name='名称')),
                ('valid_from', models.DateField(verbose_name='生效日期')),
                ('valid_to', models.DateField(blank=True, help_text='含当日；空表示长期有效', null=True, verbose_name='截止日期')),
                ('days', models.PositiveSmallIntegerField(default=0, help_text='提前缴费：到期日前几天缴清；主动缴清：首次提醒后几天内缴清本金', verbose_name='天数')),
                ('percent', models.DecimalField(blank=True, decimal_places=2, max_digits=5, null=True, verbose_name='优惠比例（%）')),
                ('amount', arrears.core.money.MoneyField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='优惠金额')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='创建时间')),
                ('charge_types', models.ManyToManyField(blank=True, help_text='空表示全部收费项目', related_name='+', to='ledger.chargetype', verbose_name='限收费项目')),
                ('community', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='estate.community', verbose_name='小区')),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='创建人')),
            ],
            options={
                'verbose_name': '优惠活动',
                'verbose_name_plural': '优惠活动',
                'ordering': ['community_id', '-valid_from', 'id'],
            },
        ),
        migrations.CreateModel(
            name='PrepayAward',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('starts', models.DateField(verbose_name='预缴起')),
                ('ends', models.DateField(verbose_name='预缴止')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='录入时间')),
                ('community', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='estate.community', verbose_name='小区')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='estate.owner', verbose_name='业主')),
                ('payment', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='prepay_award', to='ledger.payment', verbose_name='缴费')),
                ('programme', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='awards', to='ledger.incentiveprogramme', verbose_name='优惠活动')),
                ('unit', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='estate.unit', verbose_name='房屋')),
            ],
            options={
                'verbose_name': '预缴全年奖励',
                'verbose_name_plural': '预缴全年奖励',
            },
        ),
        migrations.CreateModel(
            name='IncentiveGrant',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('early_payment', '提前缴费优惠'), ('prepay_year', '预缴全年奖励'), ('late_fee_waiver', '主动缴清免违约金')], max_length=20, verbose_name='类型')),
                ('component', models.CharField(choices=[('principal', '本金'), ('late_fee', '违约金')], max_length=20, verbose_name='减免项')),
                ('amount', arrears.core.money.MoneyField(decimal_places=2, max_digits=14, verbose_name='金额')),
                ('granted_on', models.DateField(verbose_name='生效日期')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='录入时间')),
                ('charge', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='incentive_grants', to='ledger.charge', verbose_name='应收')),
                ('community', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='estate.community', verbose_name='小区')),
                ('payment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='incentive_grants', to='ledger.payment', verbose_name='缴费')),
                ('restores', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.charge', verbose_name='重新计收的应收')),
                ('waiver', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='incentive_grant', to='ledger.waiver', verbose_name='减免')),
                ('withdraws', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='withdrawal', to='ledger.incentivegrant', verbose_name='撤回的优惠')),
                ('programme', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='grants', to='ledger.incentiveprogramme', verbose_name='优惠活动')),
                ('award', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='grants', to='ledger.prepayaward', verbose_name='预缴全年奖励')),
            ],
            options={
                'verbose_name': '优惠发放',
                'verbose_name_plural': '优惠发放',
                'ordering': ['granted_on', 'id'],
            },
        ),
        migrations.AddConstraint(
            model_name='incentiveprogramme',
            constraint=models.CheckConstraint(condition=models.Q(('valid_to__isnull', True), ('valid_to__gte', models.F('valid_from')), _connector='OR'), name='incentive_to_after_from'),
        ),
        migrations.AddConstraint(
            model_name='incentiveprogramme',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'late_fee_waiver'), ('percent__isnull', True), ('amount__isnull', True)), models.Q(models.Q(('kind', 'late_fee_waiver'), _negated=True), ('percent__isnull', True), ('amount__gt', 0)), models.Q(models.Q(('kind', 'late_fee_waiver'), _negated=True), ('amount__isnull', True), ('percent__gt', 0), ('percent__lt', 100)), _connector='OR'), name='incentive_discount_shape'),
        ),
        migrations.AddConstraint(
            model_name='incentiveprogramme',
            constraint=models.CheckConstraint(condition=models.Q(('kind', 'prepay_year'), ('days__gte', 1), _connector='OR'), name='incentive_days_positive'),
        ),
        migrations.AddConstraint(
            model_name='prepayaward',
            constraint=models.CheckConstraint(condition=models.Q(('ends__gt', models.F('starts'))), name='prepay_award_order'),
        ),
        migrations.AddIndex(
            model_name='incentivegrant',
            index=models.Index(fields=['programme', 'granted_on'], name='incentive_grant_programme'),
        ),
        migrations.AddConstraint(
            model_name='incentivegrant',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('withdraws__isnull', True), ('amount__gt', 0), ('waiver__isnull', False), ('restores__isnull', True)), models.Q(('withdraws__isnull', False), ('amount__lt', 0), ('waiver__isnull', True), ('restores__isnull', False)), _connector='OR'), name='incentive_grant_shape'),
        ),
        migrations.AddConstraint(
            model_name='incentivegrant',
            constraint=models.UniqueConstraint(condition=models.Q(('withdraws__isnull', True)), fields=('charge', 'component'), name='incentive_grant_once'),
        ),
        # Last, after every table rebuild above (a SQLite rebuild drops a table's triggers). The
        # column lists are copied from arrears/ledger/append_only.py as they stand today.
        FreezeColumns(Frozen(
            'ledger_prepayaward',
            ('id', 'community_id', 'programme_id', 'unit_id', 'owner_id', 'payment_id', 'starts', 'ends', 'created_at'),
            refuse_delete=True,
        )),
        FreezeColumns(Frozen(
            'ledger_incentivegrant',
            (
                'id', 'community_id', 'programme_id', 'kind', 'charge_id', 'component', 'waiver_id', 'amount',
                'granted_on', 'payment_id', 'award_id', 'withdraws_id', 'restores_id', 'created_at',
            ), refuse_delete=True,
        )),
        # Managers open and end programmes; everyone with the ledger's view sees them.
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
