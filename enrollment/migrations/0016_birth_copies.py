import django.db.models.functions.text
from django.db import migrations, models

# Enrollment keeps copies of its birth record's desa, birth date and "not voided" (the lists filter and sort on
# the enrollment table alone). The database keeps them, whatever wrote (form, API, import, admin, a raw UPDATE):
# - a birth record updated: its enrollment follows, in one statement (transition table);
# - enrollments inserted: those whose copies differ from their births are put right, in one statement;
# - an enrollment's copies written by anyone else (a stale instance saved, a raw UPDATE): read again from the
#   birth before the row is stored.
# SQLite's row-level triggers are made after every migrate (enrollment.triggers), as the summary's marks are.
COPIES = "(e.desa_code, e.birth_date, e.live)"
BIRTH = "(n.desa_id, n.birth_date, n.voided_at IS NULL)"
POSTGRESQL = [
    f"""
    CREATE FUNCTION enrollment_copy_births() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME = 'enrollment_enrollment' THEN
        UPDATE enrollment_enrollment e SET (desa_code, birth_date, live) = {BIRTH}
        FROM new_rows r JOIN newborns_newborn n ON n.id = r.newborn_id
        WHERE e.id = r.id AND {COPIES} IS DISTINCT FROM {BIRTH};
      ELSE
        UPDATE enrollment_enrollment e SET (desa_code, birth_date, live) = {BIRTH}
        FROM new_rows n WHERE e.newborn_id = n.id AND {COPIES} IS DISTINCT FROM {BIRTH};
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION enrollment_copy_birth() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      SELECT n.desa_id, n.birth_date, n.voided_at IS NULL INTO NEW.desa_code, NEW.birth_date, NEW.live
      FROM newborns_newborn n WHERE n.id = NEW.newborn_id;
      RETURN NEW;
    END $$
    """,
    """CREATE TRIGGER enrollment_copy_births_insert AFTER INSERT ON enrollment_enrollment
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION enrollment_copy_births()""",
    """CREATE TRIGGER enrollment_copy_births_update AFTER UPDATE ON newborns_newborn
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION enrollment_copy_births()""",
    """CREATE TRIGGER enrollment_copy_birth BEFORE UPDATE OF newborn_id, desa_code, birth_date, live
    ON enrollment_enrollment FOR EACH ROW
    WHEN ((NEW.newborn_id, NEW.desa_code, NEW.birth_date, NEW.live)
          IS DISTINCT FROM (OLD.newborn_id, OLD.desa_code, OLD.birth_date, OLD.live))
    EXECUTE FUNCTION enrollment_copy_birth()""",
]
# The summary's marks (migration 0012) read an updated or deleted enrollment's desa from its own copy, not by
# joining the births: the daily job's UPDATE of 87,500 rows no longer reads 87,500 birth records to mark them.
# The same function marks reminders (migration 0015), and inserted enrollments, whose copies may not be set
# yet: those still join.
MARK_ENROLLMENTS = """
    CREATE OR REPLACE FUNCTION enrollment_mark_enrollment_desas() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF {own} AND TG_OP = 'UPDATE' THEN
        INSERT INTO enrollment_birthsummarymark (desa) SELECT DISTINCT desa_code FROM new_rows;
      ELSIF {own} AND TG_OP = 'DELETE' THEN
        INSERT INTO enrollment_birthsummarymark (desa) SELECT DISTINCT desa_code FROM old_rows;
      ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO enrollment_birthsummarymark (desa)
        SELECT DISTINCT n.desa_id FROM old_rows e JOIN newborns_newborn n ON n.id = e.newborn_id;
      ELSE
        INSERT INTO enrollment_birthsummarymark (desa)
        SELECT DISTINCT n.desa_id FROM new_rows e JOIN newborns_newborn n ON n.id = e.newborn_id;
      END IF;
      RETURN NULL;
    END $$
"""
POSTGRESQL.append(MARK_ENROLLMENTS.format(own="TG_TABLE_NAME = 'enrollment_enrollment'"))
DROP = [
    MARK_ENROLLMENTS.format(own="false"),  # as migration 0012 made it
    "DROP FUNCTION enrollment_copy_births() CASCADE",
    "DROP FUNCTION enrollment_copy_birth() CASCADE",
]


def copy_births(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"UPDATE enrollment_enrollment e SET (desa_code, birth_date, live) = {BIRTH}"
            " FROM newborns_newborn n WHERE n.id = e.newborn_id"
        )
        for sql in POSTGRESQL:
            schema_editor.execute(sql)
    else:
        schema_editor.execute(
            "UPDATE enrollment_enrollment SET (desa_code, birth_date, live) = (SELECT desa_id, birth_date,"
            " voided_at IS NULL FROM newborns_newborn WHERE id = enrollment_enrollment.newborn_id)"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0015_summary_marks_for_reminders"),
        ("newborns", "0009_newborn_kabupaten"),
    ]

    operations = [
        migrations.AddField(
            model_name="enrollment",
            name="desa_code",
            field=models.CharField(default="", editable=False, max_length=13, verbose_name="desa/kelurahan"),
        ),
        migrations.AddField(
            model_name="enrollment",
            name="birth_date",
            field=models.DateField(editable=False, null=True, verbose_name="tanggal lahir"),
        ),
        migrations.AddField(
            model_name="enrollment",
            name="live",
            field=models.BooleanField(default=True, editable=False, verbose_name="tidak dibatalkan"),
        ),
        migrations.RunPython(copy_births, drop_triggers, elidable=False),
        migrations.AddField(
            model_name="enrollment",
            name="kabupaten",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Substr("desa_code", 1, 5),
                output_field=models.CharField(max_length=5),
                verbose_name="kabupaten/kota",
            ),
        ),
        migrations.AddIndex(
            model_name="enrollment",
            index=models.Index(fields=["kabupaten", "priority", "due_on", "newborn"], name="enrollment_area_order"),
        ),
    ]
