"""Root test configuration shared by every test package."""

from __future__ import annotations

from constructs_lib.gate.node_runtime import use_venv_node

# jsii starts Node on the first `import aws_cdk`; make it the venv's Node >= 22.
use_venv_node()

# Embedded PostgreSQL shared by xdist workers, fresh migrated database per test.
pytest_plugins = ["tests.fixtures.postgres"]
