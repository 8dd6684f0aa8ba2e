"""The BankGrade pack: the project's own rules, with what they mean."""

from __future__ import annotations

from constructs_lib.compliance.model import Rule
from constructs_lib.compliance.rules.awslambda import invoked_via_alias
from constructs_lib.compliance.rules.encryption import customer_managed_key
from constructs_lib.compliance.rules.iam import no_wildcard_permissions
from constructs_lib.compliance.rules.network import no_public_network
from constructs_lib.compliance.rules.rds import data_api_single_cluster
from constructs_lib.compliance.rules.secrets import no_secret_literals

PACK_NAME = "BankGrade"

RULES: tuple[Rule, ...] = (
    Rule(
        id="BankGrade-LambdaInvokedViaAlias",
        check=invoked_via_alias.check,
        info="A Lambda function is invoked directly (unqualified or $LATEST), not through an "
             "alias or version.",
        explanation="Deploy safety relies on CodeDeploy shifting the 'live' alias with alarm "
                    "rollback; anything invoking the function itself gets untested code the "
                    "moment it is published and is never rolled back. Point the permission, "
                    "integration or task at the alias.",
    ),
    Rule(
        id="BankGrade-NoSecretLiterals",
        check=no_secret_literals.check,
        info="A secret-looking literal (password, key, token, PEM block, credentialed URL) is "
             "in the template.",
        explanation="Templates are stored in S3, the CloudFormation console and our repository; "
                    "secrets there are disclosed to everyone who can read them. Store the value "
                    "in Secrets Manager/SSM and pass its name or ARN, or use a {{resolve:...}} "
                    "dynamic reference.",
    ),
    Rule(
        id="BankGrade-CustomerManagedKey",
        check=customer_managed_key.check,
        info="Data at rest is not encrypted with a customer-managed KMS key.",
        explanation="Customer data must be encrypted with keys we control: key policies restrict "
                    "who can decrypt, use is audited in CloudTrail, and disabling the key "
                    "crypto-shreds the data. AWS-owned or AWS-managed (alias/aws/*) keys give "
                    "none of that.",
    ),
    Rule(
        id="BankGrade-NoPublicNetwork",
        check=no_public_network.check,
        info="The data network has an internet path (NAT/internet gateway, public subnet or "
             "route to a gateway).",
        explanation="The database network is isolated: nothing in it may reach or be reached "
                    "from the internet. AWS services are reached through VPC endpoints or, for "
                    "the API, through the RDS Data API over HTTPS.",
    ),
    Rule(
        id="BankGrade-NoWildcardPermissions",
        check=no_wildcard_permissions.check,
        info="An IAM statement allows '*' or 'service:*' actions, or a data-plane action on "
             "Resource '*'.",
        explanation="Least privilege: every principal gets the named actions it needs on the "
                    "resources it needs. Wildcards silently extend access to resources created "
                    "later and defeat reviews of what can read customer data.",
    ),
    Rule(
        id="BankGrade-DataApiSingleCluster",
        check=data_api_single_cluster.check,
        info="RDS Data API permissions are not scoped to exactly one cluster ARN.",
        explanation="The Data API is the only path to the database; a grant on several clusters, "
                    "a wildcard or an unresolvable ARN may reach another stage's or tenant's "
                    "database.",
    ),
)
