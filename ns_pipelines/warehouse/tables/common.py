"""The warehouse MetaData and the columns every NetSuite table shares.

Every column has a `comment`: PostgreSQL stores it, and the Dagster assets publish it as the
column's description. Columns are plain `NUMERIC`, `DATE`, `BOOLEAN`, timestamp and text types, so
analysts can query the tables with any SQL tool.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, MetaData, String, Text, false

from ns_pipelines.warehouse.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def flag(name: str, comment: str) -> Column:
    """A NOT NULL boolean that defaults to false."""
    return Column(name, Boolean, nullable=False, server_default=false(), comment=comment)


def currency_code(comment: str = "Currency, ISO 4217 code (e.g. USD, JPY).") -> Column:
    return Column("currency", String(3), comment=comment)


def external_id(comment: str = "NetSuite external id (externalid), if any.") -> Column:
    return Column("external_id", Text, comment=comment)


def record_state(last_modified: str = "NetSuite lastmodifieddate, in UTC.") -> list[Column]:
    """last_modified, is_deleted, deleted_at, synced_at: the columns of every synced record."""
    return [
        Column("last_modified", UTCDateTime, nullable=False, index=True, comment=last_modified),
        flag("is_deleted", "True once the record was deleted in NetSuite; the row is kept."),
        Column("deleted_at", UTCDateTime, comment="When NetSuite deleted the record (deletedrecord.deleteddate), in UTC."),
        Column("synced_at", UTCDateTime, nullable=False, comment="When the pipeline last wrote this row, in UTC."),
    ]


def id_column(name: str, comment: str, *, primary_key: bool = False, index: bool = False) -> Column:
    """A NetSuite internal id (SuiteQL returns them as strings; the warehouse stores integers)."""
    return Column(
        name, BigInteger, primary_key=primary_key, autoincrement=False, index=index,
        nullable=not primary_key, comment=comment,
    )
