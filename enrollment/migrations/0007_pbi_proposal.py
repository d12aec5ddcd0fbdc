import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        # The chain goes through 0006_notification_digest once it lands; until then the latest one.
        ("enrollment", "0006_notification_digest"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PbiProposal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "segment",
                    models.CharField(
                        choices=[("PBI-APBN", "PBI-APBN"), ("PBI-APBD", "PBI-APBD")],
                        max_length=10,
                        verbose_name="segmen",
                    ),
                ),
                ("previous_segment", models.CharField(blank=True, max_length=10)),
                ("period", models.DateField(db_index=True, verbose_name="periode SK")),
                ("proposed_on", models.DateField(verbose_name="tanggal usulan")),
                (
                    "proposed_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="diusulkan pada"),
                ),
                ("cancelled_at", models.DateTimeField(blank=True, null=True, verbose_name="dibatalkan pada")),
                (
                    "cancelled_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="dibatalkan oleh",
                    ),
                ),
                (
                    "enrollment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="pbi_proposals",
                        to="enrollment.enrollment",
                        verbose_name="kepesertaan",
                    ),
                ),
                (
                    "proposed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="diusulkan oleh",
                    ),
                ),
            ],
            options={
                "verbose_name": "usulan PBI",
                "verbose_name_plural": "usulan PBI",
                "ordering": ["-proposed_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("cancelled_at__isnull", True)),
                        fields=("enrollment",),
                        name="one_standing_pbi_proposal",
                    )
                ],
            },
        ),
    ]
