"""Asset metadata built from the warehouse tables, and the shared keys of materialization metadata.

Definition metadata (`table_metadata`) fills the UI's Columns tab before the first run: every
warehouse column carries a comment, which becomes the column's description. Numbers go in as
`MetadataValue.int`/`float`, which the UI plots across materializations.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from sqlalchemy import Engine, Table, func, select
from sqlalchemy.dialects import postgresql

OWNERS = ["team:accounts-receivable"]
RAW_GROUP = "netsuite_raw"  # raw NetSuite tables (assets under netsuite/)
RECEIVABLES_GROUP = "receivables"  # derived tables (assets under ar/)
NETSUITE_POOL = "netsuite_api"  # every step that calls NetSuite takes a slot

# Column types as PostgreSQL (production) names them; SQLite stores the same affinities.
_TYPE_DIALECT = postgresql.dialect()


def column_schema(table: Table) -> dg.TableSchema:
    """The table's columns, types, comments and keys as a Dagster TableSchema."""
    key = [c.name for c in table.primary_key.columns]
    columns = [
        dg.TableColumn(
            name=column.name,
            type=str(column.type.compile(dialect=_TYPE_DIALECT)).lower(),
            description=column.comment,
            constraints=dg.TableColumnConstraints(
                nullable=bool(column.nullable) and not column.primary_key,
                unique=column.primary_key and len(key) == 1,
            ),
        )
        for column in table.columns
    ]
    return dg.TableSchema(columns=columns, constraints=dg.TableConstraints(other=[f"primary key ({', '.join(key)})"]))


def table_metadata(table: Table) -> dict[str, Any]:
    """Definition metadata of the asset that owns `table`."""
    return {
        "dagster/column_schema": column_schema(table),
        "dagster/table_name": table.name,
        "ns/primary_key": ", ".join(c.name for c in table.primary_key.columns),
    }


def raw_table_spec(key: Sequence[str], table: Table, description: str, *, group: str, kinds: set[str],
                   deps: Sequence[dg.AssetSpec] = ()) -> dg.AssetSpec:
    """The spec of a raw table's asset: what the raw tables of every source share (the description
    is re-flowed onto one line, the columns come from the table)."""
    return dg.AssetSpec(
        key=list(key),
        description=" ".join(description.split()),
        group_name=group,
        kinds=kinds,
        owners=OWNERS,
        deps=list(deps),
        metadata=table_metadata(table),
        tags={"ns/layer": "raw"},
    )


def row_counts(engine: Engine, table: Table) -> dict[str, int]:
    """Rows in the table, and (where it has is_deleted) how many are soft-deleted."""
    with engine.connect() as conn:
        if "is_deleted" in table.c:
            total, deleted = conn.execute(
                select(func.count(), func.count().filter(table.c.is_deleted.is_(True))).select_from(table)
            ).one()
            return {"rows": int(total), "deleted": int(deleted or 0)}
        return {"rows": int(conn.execute(select(func.count()).select_from(table)).scalar_one())}


def when(value: dt.datetime | None, empty: str = "none") -> dg.MetadataValue:
    """A timestamp metadata value (text when there is none)."""
    if value is None:
        return dg.MetadataValue.text(empty)
    return dg.MetadataValue.timestamp(value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc))


def ints(values: Mapping[str, int | None], prefix: str = "ns/") -> dict[str, dg.MetadataValue]:
    """`{prefix+name: MetadataValue.int}` for every value that is set."""
    return {f"{prefix}{name}": dg.MetadataValue.int(int(v)) for name, v in values.items() if v is not None}


def markdown_table(headers: list[str], rows: list[list[Any]]) -> dg.MetadataValue:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return dg.MetadataValue.md("\n".join(lines))
