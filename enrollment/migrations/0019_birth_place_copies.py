import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Enrollment also copies its birth's facility and attending midwife (after migration 0016's desa, birth date and
# "not voided"): a bidan's lists and the daily digest's count per recipient read the enrollment table alone.
# The same three triggers keep them, with the longer column list.
OLD = ("desa_code, birth_date, live", "n.desa_id, n.birth_date, n.voided_at IS NULL")
NEW = (
    "desa_code, birth_date, live, facility_id, attending_midwife_id",
    "n.desa_id, n.birth_date, n.voided_at IS NULL, n.facility_id, n.attending_midwife_id",
)


def functions(copies: str, birth: str) -> list[str]:
    """Migration 0016's trigger functions and row trigger, for the given copies and what they copy."""
    new = ", ".join(f"NEW.{column.strip()}" for column in copies.split(","))
    old = new.replace("NEW.", "OLD.")
    return [
        f"""
        CREATE OR REPLACE FUNCTION enrollment_copy_births() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_TABLE_NAME = 'enrollment_enrollment' THEN
            UPDATE enrollment_enrollment e SET ({copies}) = ({birth})
            FROM new_rows r JOIN newborns_newborn n ON n.id = r.newborn_id
            WHERE e.id = r.id AND (e.{copies.replace(", ", ", e.")}) IS DISTINCT FROM ({birth});
          ELSE
            UPDATE enrollment_enrollment e SET ({copies}) = ({birth})
            FROM new_rows n WHERE e.newborn_id = n.id AND (e.{copies.replace(", ", ", e.")}) IS DISTINCT FROM ({birth});
          END IF;
          RETURN NULL;
        END $$
        """,
        f"""
        CREATE OR REPLACE FUNCTION enrollment_copy_birth() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          SELECT {birth} INTO {new} FROM newborns_newborn n WHERE n.id = NEW.newborn_id;
          RETURN NEW;
        END $$
        """,
        "DROP TRIGGER enrollment_copy_birth ON enrollment_enrollment",
        f"""CREATE TRIGGER enrollment_copy_birth BEFORE UPDATE OF newborn_id, {copies}
        ON enrollment_enrollment FOR EACH ROW
        WHEN ((NEW.newborn_id, {new}) IS DISTINCT FROM (OLD.newborn_id, {old}))
        EXECUTE FUNCTION enrollment_copy_birth()""",
    ]


# The digest groups the babies at risk by these columns: told how few groups there are, the planner counts them
# in one hash table instead of sorting millions of rows.
STATISTICS = (
    "CREATE STATISTICS enrollment_digest_groups (ndistinct)"
    " ON status, nik_level, worst_level, desa_code, facility_id, attending_midwife_id FROM enrollment_enrollment"
)


def copy_places(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "UPDATE enrollment_enrollment e SET (facility_id, attending_midwife_id) = (n.facility_id,"
            " n.attending_midwife_id) FROM newborns_newborn n WHERE n.id = e.newborn_id"
            " AND (n.facility_id IS NOT NULL OR n.attending_midwife_id IS NOT NULL)"
        )
        for sql in [*functions(*NEW), STATISTICS]:
            schema_editor.execute(sql)
    else:
        schema_editor.execute(
            "UPDATE enrollment_enrollment SET (facility_id, attending_midwife_id) = (SELECT facility_id,"
            " attending_midwife_id FROM newborns_newborn WHERE id = enrollment_enrollment.newborn_id)"
        )


def drop_copies(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in ["DROP STATISTICS enrollment_digest_groups", *functions(*OLD)]:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0018_summary_levels_per_list"),
        ("sejagad", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="enrollment",
            name="facility",
            field=models.ForeignKey(
                db_constraint=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="sejagad.facility",
                verbose_name="tempat lahir (fasilitas)",
            ),
        ),
        migrations.AddField(
            model_name="enrollment",
            name="attending_midwife",
            field=models.ForeignKey(
                db_constraint=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="bidan penolong",
            ),
        ),
        migrations.RunPython(copy_places, drop_copies, elidable=False),
    ]
