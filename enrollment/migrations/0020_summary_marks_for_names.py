from django.db import migrations

# Cached pages show the names of regions and facilities (the dashboard's rows, the worklist's pickers): any write
# to either table marks the summary with no desa (""), which recounts nothing and makes a new version, so no
# cached page outlives a rename, a new facility or a closed one (enrollment.summary). PostgreSQL only: one mark
# per statement that changed a row, whatever wrote (admin, load_regions, a raw UPDATE); SQLite's are in
# enrollment.triggers.
FUNCTION = """
CREATE FUNCTION enrollment_mark_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO enrollment_birthsummarymark (desa) SELECT '' WHERE EXISTS (SELECT 1 FROM changed);
  RETURN NULL;
END $$
"""
TABLES = ("sejagad_region", "sejagad_facility")
EVENTS = (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        for table in TABLES:
            for event, rows in EVENTS:
                schema_editor.execute(
                    f"CREATE TRIGGER birth_summary_names_{event.lower()} AFTER {event} ON {table}"
                    f" REFERENCING {rows} TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION enrollment_mark_names()"
                )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION enrollment_mark_names() CASCADE")


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0019_birth_place_copies"),
        ("sejagad", "0002_facility_system_role"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
