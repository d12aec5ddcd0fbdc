"""Set-based writes shared by imports and the roll-up: rows go into a temporary staging table, then one
``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` writes only the rows that differ.

PostgreSQL fills the staging table with ``COPY`` (about a million rows a second); other databases (SQLite on
the embedded default) with ``executemany`` in batches. Everything after the staging load is the same SQL.
Call inside a transaction: the staging table lives as long as it.
"""

import io
from collections.abc import Sequence

import pandas as pd
from django.db import connection

BATCH_SIZE = 5000
COPY_CHUNK_ROWS = 100_000


def _use_copy() -> bool:
    return connection.vendor == "postgresql"


def _distinct(left: str, right: str) -> str:
    # The null-safe inequality; SQLite spells it IS NOT.
    return f"{left} IS DISTINCT FROM {right}" if connection.vendor == "postgresql" else f"{left} IS NOT {right}"


def stage(cursor, name: str, columns: Sequence[tuple[str, str]], frame: pd.DataFrame) -> None:
    """Create the temporary table ``name`` (column, SQL type) and load the frame's rows into it."""
    names = [c for c, _ in columns]
    definition = ", ".join(f"{c} {sql_type}" for c, sql_type in columns)
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    # On PostgreSQL the table goes at commit even if an error skips the explicit drop.
    on_commit = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
    cursor.execute(f"CREATE TEMP TABLE {name} ({definition}){on_commit}")
    if _use_copy():
        with cursor.copy(f"COPY {name} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)") as copy:
            for start in range(0, len(frame), COPY_CHUNK_ROWS):
                buffer = io.StringIO()
                frame.iloc[start : start + COPY_CHUNK_ROWS][names].to_csv(buffer, index=False, header=False)
                copy.write(buffer.getvalue())
    else:
        placeholders = ", ".join(["%s"] * len(names))
        sql = f"INSERT INTO {name} ({', '.join(names)}) VALUES ({placeholders})"
        values = frame[names].astype(object).where(frame[names].notna(), None)
        for start in range(0, len(values), BATCH_SIZE):
            cursor.executemany(sql, values.iloc[start : start + BATCH_SIZE].itertuples(index=False, name=None))


def drop(cursor, name: str) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {name}")


def upsert_from_stage(
    cursor,
    *,
    table: str,
    staging: str,
    key: Sequence[str],
    columns: Sequence[str],
    stamp: tuple[str, object] | None = None,
    expressions: dict[str, str] | None = None,
) -> int:
    """Insert new keys and update rows whose values differ; rows already equal are not touched.

    ``stamp`` is (column, value) written on every inserted or updated row (updated_at, computed_at);
    ``expressions`` maps a column to the SQL that reads it from staging (e.g. a COALESCE).
    """
    expressions = expressions or {}
    target = list(key) + list(columns)
    select = [expressions.get(c, c) for c in target]
    params = []
    if stamp:
        target.append(stamp[0])
        select.append("%s")
        params.append(connection.ops.adapt_datetimefield_value(stamp[1]))
    updates = [f"{c} = excluded.{c}" for c in columns] + ([f"{stamp[0]} = excluded.{stamp[0]}"] if stamp else [])
    differs = " OR ".join(_distinct(f"{table}.{c}", f"excluded.{c}") for c in columns)
    # "WHERE 1 = 1" lets SQLite tell the SELECT's end from the ON CONFLICT clause.
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(target)}) SELECT {', '.join(select)} FROM {staging} WHERE 1 = 1 "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(updates)} WHERE {differs}",
        params,
    )
    return max(cursor.rowcount, 0)


def delete_missing_from_stage(cursor, *, table: str, staging: str, key: Sequence[str], periods: Sequence[str]) -> int:
    """Delete the rows of these periods whose key is no longer in staging."""
    if not periods:
        return 0
    match = " AND ".join(f"s.{c} = {table}.{c}" for c in key)
    placeholders = ", ".join(["%s"] * len(periods))
    cursor.execute(
        f"DELETE FROM {table} WHERE period IN ({placeholders}) "
        f"AND NOT EXISTS (SELECT 1 FROM {staging} s WHERE {match})",
        list(periods),
    )
    return max(cursor.rowcount, 0)
