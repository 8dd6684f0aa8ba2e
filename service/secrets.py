"""Secrets Manager / SSM values fetched on first use and cached in memory with a TTL.

Built on Powertools ``parameters`` providers (their cache honours ``max_age``). Providers
and their boto3 clients are created on first use, never at import; tests inject clients.
"""

# Imports inside functions are deliberate: they keep the Lambda cold start cheap.
# ruff: noqa: PLC0415

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider


class SecretUnavailableError(RuntimeError):
    """A secret or parameter could not be read (the caller decides whether that is fatal)."""


class SecretLoader:
    """Reads secrets and parameters, caching each value for ``max_age`` seconds.

    Parameters
    ----------
    max_age
        Cache lifetime in seconds; a rotated secret is picked up at most this late.
    secrets_client, ssm_client
        Optional boto3 clients (tests pass moto-backed ones); created lazily otherwise.
    """

    def __init__(
        self,
        *,
        max_age: int = 300,
        secrets_client: Any = None,
        ssm_client: Any = None,
    ) -> None:
        self.max_age = max_age
        self._secrets_client = secrets_client
        self._ssm_client = ssm_client
        self._secrets: SecretsProvider | None = None
        self._ssm: SSMProvider | None = None
        self._lock = threading.Lock()

    def _secrets_provider(self) -> SecretsProvider:
        with self._lock:
            if self._secrets is None:
                from aws_lambda_powertools.utilities.parameters import SecretsProvider

                self._secrets = SecretsProvider(boto3_client=self._secrets_client)
            return self._secrets

    def _ssm_provider(self) -> SSMProvider:
        with self._lock:
            if self._ssm is None:
                from aws_lambda_powertools.utilities.parameters import SSMProvider

                self._ssm = SSMProvider(boto3_client=self._ssm_client)
            return self._ssm

    def clear(self) -> None:
        """Forget every cached value (after a SnapStart restore, values are refetched)."""
        with self._lock:
            providers = [p for p in (self._secrets, self._ssm) if p is not None]
        for provider in providers:
            provider.clear_cache()  # type: ignore[no-untyped-call]

    def get_secret(self, secret_id: str, *, force_fetch: bool = False) -> str:
        """The ``SecretString`` of a Secrets Manager secret (name or ARN)."""
        try:
            value = self._secrets_provider().get(
                secret_id, max_age=self.max_age, force_fetch=force_fetch
            )
        except Exception as error:
            raise SecretUnavailableError(f"secret {secret_id!r} could not be read") from error
        return _as_text(value, secret_id)

    def get_parameter(self, name: str, *, decrypt: bool = True, force_fetch: bool = False) -> str:
        """An SSM parameter value (SecureString decrypted by default)."""
        try:
            value = self._ssm_provider().get(
                name, max_age=self.max_age, decrypt=decrypt, force_fetch=force_fetch
            )
        except Exception as error:
            raise SecretUnavailableError(f"parameter {name!r} could not be read") from error
        return _as_text(value, name)


def _as_text(value: str | bytes | dict[str, Any] | None, name: str) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    raise SecretUnavailableError(f"{name!r} has no string value")
