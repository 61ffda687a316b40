"""Connection health in Dagster: netsuite_connection_sensor (behaviour.md section 1)."""
import dagster as dg

from ns_pipelines.defs.health.sensors import NetSuiteConnectionLost, netsuite_connection_sensor

defs = dg.Definitions(sensors=[netsuite_connection_sensor])

__all__ = ["NetSuiteConnectionLost", "defs", "netsuite_connection_sensor"]
