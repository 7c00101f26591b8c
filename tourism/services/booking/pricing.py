"""What a booking costs and what of it is paid online: the rules of prices, not their
arithmetic (that is ``tourism.money``)."""

from __future__ import annotations

from ...models import PaymentMethod
from ...money import percent_of


def online_due(total_cents: int, method: str, deposit_percent: int) -> int:
    """What must be paid online for a booking of ``total_cents`` paid with ``method``.

    A deposit is rounded half up to the cent and is never zero for a non-zero total.
    """
    if method == PaymentMethod.CARD:
        return total_cents
    if method == PaymentMethod.DEPOSIT:
        deposit = percent_of(total_cents, deposit_percent)
        return min(max(deposit, 1 if total_cents else 0), total_cents)
    return 0
