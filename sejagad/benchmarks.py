"""Shared pieces of ``make bench`` and ``make loadtest`` (PostgreSQL only, never the test suite).

Printing a figure (``out`` is anything with ``write(str)``: a command's ``self.stdout``, ``sys.stdout``):

    report_ratio(out, label, value, *, against, against_value, goal=None, unit="s", higher_is_better=False) -> float
        label: 3.41 s | comparison (indexed UPDATE floor): 2.90 s | ratio 1.18x (goal <= 1.5x) OK
        The ratio is value / against_value; with higher_is_better (rows/s) the goal reads ">=".
    report_goal(out, label, value, *, goal, unit="s", higher_is_better=False) -> bool
        label: 0.04 s (goal <= 0.2 s) OK

The database (Django's default connection):

    claim_database(owner="bench") -> None
        Refuses (CommandError) a database holding data that is not ``owner``'s; an empty one becomes its own.
    reset_database() -> None
        Empties every table but the reference data that migrations and load_regions write.
    generate_newborns(n, desa_prefix="73.22.") -> None
        Empties the newborn and enrollment tables and writes ``n`` mothers and babies in SQL.
"""

from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.translation import gettext as _

MARKER_TABLE = "sejagad_benchmark_owner"


def _format(value: float, unit: str) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.1f} {unit}" if abs(value) >= 10 else f"{value:.2f} {unit}"


def _verdict(figure: float, goal: float, higher_is_better: bool) -> tuple[str, str]:
    met = figure >= goal if higher_is_better else figure <= goal
    return (">=" if higher_is_better else "<="), ("OK" if met else "MISSED")


def report_ratio(
    out,
    label: str,
    value: float,
    *,
    against: str,
    against_value: float,
    goal: float | None = None,
    unit: str = "s",
    higher_is_better: bool = False,
) -> float:
    """Print a figure beside the comparison measured in the same run, with their ratio; returns the ratio."""
    ratio = value / against_value if against_value else float("inf")
    line = (
        f"{label}: {_format(value, unit)} | comparison ({against}): {_format(against_value, unit)} | ratio {ratio:.2f}x"
    )
    if goal is not None:
        sign, verdict = _verdict(ratio, goal, higher_is_better)
        line += f" (goal {sign} {goal:g}x) {verdict}"
    out.write(line + "\n")
    return ratio


def report_goal(out, label: str, value: float, *, goal: float, unit: str = "s", higher_is_better: bool = False) -> bool:
    """Print a figure against an absolute goal; returns whether the goal is met."""
    sign, verdict = _verdict(value, goal, higher_is_better)
    out.write(f"{label}: {_format(value, unit)} (goal {sign} {_format(goal, unit)}) {verdict}\n")
    return verdict == "OK"


def _reference_tables() -> set[str]:
    """What a bare ``migrate`` (and load_regions) writes: not data anyone would miss."""
    return {
        MigrationRecorder.Migration._meta.db_table,
        ContentType._meta.db_table,
        Permission._meta.db_table,
        apps.get_model("sejagad", "Region")._meta.db_table,
        apps.get_model("coverage", "UhcCriterion")._meta.db_table,
        apps.get_model("enrollment", "ReminderStep")._meta.db_table,  # the default reminder schedule
        apps.get_model("enrollment", "BirthSummaryMark")._meta.db_table,  # regions loaded: a new summary version
        MARKER_TABLE,
    }


def _tables(cursor) -> list[str]:
    return [t.name for t in connection.introspection.get_table_list(cursor) if t.type == "t"]


def claim_database(owner: str = "bench") -> None:
    """A database is the benchmark's when it carries ``owner``'s marker, or when it holds no data yet (then it
    is marked): the benchmark empties tables, so anybody else's data is refused before anything is touched."""
    with connection.cursor() as cursor:
        tables = _tables(cursor)
        if MARKER_TABLE in tables:
            cursor.execute(f"SELECT 1 FROM {MARKER_TABLE} WHERE owner = %s", [owner])
            if cursor.fetchone():
                return
        reference = _reference_tables()
        filled = []
        for table in sorted(set(tables) - reference):
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)})")
            if cursor.fetchone()[0]:
                filled.append(table)
        if filled:
            raise CommandError(
                _(
                    "Basis data %(name)s sudah berisi data (%(tables)s) dan bukan milik %(owner)s, yang mengosongkan "
                    "tabel yang dipakainya. Pakai basis data baru atau kosong (dibuat otomatis bila belum ada)."
                )
                % {"name": connection.settings_dict["NAME"], "tables": ", ".join(filled[:5]), "owner": owner}
            )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (owner text PRIMARY KEY, claimed_at timestamptz NOT NULL)"
        )
        cursor.execute(f"INSERT INTO {MARKER_TABLE} VALUES (%s, now()) ON CONFLICT DO NOTHING", [owner])


def create_database() -> None:
    """The database named in DATABASE_URL is created on first use, through the server's maintenance database."""
    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")


def reset_database() -> None:
    """Every table but the reference data is emptied, so no figure depends on what an earlier run left
    (users, notices, runs of the daily job)."""
    with connection.cursor() as cursor:
        tables = sorted(set(_tables(cursor)) - _reference_tables())
        if tables:
            names = ", ".join(connection.ops.quote_name(t) for t in tables)
            # Inside a transaction, deferred foreign-key checks still pending would block the TRUNCATE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


def _insert_select(model, values: dict[str, str], source: str, params: list) -> tuple[str, list]:
    """INSERT ... SELECT naming every NOT NULL column: the given SQL expressions, the field defaults for the
    rest, so a field added later does not break the generator."""
    columns, expressions, defaults = [], [], []
    for field in model._meta.concrete_fields:
        if field.column in values:
            columns.append(field.column)
            expressions.append(values[field.column])
        elif not field.null and not field.generated:
            columns.append(field.column)
            expressions.append("%s")
            defaults.append(field.get_db_prep_save(field.get_default(), connection))
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(expressions)} {source}"
    return sql, defaults + params


def generate_newborns(n: int, desa_prefix: str = "73.22.") -> None:
    """Empty the newborn and enrollment tables and fill them with ``n`` mothers and babies born over the past
    400 days, spread evenly over the loaded desa whose code starts with ``desa_prefix`` (all when empty)."""
    Mother, Newborn = apps.get_model("newborns", "Mother"), apps.get_model("newborns", "Newborn")
    Region = apps.get_model("sejagad", "Region")
    tables = [
        m._meta.db_table
        for app in ("enrollment", "newborns")
        for m in apps.get_app_config(app).get_models()
        if m._meta.db_table not in _reference_tables()
    ]
    today = timezone.localdate()
    with connection.cursor() as c:
        c.execute("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE")
        if n == 0:
            return
        # Desa numbered 0..k-1, so row i lives in desa i mod k (a join: an array subscript costs O(k) a row).
        c.execute(
            "CREATE TEMP TABLE bench_desa AS SELECT code, (row_number() OVER (ORDER BY code)) - 1 AS k"
            f" FROM {Region._meta.db_table} WHERE level = 'desa_kelurahan' AND code LIKE %s",
            [desa_prefix + "%"],
        )
        c.execute("CREATE INDEX ON bench_desa (k)")
        c.execute("SELECT count(*) FROM bench_desa")
        (k,) = c.fetchone()
        source = f"FROM generate_series(1, %s) i JOIN bench_desa d ON d.k = i %% {k:d}"
        now = "now()"
        c.execute(
            *_insert_select(
                Mother,
                {
                    "id": "i",
                    "nik": "'732203' || lpad(i::text, 10, '0')",
                    "name": "'IBU ' || i",
                    "desa_id": "d.code",
                    "created_at": now,
                    "updated_at": now,
                },
                source,
                [n],
            )
        )
        c.execute(
            *_insert_select(
                Newborn,
                {
                    "id": "i",
                    "mother_id": "i",
                    "birth_date": f"'{today.isoformat()}'::date - (i %% 400)",
                    "sex": "CASE WHEN i %% 2 = 0 THEN 'L' ELSE 'P' END",
                    "birth_order": "1",
                    "weight_grams": "3000",
                    "desa_id": "d.code",
                    "temporary_name": "'By. Ny. IBU ' || i",
                    "submission_key": "md5(i::text)::uuid",
                    "created_at": now,
                    "updated_at": now,
                },
                source,
                [n],
            )
        )
        for model in (Mother, Newborn):
            # Ids were given: the next row a page or a service writes must not collide with them.
            c.execute(f"SELECT setval(pg_get_serial_sequence('{model._meta.db_table}', 'id'), %s)", [n])
        c.execute("DROP TABLE bench_desa")
        c.execute("ANALYZE")
