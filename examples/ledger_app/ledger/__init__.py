"""The ledger team's CDK app (an example consumer of ``constructs_lib``)."""
