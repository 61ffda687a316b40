"""Alembic migrations of the warehouse (see ns_pipelines.warehouse.migrate)."""
