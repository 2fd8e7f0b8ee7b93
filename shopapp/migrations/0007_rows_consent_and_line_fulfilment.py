from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    """Lines of orders fulfilled before lines had their own time: the order's time is all there is."""
    Order = apps.get_model("shopapp", "Order")
    OrderLine = apps.get_model("shopapp", "OrderLine")
    OrderLine.objects.filter(order__fulfilled_at__isnull=False).update(
        fulfilled_at=Subquery(Order.objects.filter(pk=OuterRef("order_id")).values("fulfilled_at")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("shopapp", "0006_order_days"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="marketing_updated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="orderline",
            name="requires_shipping",
            field=models.BooleanField(default=True, help_text="false for digital goods and services"),
        ),
        migrations.AddField(
            model_name="orderline",
            name="fulfilled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
