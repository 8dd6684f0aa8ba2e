"""``python -m devtools``: the laptop commands (see :mod:`devtools.cli`)."""

from __future__ import annotations

from devtools.cli import cli

if __name__ == "__main__":
    cli.main(prog_name="python -m devtools")
