"""`python -m ns_pipelines.warehouse upgrade|current|check|revision [-m MSG] [--url URL]`."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from alembic import command

from ns_pipelines.warehouse.engine import create_warehouse_engine
from ns_pipelines.warehouse.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    schema_diffs,
    upgrade_warehouse,
)


def describe(diff: Any) -> str:
    """One line per autogenerate difference: the operation and what it touches."""
    if isinstance(diff, list):  # modify_* operations come as lists of tuples
        return "; ".join(describe(d) for d in diff)
    names = [getattr(part, "name", None) or (part if isinstance(part, str) else None) for part in diff[1:4]]
    return " ".join([diff[0], *[n for n in names if n]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ns_pipelines.warehouse")
    parser.add_argument("action", choices=["upgrade", "current", "check", "revision"])
    parser.add_argument("-m", "--message", default="change", help="revision message")
    parser.add_argument("--url", default=None, help="warehouse URL (default: $NS_WAREHOUSE_URL)")
    args = parser.parse_args(argv)
    if args.action == "upgrade":
        upgrade_warehouse(args.url)
        print(f"warehouse at revision {current_revision(args.url)}")
    elif args.action == "current":
        print(f"current {current_revision(args.url)}, head {head_revision()}")
    elif args.action == "check":
        diffs = schema_diffs(args.url)
        for diff in diffs:
            print(describe(diff))
        print("schema matches the table definitions" if not diffs else f"{len(diffs)} difference(s)")
        return 1 if diffs else 0
    else:
        engine = create_warehouse_engine(args.url)
        with engine.begin() as conn:
            command.revision(alembic_config(conn), message=args.message, autogenerate=True)
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
