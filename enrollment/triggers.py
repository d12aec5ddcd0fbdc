"""The dashboard summary's marks and the enrollment's copies of its birth on the embedded SQLite (PostgreSQL's
are made by migrations 0012, 0015, 0016, 0019 and 0020).

SQLite alters a table by building a new one and renaming it: that drops the table's own triggers, and a
trigger of another table naming it makes the rename fail. So the row-level triggers are dropped before
every ``migrate`` and made again after it, whatever later migrations change."""

MARK = "INSERT INTO enrollment_birthsummarymark (desa)"
COPIES = ("desa_code", "birth_date", "live", "facility_id", "attending_midwife_id")
COPY = f"""UPDATE enrollment_enrollment SET ({", ".join(COPIES)}) = (
    SELECT desa_id, birth_date, voided_at IS NULL, facility_id, attending_midwife_id
    FROM newborns_newborn WHERE id = enrollment_enrollment.newborn_id)"""
SQLITE = {
    "birth_summary_newborn_insert": f"AFTER INSERT ON newborns_newborn BEGIN {MARK} VALUES (NEW.desa_id); END",
    "birth_summary_newborn_update": f"""AFTER UPDATE ON newborns_newborn BEGIN
        {MARK} VALUES (NEW.desa_id);
        {MARK} SELECT OLD.desa_id WHERE OLD.desa_id <> NEW.desa_id;
    END""",
    "birth_summary_newborn_delete": f"AFTER DELETE ON newborns_newborn BEGIN {MARK} VALUES (OLD.desa_id); END",
    **{
        f"birth_summary_enrollment_{event.lower()}": f"""AFTER {event} ON enrollment_enrollment BEGIN
            {MARK} SELECT desa_id FROM newborns_newborn WHERE id = {row}.newborn_id;
        END"""
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
    },
    # What the dashboard shows of reminders (migration 0015 on PostgreSQL).
    **{
        f"birth_summary_reminder_{event.lower()}": f"""AFTER {event} ON enrollment_remindermessage BEGIN
            {MARK} SELECT desa_id FROM newborns_newborn WHERE id = {row}.newborn_id;
        END"""
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
    },
    "birth_summary_mother_update": f"""AFTER UPDATE ON newborns_mother BEGIN
        {MARK} SELECT desa_id FROM newborns_newborn WHERE mother_id = NEW.id;
    END""",
    # Names shown by cached pages (migration 0020 on PostgreSQL): one pending mark of no desa is enough.
    **{
        f"birth_summary_names_{table}_{event.lower()}": f"""AFTER {event} ON {table}
            WHEN NOT EXISTS (SELECT 1 FROM enrollment_birthsummarymark WHERE desa = '' AND claim IS NULL)
            BEGIN {MARK} VALUES (''); END"""
        for table in ("sejagad_region", "sejagad_facility")
        for event in ("INSERT", "UPDATE", "DELETE")
    },
    # Enrollment's copies (desa_code, birth_date, live, facility, attending_midwife) follow the birth record,
    # whoever wrote either row.
    "enrollment_copy_birth_insert": f"AFTER INSERT ON enrollment_enrollment BEGIN {COPY} WHERE id = NEW.id; END",
    "enrollment_copy_birth_update": f"""AFTER UPDATE OF newborn_id, {", ".join(COPIES)} ON enrollment_enrollment
        WHEN {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in ("newborn_id", *COPIES))}
        BEGIN {COPY} WHERE id = NEW.id; END""",
    "enrollment_copy_birth_newborn": f"""AFTER UPDATE OF desa_id, birth_date, voided_at, facility_id,
        attending_midwife_id ON newborns_newborn BEGIN {COPY} WHERE newborn_id = NEW.id; END""",
}


def _sqlite(using: str):
    from django.db import connections

    connection = connections[using]
    return connection if connection.vendor == "sqlite" else None


def drop_sqlite_triggers(sender, using="default", **kwargs) -> None:
    if connection := _sqlite(using):
        with connection.cursor() as cursor:
            for name in SQLITE:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def create_sqlite_triggers(sender, using="default", **kwargs) -> None:
    if (connection := _sqlite(using)) and "enrollment_birthsummarymark" in connection.introspection.table_names():
        drop_sqlite_triggers(sender, using)
        with connection.cursor() as cursor:
            for name, body in SQLITE.items():
                cursor.execute(f"CREATE TRIGGER {name} {body}")
