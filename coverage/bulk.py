"""Set-based writes shared by imports and the roll-up: rows go into a temporary staging table, then one
``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` writes only the rows that differ.

PostgreSQL fills the staging table with ``COPY`` (about a million rows a second); other databases (SQLite on
the embedded default) with ``executemany`` in batches. Everything after the staging load is the same SQL.
Call inside a transaction: the staging table lives as long as it.
"""

import io
from collections.abc import Iterator, Sequence

import numpy as np
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
            for text in csv_chunks(frame[names]):
                copy.write(text)
    else:
        placeholders = ", ".join(["%s"] * len(names))
        sql = f"INSERT INTO {name} ({', '.join(names)}) VALUES ({placeholders})"
        values = frame[names].astype(object).where(frame[names].notna(), None)
        for start in range(0, len(values), BATCH_SIZE):
            cursor.executemany(sql, values.iloc[start : start + BATCH_SIZE].itertuples(index=False, name=None))


def csv_chunks(frame: pd.DataFrame) -> Iterator[str]:
    """The frame as CSV text (no header; an empty cell is NULL), in chunks of ``COPY_CHUNK_ROWS``.

    Categorical and integer columns (what an import stages) are formatted once per distinct text and
    joined, faster than ``to_csv``; other frames go through ``to_csv``."""
    if not all(isinstance(t, pd.CategoricalDtype) or pd.api.types.is_integer_dtype(t) for t in frame.dtypes):
        for start in range(0, len(frame), COPY_CHUNK_ROWS):
            buffer = io.StringIO()
            frame.iloc[start : start + COPY_CHUNK_ROWS].to_csv(buffer, index=False, header=False)
            yield buffer.getvalue()
        return
    columns = [frame.iloc[:, i] for i in range(frame.shape[1])]
    # A category's text is quoted once, not once per row; code -1 (missing) takes the last entry: NULL.
    texts = [
        np.array([_csv_quote(str(t)) for t in c.cat.categories] + [""], dtype=object)
        if isinstance(c.dtype, pd.CategoricalDtype)
        else None
        for c in columns
    ]
    for start in range(0, len(frame), COPY_CHUNK_ROWS):
        cells = [
            _integer_texts(c.iloc[start : start + COPY_CHUNK_ROWS])
            if t is None
            else t[c.cat.codes.to_numpy()[start : start + COPY_CHUNK_ROWS]].tolist()
            for c, t in zip(columns, texts, strict=True)
        ]
        yield "\n".join(map(",".join, zip(*cells, strict=True))) + "\n"


def _integer_texts(values: pd.Series) -> list[str]:
    texts = list(map(str, values.to_numpy(dtype="int64", na_value=0).tolist()))
    for position in np.flatnonzero(values.isna().to_numpy()).tolist():
        texts[position] = ""
    return texts


def _csv_quote(text: str) -> str:
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


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
