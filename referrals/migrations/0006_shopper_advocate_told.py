from django.db import migrations, models
from django.db.models import F


def _history_is_not_news(apps, schema_editor):
    # Advocates are told of new orders and credit from now on; a deploy must not email the past.
    Referral = apps.get_model("referrals", "Referral")
    CreditEntry = apps.get_model("referrals", "CreditEntry")
    Referral.objects.filter(advocate_told_at__isnull=True).update(advocate_told_at=F("created_at"))
    CreditEntry.objects.filter(method="store_credit", notified_at__isnull=True).update(notified_at=F("created_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("referrals", "0005_money_ledger_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="advocate_told_at",
            field=models.DateTimeField(blank=True, help_text="the advocate was told of the order (claimed, so told once)", null=True),
        ),
        migrations.RunPython(_history_is_not_news, migrations.RunPython.noop),
    ]
