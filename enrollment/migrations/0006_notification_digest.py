import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The daily digest per recipient; notices are no longer e-mailed one by one (the digest is)."""

    dependencies = [
        ("enrollment", "0005_notification_email_claim"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Digest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("counts", models.JSONField(default=list)),
                ("total", models.PositiveIntegerField(default=0)),
                ("region_code", models.CharField(blank=True, max_length=20)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("read_at", models.DateTimeField(blank=True, null=True)),
                ("emailed_at", models.DateTimeField(blank=True, null=True)),
                ("email_claimed_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["-day", "-id"],
            },
        ),
        migrations.RemoveIndex(
            model_name="notification",
            name="notification_unmailed",
        ),
        migrations.RemoveField(
            model_name="notification",
            name="email_claimed_at",
        ),
        migrations.RemoveField(
            model_name="notification",
            name="emailed_at",
        ),
        migrations.AddField(
            model_name="flagrun",
            name="digests",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="digest",
            name="recipient",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="digests", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddIndex(
            model_name="digest",
            index=models.Index(fields=["recipient", "read_at"], name="digest_unread"),
        ),
        migrations.AddIndex(
            model_name="digest",
            index=models.Index(condition=models.Q(("emailed_at__isnull", True)), fields=["id"], name="digest_unmailed"),
        ),
        migrations.AddConstraint(
            model_name="digest",
            constraint=models.UniqueConstraint(fields=("recipient", "day"), name="one_digest_per_day"),
        ),
    ]
