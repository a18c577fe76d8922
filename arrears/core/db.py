"""Database helpers: functions that give the same integer on SQLite and PostgreSQL, bulk writes,
and the triggers that keep evidence append-only."""

from dataclasses import dataclass

from django.db.migrations.operations.base import Operation
from django.db.models import Func, IntegerField, QuerySet

from arrears.core.errors import DomainError


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
    typed arrays costs one. The values are each field's prepared Python values, which psycopg adapts.
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
    # Each field prepares its values as the ORM would (a KeyField its normal form); psycopg adapts them.
    values = [[column.get_prep_value(getattr(obj, column.attname)) for obj in objects] for column in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
    return len(objects)


def bulk_insert(model, field_names: list[str], rows, *, ignore_conflicts: bool = False) -> int:
    """Insert plain tuples (values of `field_names`, in order) with one statement; no model objects.

    The fields not named take their model default (a blank string, NULL, `default=`), as
    `Model()` would give them. PostgreSQL: one INSERT … SELECT FROM unnest(typed arrays), in the
    rows' order (so ids follow it, as `bulk_create`'s do); SQLite: one executemany. With
    `ignore_conflicts` a row that breaks a unique constraint is skipped. Returns the rows inserted.
    """
    rows = list(rows)
    if not rows:
        return 0
    from django.db import connection
    from django.utils import timezone

    meta = model._meta
    named = [meta.get_field(name) for name in field_names]
    others = [f for f in meta.concrete_fields if f not in named and not f.primary_key]
    now = timezone.now()
    constants = [now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
                 for f in others]
    fields = named + others
    quote = connection.ops.quote_name
    table, columns = quote(meta.db_table), ", ".join(quote(f.column) for f in fields)
    if connection.vendor == "postgresql":
        names = ", ".join(f"c{i}" for i in range(len(fields)))
        arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
        values = [[f.get_prep_value(row[i]) for row in rows] for i, f in enumerate(named)]
        values += [[f.get_prep_value(value)] * len(rows) for f, value in zip(others, constants, strict=True)]
        sql = f"INSERT INTO {table} ({columns}) SELECT {names} FROM unnest({arrays}) WITH ORDINALITY AS v({names}, n) ORDER BY n"
        if ignore_conflicts:
            sql += " ON CONFLICT DO NOTHING"
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            return cursor.rowcount
    fixed = tuple(f.get_db_prep_save(value, connection) for f, value in zip(others, constants, strict=True))
    prepared = [(*(f.get_db_prep_save(row[i], connection) for i, f in enumerate(named)), *fixed) for row in rows]
    verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
    sql = f"{verb} INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepared)
        return cursor.rowcount


# ----------------------------------------------------------------------------- append-only evidence
#
# Evidence (contact attempts, letters and their deliveries, limitation events, sent messages,
# audit events) is never edited once written: a correction is a new row that points at the
# original. The ORM refuses it first (`EvidenceQuerySet`, `refuse_delete`); the database refuses
# it again, for any client, with a trigger per table built here from an explicit column list.


@dataclass(frozen=True)
class Frozen:
    """Columns of one table that no UPDATE may change once the row is written.

    `when` is a condition on the old row (SQL, the same on SQLite and PostgreSQL, e.g.
    ``OLD.body_sha256 <> ''``): the columns freeze once it holds. `name` tells apart two
    groups on one table. `refuse_delete` adds a DELETE trigger on PostgreSQL only: SQLite test
    databases are flushed with DELETE (PostgreSQL's with TRUNCATE, which fires no DELETE
    trigger), so on SQLite the ORM's refusal is the guard against deletes.
    """

    table: str
    columns: tuple[str, ...]
    name: str = "append_only"
    when: str = ""
    refuse_delete: bool = False

    def deconstruct(self):
        """So that the migration writer can copy a group into a migration (squashing, for one)."""
        kwargs = {name: getattr(self, name) for name, default in (("name", "append_only"), ("when", ""),
                                                                   ("refuse_delete", False)) if getattr(self, name) != default}
        return "arrears.core.db.Frozen", (self.table, tuple(self.columns)), kwargs

    @property
    def trigger(self) -> str:
        return f"{self.table}_{self.name}"

    @property
    def message(self) -> str:
        return (f"append-only evidence: {self.table} is never changed, record a correction instead"
                f" (证据只增不改：{self.table} 不可修改，请登记更正)")

    @property
    def delete_message(self) -> str:
        return (f"append-only evidence: {self.table} is never deleted, record a correction instead"
                f" (证据只增不改：{self.table} 不可删除，请登记更正)")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _changed(columns) -> str:
    return " OR ".join(f"OLD.{_q(c)} IS DISTINCT FROM NEW.{_q(c)}" for c in columns)


def plpgsql_body(frozen: Frozen) -> str:
    """The PostgreSQL trigger function's body (also what a test compares with the installed one)."""
    condition = f"({_changed(frozen.columns)})"
    if frozen.when:
        condition = f"({frozen.when}) AND {condition}"
    return (f"\nBEGIN\n  IF {condition} THEN\n"
            f"    RAISE EXCEPTION '{frozen.message}' USING ERRCODE = 'integrity_constraint_violation';\n"
            f"  END IF;\n  RETURN NEW;\nEND;\n")


def sqlite_trigger(frozen: Frozen) -> str:
    """The SQLite trigger, exactly as `sqlite_master.sql` keeps it."""
    changed = " OR ".join(f"OLD.{_q(c)} IS NOT NEW.{_q(c)}" for c in frozen.columns)
    condition = f"({frozen.when}) AND ({changed})" if frozen.when else changed
    columns = ", ".join(_q(c) for c in frozen.columns)
    return (f"CREATE TRIGGER {_q(frozen.trigger)} BEFORE UPDATE OF {columns} ON {_q(frozen.table)} "
            f"FOR EACH ROW WHEN {condition} BEGIN SELECT RAISE(ABORT, '{frozen.message}'); END")


def create_trigger_sql(vendor: str, frozen: Frozen) -> list[str]:
    """Statements that install the refusal of UPDATE (and DELETE, on PostgreSQL) for one group."""
    if vendor == "sqlite":
        return [sqlite_trigger(frozen)]
    if vendor != "postgresql":
        raise NotImplementedError(f"append-only triggers are written for SQLite and PostgreSQL, not {vendor}")
    function = _q(f"{frozen.trigger}_fn")
    statements = [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $body${plpgsql_body(frozen)}$body$",
        f"CREATE TRIGGER {_q(frozen.trigger)} BEFORE UPDATE ON {_q(frozen.table)} FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]
    if frozen.refuse_delete:
        deleting = _q(f"{frozen.table}_no_delete")
        statements += [
            f"CREATE OR REPLACE FUNCTION {_q(f'{frozen.table}_no_delete_fn')}() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
            f"BEGIN\n  RAISE EXCEPTION '{frozen.delete_message}' USING ERRCODE = 'integrity_constraint_violation';\nEND;\n$body$",
            f"CREATE TRIGGER {deleting} BEFORE DELETE ON {_q(frozen.table)} FOR EACH ROW "
            f"EXECUTE FUNCTION {_q(f'{frozen.table}_no_delete_fn')}()",
        ]
    return statements


def drop_trigger_sql(vendor: str, frozen: Frozen) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {_q(frozen.trigger)}"]
    statements = [
        f"DROP TRIGGER IF EXISTS {_q(frozen.trigger)} ON {_q(frozen.table)}",
        f"DROP FUNCTION IF EXISTS {_q(f'{frozen.trigger}_fn')}()",
    ]
    if frozen.refuse_delete:
        statements += [
            f"DROP TRIGGER IF EXISTS {_q(f'{frozen.table}_no_delete')} ON {_q(frozen.table)}",
            f"DROP FUNCTION IF EXISTS {_q(f'{frozen.table}_no_delete_fn')}()",
        ]
    return statements


class FreezeColumns(Operation):
    """Migration operation: (re)install the append-only trigger of one group, for the database at hand.

    Forward drops the trigger and creates it from `frozen`; backward drops it and recreates
    `previous` when the migration extended an earlier list. Migrations copy the column list
    into their own file: a later change to the live list needs a migration of its own.
    """

    reduces_to_sql = False
    reversible = True

    def __init__(self, frozen: Frozen, previous: Frozen | None = None):
        self.frozen, self.previous = frozen, previous

    def deconstruct(self):
        kwargs = {"frozen": self.frozen}
        if self.previous is not None:
            kwargs["previous"] = self.previous
        return self.__class__.__qualname__, [], kwargs

    def state_forwards(self, app_label, state):
        pass

    def _run(self, schema_editor, drop: Frozen, create: Frozen | None) -> None:
        vendor = schema_editor.connection.vendor
        for statement in drop_trigger_sql(vendor, drop):
            schema_editor.execute(statement, params=None)
        if create is not None:
            for statement in create_trigger_sql(vendor, create):
                schema_editor.execute(statement, params=None)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._run(schema_editor, self.previous or self.frozen, self.frozen)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._run(schema_editor, self.frozen, self.previous)

    def describe(self):
        return f"Refuse changes to {', '.join(self.frozen.columns)} of {self.frozen.table}"


def frozen_fields(model) -> frozenset[str]:
    """Field names (and attnames) of `model` whose columns are frozen from the moment of insert.

    The model names its groups in `frozen_groups`; a group with a `when` freezes later and is left
    to the database.
    """
    columns = {column for group in getattr(model, "frozen_groups", ()) if not group.when for column in group.columns}
    return frozenset(name for field in model._meta.concrete_fields if field.column in columns
                     for name in (field.name, field.attname))


def _refusal(model, what_zh: str, what_en: str) -> DomainError:
    return DomainError(f"{model._meta.verbose_name}是证据，只增不改：{what_zh}，请登记更正",
                       f"{model._meta.model_name} is append-only evidence: {what_en}; record a correction instead",
                       code="append_only")


def refuse_delete(self, *args, **kwargs):
    """`Model.delete` of an evidence model: never."""
    raise _refusal(type(self), "不能删除", "it is never deleted")


class EvidenceQuerySet(QuerySet):
    """The ORM's first refusal: no delete, no update of a frozen field (the database refuses again)."""

    def delete(self):
        raise _refusal(self.model, "不能删除", "it is never deleted")

    delete.queryset_only = True

    def update(self, **kwargs):
        touched = sorted(set(kwargs) & frozen_fields(self.model))
        if touched:
            raise _refusal(self.model, f"{'、'.join(touched)} 不能修改", f"{', '.join(touched)} cannot be changed")
        return super().update(**kwargs)
