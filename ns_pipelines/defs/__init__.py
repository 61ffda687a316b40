"""Dagster definitions only: thin assets, checks and jobs over ns_pipelines.sync and ns_pipelines.ar."""
