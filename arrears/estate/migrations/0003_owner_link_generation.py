from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("estate", "0002_serviceticket"),
    ]

    operations = [
        migrations.AddField(
            model_name="owner",
            name="link_generation",
            field=models.PositiveIntegerField(db_default=0, default=0, editable=False, verbose_name="账单链接版本"),
        ),
    ]
