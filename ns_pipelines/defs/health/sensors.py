"""netsuite_connection_sensor: the connection check (ns_pipelines.netsuite.health) every few
minutes, so a lost connection shows in the Dagster UI before the next sync fails on it.

Each tick signs one trivial SuiteQL query and reads the governance limits (two requests, outside
the `netsuite_api` pool: they are short and must not wait behind a long sync). A good connection
skips the tick with the report ("... OK, governance limits ..."); a bad one fails the tick with
the report, which says what is wrong and how to reconnect (new access token, update the
variables, `ns-pipelines check-connection`). The sensor's tick history is the connection's
history; the failed ticks are red in Automation > Sensors. It launches no run. No secret is in
the report (it names variables, never their values).

Interval: NS_CONNECTION_CHECK_INTERVAL_SECONDS (default 300), read when the code location loads.
"""
from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from ns_pipelines.defs.resources import NetSuiteResource
from ns_pipelines.defs.webhooks.sensors import _positive_int

INTERVAL_ENV = "NS_CONNECTION_CHECK_INTERVAL_SECONDS"
DEFAULT_INTERVAL_SECONDS = 300


class NetSuiteConnectionLost(RuntimeError):
    """The connection check failed; the message is the report with the reconnect steps."""


def check_interval_seconds(environ: Mapping[str, str] | None = None) -> int:
    return _positive_int(INTERVAL_ENV, DEFAULT_INTERVAL_SECONDS, environ)


def resource_environment(netsuite: NetSuiteResource) -> dict[str, str]:
    """The NETSUITE_* variables the resource was configured with (as check_connection reads them)."""
    return netsuite.environment()


@dg.sensor(
    name="netsuite_connection_sensor",
    minimum_interval_seconds=check_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Checks the NetSuite connection (one signed SuiteQL query and the governance limits) every "
    "NS_CONNECTION_CHECK_INTERVAL_SECONDS (default 300). OK: the tick is skipped with the report. Lost "
    "(revoked token, wrong account, unreachable, missing permission): the tick fails with what is wrong "
    "and the reconnect steps. Launches no run.",
)
def netsuite_connection_sensor(context: dg.SensorEvaluationContext, netsuite: NetSuiteResource) -> dg.SkipReason:
    from ns_pipelines.monitoring.monitor import monitoring_new_clients
    from ns_pipelines.netsuite.health import check_connection

    with monitoring_new_clients("netsuite_connection_sensor"):  # its two requests count in the API usage
        report = check_connection(resource_environment(netsuite))
    text = "\n".join(report.lines())
    if not report.ok:
        context.log.error(text)
        raise NetSuiteConnectionLost(text)
    context.log.info(text)
    return dg.SkipReason(text)
