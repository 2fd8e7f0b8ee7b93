from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("referrals", "0002_rewards_ledger"),
    ]

    operations = [
        migrations.AddField(
            model_name="programsettings",
            name="friend_segment_gid",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
    ]
