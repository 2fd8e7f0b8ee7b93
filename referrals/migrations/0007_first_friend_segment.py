from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("referrals", "0006_shopper_advocate_told"),
    ]

    operations = [
        migrations.AddField(
            model_name="programsettings",
            name="friend_segment_gid",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
    ]
