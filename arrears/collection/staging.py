"""Plain tuples into a temporary table, so a batch is joined in SQL instead of bound as id lists.

A month-start run queues ~80,000 messages at 100,000 units: binding their keys, owners and units
as `IN` lists cost seconds of quoting alone and the plans were poor. The batch goes into a
temporary table instead (COPY on PostgreSQL, executemany on SQLite), and the queries join it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import date, datetime

from django.db import connection

# Column types by name: (PostgreSQL, SQLite). SQLite stores dates and datetimes as Django does, as text.
TYPES = {
    "int": ("bigint", "integer"),
    "text": ("text", "text"),
    "date": ("date", "text"),
    "datetime": ("timestamptz", "text"),
}


def _sqlite_value(value):
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


@contextmanager
def staged(name: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence]):
    """A temporary table `name` holding `rows`, for the duration of the block; yields its quoted name.

    Rows are plain values: ints, strings, dates, aware datetimes. On PostgreSQL the table is made
    once per connection and emptied after each block: dropping and re-creating it took new locks
    that a long transaction holds to its end, and a few hundred batches in one transaction ran out
    of the server's lock table. SQLite drops it at the end of the block.
    """
    quote = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"
    table = f"pg_temp.{quote(name)}" if postgres else f"temp.{quote(name)}"
    definition = ", ".join(f"{quote(column)} {TYPES[kind][0 if postgres else 1]}" for column, kind in columns)
    names = ", ".join(quote(column) for column, _kind in columns)
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote(name)} ({definition})")
            cursor.execute(f"TRUNCATE {table}")
        else:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE TEMPORARY TABLE {quote(name)} ({definition})")
        if postgres:
            with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"ANALYZE {table}")  # a temporary table has no statistics until analysed
        else:
            marks = ", ".join("%s" for _ in columns)
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})",
                               [tuple(_sqlite_value(value) for value in row) for row in rows])
    yield table
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}" if postgres else f"DROP TABLE IF EXISTS {table}")
