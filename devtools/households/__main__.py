"""Write a generated household as insights CLI input.

``python -m devtools.households --seed 7 --start 2023-01-01 --end 2025-06-30 > txns.jsonl``
then ``python -m service.insights recurring txns.jsonl --as-of 2025-06-30``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from devtools.households.export import json_lines
from devtools.households.generator import generate_household


def main(argv: list[str] | None = None) -> int:
    """Print one household's booked transactions as JSON lines."""
    parser = argparse.ArgumentParser(prog="python -m devtools.households")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2023, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2025, 6, 30))
    parser.add_argument("--no-provider", action="store_true", help="omit provider_category")
    args = parser.parse_args(argv)
    household = generate_household(args.seed, start=args.start, end=args.end)
    sys.stdout.writelines(json_lines(household.transactions, provider=not args.no_provider))
    return 0


if __name__ == "__main__":
    sys.exit(main())
