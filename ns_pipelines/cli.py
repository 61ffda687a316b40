"""The `ns-pipelines` command line: one group, one subcommand per job a user runs by hand."""
from __future__ import annotations

import json
import shlex
from pathlib import Path

import click

from .bench.cli import bench_group
from .dev import dev_command
from .sandbox.cli import sandbox_command
from .webhooks.cli import webhook_server_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ns-pipelines: NetSuite and Stripe accounts-receivable sync for Dagster, with a local sandbox.

    Every command reads the NETSUITE_* environment variables (see `ns-pipelines env`).
    """


@main.command("env")
@click.argument("credentials_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def env_command(credentials_file: Path) -> None:
    """Print `export` lines for a credentials file written by `ns-pipelines sandbox --credentials-out`.

    Use it as: eval "$(ns-pipelines env .data/sandbox-credentials.json)"
    """
    for key, value in json.loads(credentials_file.read_text()).items():
        click.echo(f"export {key}={shlex.quote(str(value))}")


@main.command("demo")
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path(".data/demo/sandbox"), show_default=True,
              help="Where the demo sandbox keeps its account (reused on the next run).")
@click.option("--scale", default="small", show_default=True, help="Seeded data: tiny, small, medium, large or a number.")
@click.option("--seed", type=int, default=42, show_default=True)
def demo_command(data_dir: Path, scale: str, seed: int) -> None:
    """Run the main job on the embedded defaults: sync a seeded sandbox into the SQLite warehouse through Dagster.

    A second run changes a few records in the sandbox first, then syncs incrementally and says so.
    """
    from .demo import run_demo
    from .sandbox.cli import parse_scale

    run_demo(data_dir, parse_scale(scale), seed)


@main.command("check-connection")
def check_connection_command() -> None:
    """Sign one trivial SuiteQL query and read the governance limits: say OK, or exactly what is wrong."""
    from .netsuite.health import check_connection

    report = check_connection()
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)


main.add_command(sandbox_command)
main.add_command(bench_group)
main.add_command(dev_command)
main.add_command(webhook_server_command)

if __name__ == "__main__":
    main()
