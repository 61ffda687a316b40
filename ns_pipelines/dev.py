"""`make dev`: the sandbox account plus `dagster dev` on this code location, stopped together.

    ns-pipelines dev                     # or python -m ns_pipelines.dev

Starts the NetSuite sandbox on a free loopback port (the account the demo uses, kept in
.data/demo/sandbox), writes its credentials file, and runs `dagster dev -w workspace.yaml` with
the sandbox's NETSUITE_* variables and DAGSTER_HOME (absolute; .dagster_home by default, with the
project's dagster.yaml copied there). Ctrl-C stops Dagster, then the sandbox.
"""
from __future__ import annotations

import filecmp
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import click

NETSUITE_POOL = "netsuite_api"
# One NetSuite step at a time across runs: each run's client already uses the whole
# NETSUITE_CONCURRENCY budget (the sync reads id ranges in parallel inside the step).
NETSUITE_POOL_LIMIT = 1
DEFAULT_SANDBOX_DIR = Path(".data/demo/sandbox")
DEFAULT_CREDENTIALS = Path(".data/sandbox-credentials.json")


def project_root() -> Path:
    """The directory holding workspace.yaml and dagster.yaml: the working directory, else the
    checkout the package was installed from (editable install)."""
    for candidate in (Path.cwd(), Path(__file__).resolve().parents[1]):
        if (candidate / "workspace.yaml").exists():
            return candidate
    return Path.cwd()


def prepare_dagster_home(path: Path | str | None = None) -> Path:
    """An absolute DAGSTER_HOME ($DAGSTER_HOME, else .dagster_home) holding the project's
    dagster.yaml; sets os.environ["DAGSTER_HOME"] and returns it."""
    home = Path(path or os.environ.get("DAGSTER_HOME") or project_root() / ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    source = project_root() / "dagster.yaml"
    target = home / "dagster.yaml"
    if source.exists() and not (target.exists() and filecmp.cmp(source, target, shallow=False)):
        shutil.copyfile(source, target)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def ensure_pool_limit(instance: object | None = None) -> int | None:
    """Give the `netsuite_api` pool its limit on an instance where it was never set; the limit."""
    import dagster as dg

    instance = instance or dg.DagsterInstance.get()
    storage = instance.event_log_storage  # type: ignore[attr-defined]
    if NETSUITE_POOL not in storage.get_concurrency_keys():
        storage.set_concurrency_slots(NETSUITE_POOL, NETSUITE_POOL_LIMIT)
    info = storage.get_concurrency_info(NETSUITE_POOL)
    return info.slot_count


@click.command("dev")
@click.option("--port", type=int, default=3000, show_default=True, help="Port of the Dagster UI.")
@click.option("--sandbox-port", type=int, default=0, show_default=True, help="Port of the sandbox (0: a free one).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=DEFAULT_SANDBOX_DIR, show_default=True,
              help="The sandbox account's data (shared with `make demo`; seeded when empty).")
@click.option("--scale", default="small", show_default=True, help="Seeded data when the account is new.")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--credentials-out", type=click.Path(path_type=Path), default=DEFAULT_CREDENTIALS, show_default=True,
              help="Where to write the sandboxes' NETSUITE_* and STRIPE_* variables (mode 0600).")
def dev_command(port: int, sandbox_port: int, data_dir: Path, scale: str, seed: int, credentials_out: Path) -> None:
    """Serve the NetSuite and Stripe sandboxes and run `dagster dev` against them; Ctrl-C stops all."""
    import dagster as dg

    from ns_pipelines.demo import configure_sandbox_writeback
    from ns_pipelines.sandbox.cli import parse_scale, print_progress
    from ns_pipelines.sandbox.netsuite.credentials import write_json_0600
    from ns_pipelines.sandbox.netsuite.server import SandboxServer
    from ns_pipelines.sandbox.stripe.server import StripeSandboxServer

    root = project_root()
    home = prepare_dagster_home()
    with dg.DagsterInstance.get() as instance:
        pool_limit = ensure_pool_limit(instance)
    server = SandboxServer(data_dir, port=sandbox_port, scale=parse_scale(scale), seed=seed, progress=print_progress)
    server.start()
    stripe = StripeSandboxServer(data_dir, netsuite=server, seed=seed)
    try:
        stripe.start()
        write_json_0600(credentials_out, {**server.environment(), **stripe.environment()})
        os.environ.update({**server.environment(), **stripe.environment()})
        configure_sandbox_writeback(server, stripe)  # as `make demo`: writing back into the sandbox is on
        env = {**os.environ, "DAGSTER_HOME": str(home)}
        click.echo(f"NetSuite sandbox for account {server.settings.account_id} at {server.base_url}, Stripe "
                   f"sandbox at {stripe.base_url} (data in {data_dir}; credentials in {credentials_out}).")
        click.echo(f"DAGSTER_HOME={home}; pool {NETSUITE_POOL} limit {pool_limit}.")
        click.echo(f"Starting Dagster at http://127.0.0.1:{port}: launch sync_reconcile_writeback_job (Jobs) or "
                   "'Materialize all' in the asset graph. Ctrl-C stops Dagster and the sandboxes.")
        dagster = Path(sys.executable).with_name("dagster")
        command = [str(dagster) if dagster.exists() else "dagster", "dev", "-w", "workspace.yaml", "-p", str(port)]
        _run_until_stopped(command, env=env, cwd=root)
    finally:
        stripe.stop()
        server.stop()
        click.echo("sandboxes stopped")


def _run_until_stopped(command: list[str], *, env: dict[str, str], cwd: Path) -> int:
    """Run `command`; on Ctrl-C (which the terminal sends to it too) or SIGTERM, let it shut down."""
    # A shell starts background jobs with SIGINT ignored, and dagster dev maps SIGTERM onto its
    # SIGINT handler: give the child the default so both signals stop it.
    proc = subprocess.Popen(command, env=env, cwd=cwd,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # SIGTERM, not SIGINT: a child started in the background may have inherited SIGINT as ignored.
    previous = signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                try:
                    # A terminal's Ctrl-C reaches the child too; a `kill -INT` of this process does not.
                    return proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    proc.terminate()
                try:
                    return proc.wait(timeout=60)
                except (KeyboardInterrupt, subprocess.TimeoutExpired):
                    proc.terminate()
                    return proc.wait(timeout=15)
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    dev_command()
