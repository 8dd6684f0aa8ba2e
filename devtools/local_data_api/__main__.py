"""``python -m devtools.local_data_api --database-url URL [--port N]``: serve until interrupted."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from devtools.embedded import embedded_postgres_url
from devtools.local_data_api.server import LocalDataApi


def main(argv: list[str] | None = None) -> int:
    """Run the local Data API in the foreground."""
    parser = argparse.ArgumentParser(prog="python -m devtools.local_data_api", description=__doc__)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--database-url", help="libpq URL of the PostgreSQL server to serve")
    source.add_argument(
        "--embedded",
        type=Path,
        metavar="DATA_DIR",
        help="start the embedded PostgreSQL in DATA_DIR and serve it",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--transaction-idle-timeout", type=float, default=180.0)
    parser.add_argument("--statement-timeout", type=float, default=45.0)
    args = parser.parse_args(argv)
    url = args.database_url or embedded_postgres_url(args.embedded)
    server = LocalDataApi(
        postgres_url=url,
        host=args.host,
        port=args.port,
        transaction_idle_timeout=args.transaction_idle_timeout,
        statement_timeout=args.statement_timeout,
    )
    endpoint = server.start()
    sys.stdout.write(f"Local RDS Data API on {endpoint} (Ctrl+C to stop)\n")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
