"""What a cost report is made of: priced lines and unpriced resources."""

from __future__ import annotations

from dataclasses import dataclass

from cdk_app.cost.prices import Price, Verification


@dataclass(frozen=True)
class LineItem:
    """A cost: ``quantity`` units at ``price`` (``quantity`` may be 0, e.g. nothing stored).

    ``category`` groups lines in the report ("KMS keys"); ``basis`` says how the
    quantity was derived from the template or the usage model.
    """

    stack: str
    logical_id: str
    category: str
    quantity: float
    price: Price
    basis: str

    @property
    def usd(self) -> float:
        """The cost of the line."""
        return self.quantity * self.price.usd

    @property
    def verified(self) -> Verification:
        """How sure the price is."""
        return self.price.verified


@dataclass(frozen=True)
class Unpriced:
    """A resource (or a feature of one) the report cannot price, and why."""

    stack: str
    logical_id: str
    resource_type: str
    reason: str


@dataclass(frozen=True)
class Free:
    """A resource that costs nothing while idle, and why."""

    stack: str
    logical_id: str
    resource_type: str
    reason: str


Finding = LineItem | Unpriced | Free
