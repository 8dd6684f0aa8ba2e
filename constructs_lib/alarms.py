"""Where alarms go: a CMK-encrypted, TLS-only SNS topic with e-mail subscribers.

Example
-------
::

    alerts = AlarmNotifications(self, "Alerts", key=keys.alerts,
                                emails=["platform-alerts@example.com"])
    alerts.notify_on(*api_function.alarms)
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from constructs_lib.acceptance import accept

__all__ = ["AlarmNotifications"]


class AlarmNotifications(Construct):
    """An encrypted topic that alarms notify on entering and leaving ALARM.

    Parameters
    ----------
    key:
        CMK for the topic; its policy must let ``cloudwatch.amazonaws.com`` use it
        (``EncryptionKeys.alerts`` does).
    emails:
        Addresses subscribed to the topic (each confirms by e-mail).
    """

    def __init__(
        self, scope: Construct, id_: str, *, key: kms.IKey, emails: Sequence[str] = ()
    ) -> None:
        super().__init__(scope, id_)
        self._topic = sns.Topic(self, "Topic", master_key=key, enforce_ssl=True)
        for email in emails:
            subscription = self._topic.add_subscription(subscriptions.EmailSubscription(email))
            accept(subscription, ("Serverless-SNSRedrivePolicy",),
                   "An undeliverable alert e-mail loses no state: the alarm stays in ALARM in "
                   "CloudWatch and still drives CodeDeploy rollback; SNS retries e-mail delivery.")

    @property
    def topic(self) -> sns.ITopic:
        """The notification topic."""
        return self._topic

    def notify_on(self, *alarms: cloudwatch.Alarm) -> None:
        """Notify the topic when any of ``alarms`` fires or recovers."""
        action = cw_actions.SnsAction(self._topic)
        for alarm in alarms:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
