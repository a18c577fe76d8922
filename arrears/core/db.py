"""Database functions that must give the same integer on SQLite and PostgreSQL."""

from django.db.models import Func, IntegerField


class DaysBetween(Func):
    """Whole days from `start` to `end` (end − start), as an integer on every backend."""

    output_field = IntegerField()
    arity = 2

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra_context):  # PostgreSQL: date − date is int
        return super().as_sql(
            compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra_context
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(ROUND(julianday(%(expressions)s)) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def bulk_set(objects, field_names: list[str]) -> int:
    """Write the named fields of many saved objects with one executemany of a plain UPDATE.

    `QuerySet.bulk_update` builds one CASE WHEN per field over every id: for the thousands of
    rows a daily batch touches that costs seconds in SQL compilation alone. Names come from
    `_meta`; values are prepared by each field and bound, never formatted into the SQL.
    """
    objects = list(objects)
    if not objects:
        return 0
    from django.db import connection

    meta = objects[0]._meta
    fields = [meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        return _bulk_set_unnest(connection, meta, fields, objects)
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    rows = [
        (*(field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields), obj.pk)
        for obj in sorted(objects, key=lambda o: o.pk)
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return len(rows)


def _bulk_set_unnest(connection, meta, fields, objects) -> int:
    """PostgreSQL: one UPDATE … FROM unnest(arrays), a column of values per field, bound as arrays.

    Thousands of single-row UPDATEs cost a round trip each even pipelined; one statement joining
    typed arrays costs one. The values are the model's Python values, which psycopg adapts.
    """
    quote = connection.ops.quote_name
    pk = meta.pk
    columns = [pk, *fields]
    names = ", ".join(f"c{i}" for i in range(len(columns)))
    arrays = ", ".join(f"%s::{column.db_type(connection)}[]" for column in columns)
    assignments = ", ".join(f"{quote(field.column)} = v.c{i + 1}" for i, field in enumerate(fields))
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} FROM unnest({arrays}) AS v({names}) "
        f"WHERE t.{quote(pk.column)} = v.c0"
    )
    values = [[getattr(obj, column.attname) for obj in objects] for column in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
    return len(objects)
