"""Insert many rows at once: binary COPY on PostgreSQL, bulk_create elsewhere.

Rows are tuples in the order of `columns`; every other column of the model takes the field's
default — for COPY the same value for every row, computed once, so `id` must be a column.
"""

from __future__ import annotations

from typing import Any, Final

from django.db import connection, models

_PG_TYPE_NAMES: Final = {
    "timestamp with time zone": "timestamptz",
    "smallint": "int2",
    "integer": "int4",
    "bigint": "int8",
    "boolean": "bool",
    "double precision": "float8",
}


def bulk_insert(
    model: type[models.Model], columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    fields = {f.attname: f for f in model._meta.concrete_fields}
    unknown = set(columns) - set(fields)
    if unknown:
        raise LookupError(f"{model.__name__} 没有字段 {sorted(unknown)}")
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=2000
        )
        return
    rest = [f for name, f in fields.items() if name not in columns]
    suffix = tuple(f.get_default() for f in rest)
    chosen = [fields[c] for c in columns] + rest
    quote = connection.ops.quote_name
    sql = (
        f"COPY {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in chosen)})"
        " FROM STDIN (FORMAT BINARY)"
    )
    with connection.cursor() as cursor:
        raw: Any = cursor.cursor  # the driver's own cursor (psycopg 3)
        with raw.copy(sql) as copy:
            copy.set_types([_pg_type(f) for f in chosen])
            write = copy.write_row
            if suffix:
                for row in rows:
                    write(row + suffix)
            else:
                for row in rows:
                    write(row)


def _pg_type(f: models.Field[Any, Any]) -> str:
    """The type name psycopg knows for a column ("varchar(24)" → "varchar")."""
    db_type = (f.db_type(connection) or "").split("(")[0].strip()
    return _PG_TYPE_NAMES.get(db_type, db_type)


def bulk_set(model: type[models.Model], columns: tuple[str, ...], objs: list[Any]) -> None:
    """Save `columns` of many loaded rows in one statement: UPDATE … FROM (VALUES …) on
    PostgreSQL (Django's bulk_update builds a CASE per column and row, far slower), bulk_update
    elsewhere."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objs, list(columns), batch_size=500)
        return
    concrete = {f.name: f for f in model._meta.concrete_fields}
    fields = [concrete[c] for c in ("id", *columns)]
    quote = connection.ops.quote_name
    casts = ", ".join(f"%s::{_pg_type(f)}" for f in fields)
    values = ", ".join(f"({casts})" for _ in objs)
    names = ", ".join(quote(f.column) for f in fields)
    sets = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields[1:])
    table = quote(model._meta.db_table)
    params = [
        f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in objs for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {sets} FROM (VALUES {values}) AS v ({names})"  # noqa: S608
            f" WHERE {table}.{quote('id')} = v.{quote('id')}",
            params,
        )
