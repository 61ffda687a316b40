"""`ns-pipelines sandbox` serves the Stripe sandbox alongside and puts STRIPE_* in the credentials file."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
import stripe

CLI = [sys.executable, "-m", "ns_pipelines.cli"]


def test_sandbox_command_serves_stripe_with_its_credentials(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.json"
    process = subprocess.Popen(
        [*CLI, "sandbox", "--port", "0", "--scale", "tiny", "--seed", "7", "--data-dir", str(tmp_path / "data"),
         "--credentials-out", str(credentials), "--integration-start-days", "14"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not credentials.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert credentials.exists(), "the sandbox never wrote its credentials file"
        time.sleep(0.2)
        environment = json.loads(credentials.read_text())
        assert environment["NETSUITE_BASE_URL"] != environment["STRIPE_API_BASE"]
        assert environment["STRIPE_API_KEY"].startswith("sk_test_")
        assert environment["STRIPE_WEBHOOK_SECRET"].startswith("whsec_")
        client = stripe.StripeClient(environment["STRIPE_API_KEY"], max_network_retries=0,
                                     base_addresses={"api": environment["STRIPE_API_BASE"]})
        customers = list(client.v1.customers.list({"limit": 100}).auto_paging_iter())
        assert any("netsuite_customer_id" in c.metadata for c in customers)
        catalogue = requests.get(environment["STRIPE_SANDBOX_ADMIN_URL"] + "/scenarios", timeout=10, headers={
            "Authorization": f"Bearer {environment['STRIPE_SANDBOX_ADMIN_TOKEN']}"}).json()
        assert catalogue["anchor"] - catalogue["integration_start"] == 14 * 86400
        assert (tmp_path / "data" / "stripe.sqlite3").exists()
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Stripe sandbox at http://127.0.0.1:" in output
    assert environment["STRIPE_API_KEY"] not in output, "a secret was printed"
