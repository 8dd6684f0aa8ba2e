"""``python -m service.insights``: the offline insights CLI."""

from __future__ import annotations

import sys

from service.insights.cli import main

if __name__ == "__main__":
    sys.exit(main())
