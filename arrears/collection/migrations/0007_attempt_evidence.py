"""Contact attempts as evidence: the time of contact apart from the time of logging, the rule a
logged contact broke (kept as made, never rewritten to "blocked"), third-party contacts, and
corrections with a required reason. Existing corrections get their notes as the reason; existing
attempts to a contact not authorised to hear of the debt are marked third party."""

from django.db import migrations, models
from django.db.models.functions import Left


def backfill(apps, schema_editor):
    ContactAttempt = apps.get_model("collection", "ContactAttempt")
    corrections = ContactAttempt.objects.filter(corrects__isnull=False, correction_reason="")
    corrections.exclude(notes="").update(correction_reason=Left("notes", 300))
    corrections.filter(notes="").update(correction_reason="（本字段启用前的更正，未写原因）")
    ContactAttempt.objects.filter(contact__isnull=False).exclude(contact__relation="self").filter(
        contact__disclosure_authorised=False,
    ).update(third_party=True)


class Migration(migrations.Migration):

    dependencies = [
        ('collection', '0006_holiday_arrangement'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='contactattempt',
            options={'ordering': ['-at', '-id'], 'permissions': [('view_compliance', '可查看合规报告')], 'verbose_name': '催收记录', 'verbose_name_plural': '催收记录'},
        ),
        migrations.AddField(
            model_name='contactattempt',
            name='correction_reason',
            field=models.CharField(blank=True, max_length=300, verbose_name='更正原因'),
        ),
        migrations.AddField(
            model_name='contactattempt',
            name='third_party',
            field=models.BooleanField(default=False, help_text='联系对象非业主本人且未获授权：只能记录中性结果', verbose_name='第三方'),
        ),
        migrations.AddField(
            model_name='contactattempt',
            name='violation_reason',
            field=models.CharField(blank=True, max_length=300, verbose_name='违规说明'),
        ),
        migrations.AddField(
            model_name='contactattempt',
            name='violation_rule',
            field=models.CharField(blank=True, help_text='联系时间违反的合规规则；联系照常记录', max_length=40, verbose_name='违反规则'),
        ),
        migrations.AlterField(
            model_name='contactattempt',
            name='outcome',
            field=models.CharField(choices=[('answered', '接通'), ('no_answer', '未接'), ('rejected', '拒接'), ('dead_number', '空号'), ('promised', '承诺'), ('paid', '已缴'), ('refused', '拒缴'), ('complaint', '投诉'), ('delivered', '已送达'), ('callback_requested', '已请转告回电'), ('wrong_number', '号码有误'), ('declined_to_pass_on', '不愿转告'), ('blocked', '已拦截')], max_length=20, verbose_name='结果'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='contactattempt',
            index=models.Index(condition=models.Q(('violation_rule', ''), _negated=True), fields=['community', 'at'], name='attempt_violation'),
        ),
        migrations.AddConstraint(
            model_name='contactattempt',
            constraint=models.CheckConstraint(condition=models.Q(('violation_rule', ''), models.Q(('violation_reason', ''), _negated=True), _connector='OR'), name='attempt_violation_has_reason'),
        ),
        migrations.AddConstraint(
            model_name='contactattempt',
            constraint=models.CheckConstraint(condition=models.Q(('corrects__isnull', True), models.Q(('correction_reason', ''), _negated=True), _connector='OR'), name='attempt_correction_has_reason'),
        ),
    ]
