"""The `ns-pipelines` command line: one group, one subcommand per job a user runs by hand."""
from __future__ import annotations

import json
import shlex
from pathlib import Path

import click

from .sandbox.cli import sandbox_command


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


main.add_command(sandbox_command)

if __name__ == "__main__":
    main()
