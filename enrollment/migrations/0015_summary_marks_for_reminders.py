from django.db import migrations

# The dashboard's cached figures also show the families reached by reminders (issue 13): a reminder sent or
# a mother's number and consent changed marks the baby's desa too, so the summary gets a new version and no
# cached figure outlives a write (enrollment.summary). PostgreSQL only; SQLite's are in enrollment.triggers.
MOTHER = """
CREATE FUNCTION enrollment_mark_mother_desas() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO enrollment_birthsummarymark (desa)
  SELECT DISTINCT n.desa_id FROM new_rows m JOIN newborns_newborn n ON n.mother_id = m.id;
  RETURN NULL;
END $$
"""
TRIGGERS = [
    MOTHER,
    """CREATE TRIGGER birth_summary_update AFTER UPDATE ON newborns_mother
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_mark_mother_desas()""",
] + [
    f"""CREATE TRIGGER birth_summary_{event.lower()} AFTER {event} ON enrollment_remindermessage REFERENCING {rows}
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_mark_enrollment_desas()"""
    for event, rows in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    )
]
DROP = [
    "DROP FUNCTION enrollment_mark_mother_desas() CASCADE",
    *(f"DROP TRIGGER birth_summary_{event} ON enrollment_remindermessage" for event in ("insert", "update", "delete")),
]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in TRIGGERS:
            schema_editor.execute(sql)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0014_seed_reminder_steps"),
        ("newborns", "0008_satusehat_merge"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
