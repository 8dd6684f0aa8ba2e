"""A Bedrock guardrail for a money assistant: PII filters, UK bank numbers, denied topics.

Applied to every model call (``guardrailConfig`` of ``Converse``), the guardrail is the
provider-side second line behind the service's own redaction: it anonymises names,
addresses, e-mail addresses, phone numbers, card numbers and bank account numbers
(IBAN, SWIFT, US and - by regex - UK sort codes and account numbers) and blocks
credentials, in prompts and answers, and refuses the denied topics (investment, tax and
legal advice by default). It is encrypted with a customer-managed key (created with
rotation unless one is given) and published as a numbered version, so the app pins
what it was reviewed with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

__all__ = ["DEFAULT_DENIED_TOPICS", "BedrockGuardrail", "DeniedTopic"]

#: PII the guardrail anonymises in prompts and answers.
ANONYMISED_PII = ("NAME", "ADDRESS", "EMAIL", "PHONE", "CREDIT_DEBIT_CARD_NUMBER",
                  "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "SWIFT_CODE", "US_BANK_ACCOUNT_NUMBER",
                  "UK_NATIONAL_INSURANCE_NUMBER")
#: Secrets the guardrail blocks outright.
BLOCKED_PII = ("CREDIT_DEBIT_CARD_CVV", "CREDIT_DEBIT_CARD_EXPIRY", "PIN", "PASSWORD",
               "AWS_ACCESS_KEY", "AWS_SECRET_KEY")
#: UK bank details Bedrock has no built-in entity for.
UK_BANK_REGEXES = (
    ("uk-sort-code", r"\b\d{2}[- ]?\d{2}[- ]?\d{2}\b", "UK sort code (12-34-56)"),
    ("uk-account-number", r"\b\d{8}\b", "UK bank account number (8 digits)"),
)


@dataclass(frozen=True, slots=True)
class DeniedTopic:
    """A topic the assistant refuses: name, definition (<= 200 chars), a few examples."""

    name: str
    definition: str
    examples: tuple[str, ...] = ()


DEFAULT_DENIED_TOPICS: tuple[DeniedTopic, ...] = (
    DeniedTopic("Investment advice",
                "Recommendations to buy, sell or hold specific investments, securities, "
                "funds, pensions or crypto-assets, or predictions of their returns.",
                ("Which shares should I buy?", "Should I move my pension into crypto?")),
    DeniedTopic("Tax and legal advice",
                "Advice on how to arrange affairs to reduce tax or on legal obligations, "
                "rights or disputes.",
                ("How do I avoid inheritance tax?", "Can I sue my bank?")),
)


class BedrockGuardrail(Construct):
    """A CMK-encrypted, versioned Bedrock guardrail.

    Example
    -------
    ::

        guardrail = BedrockGuardrail(self, "Guardrail", name="ffp-prod-assistant")
        guardrail.grant_apply(api_function.role)
        api_function.add_environment("CHAT_GUARDRAIL_ID", guardrail.guardrail_id)
        api_function.add_environment("CHAT_GUARDRAIL_VERSION", guardrail.version)

    Parameters
    ----------
    name
        The guardrail's name (unique in the account and region).
    key
        Customer-managed key encrypting the guardrail; one with rotation is created
        when omitted (exposed as :attr:`key`).
    denied_topics
        Topics refused in prompts and answers (:data:`DEFAULT_DENIED_TOPICS`).
    blocked_message
        What the member sees when the guardrail blocks a prompt or an answer.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        key: kms.IKey | None = None,
        denied_topics: Sequence[DeniedTopic] = DEFAULT_DENIED_TOPICS,
        blocked_message: str = ("Sorry, the assistant cannot help with that. It answers "
                                "questions about your family's own accounts and spending."),
    ) -> None:
        super().__init__(scope, id_)
        if not denied_topics:
            raise ValueError("a money assistant's guardrail needs at least one denied topic")
        self._key = key or kms.Key(
            self, "Key", enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.RETAIN,
            description=f"Encrypts the Bedrock guardrail {name}",
        )
        pii = [bedrock.CfnGuardrail.PiiEntityConfigProperty(type=t, action="ANONYMIZE")
               for t in ANONYMISED_PII]
        pii += [bedrock.CfnGuardrail.PiiEntityConfigProperty(type=t, action="BLOCK")
                for t in BLOCKED_PII]
        self._guardrail = bedrock.CfnGuardrail(
            self, "Resource",
            name=name,
            description="Money assistant: PII, UK bank details and denied topics",
            kms_key_arn=self._key.key_arn,
            blocked_input_messaging=blocked_message,
            blocked_outputs_messaging=blocked_message,
            sensitive_information_policy_config=(
                bedrock.CfnGuardrail.SensitiveInformationPolicyConfigProperty(
                    pii_entities_config=pii,
                    regexes_config=[
                        bedrock.CfnGuardrail.RegexConfigProperty(
                            name=regex_name, pattern=pattern, description=description,
                            action="ANONYMIZE")
                        for regex_name, pattern, description in UK_BANK_REGEXES
                    ],
                )),
            topic_policy_config=bedrock.CfnGuardrail.TopicPolicyConfigProperty(
                topics_config=[
                    bedrock.CfnGuardrail.TopicConfigProperty(
                        name=topic.name, definition=topic.definition, type="DENY",
                        examples=list(topic.examples) or None)
                    for topic in denied_topics
                ]),
        )
        self._version = bedrock.CfnGuardrailVersion(
            self, "Version", guardrail_identifier=self._guardrail.attr_guardrail_id,
            description="Pinned by the app",
        )

    @property
    def key(self) -> kms.IKey:
        """The key encrypting the guardrail."""
        return self._key

    @property
    def guardrail_arn(self) -> str:
        """The guardrail's ARN."""
        return self._guardrail.attr_guardrail_arn

    @property
    def guardrail_id(self) -> str:
        """The guardrail's id (``guardrailIdentifier`` of ``Converse``)."""
        return self._guardrail.attr_guardrail_id

    @property
    def version(self) -> str:
        """The published version the app pins."""
        return self._version.attr_version

    def grant_apply(self, grantee: iam.IGrantable) -> iam.Grant:
        """``bedrock:ApplyGuardrail`` on this guardrail and ``kms:Decrypt`` on its key."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=["bedrock:ApplyGuardrail"],
            resource_arns=[self.guardrail_arn])
        iam.Grant.add_to_principal(grantee=grantee, actions=["kms:Decrypt"],
                                   resource_arns=[self._key.key_arn])
        return grant
