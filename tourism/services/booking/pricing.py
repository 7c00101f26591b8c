"""What a booking costs and what of it is paid online: the rules of prices, not their
arithmetic (that is ``tourism.money``)."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Quote:
    """What a booking would cost before it is made: the total, what is paid online when
    booking, and what is left to pay in cash on arrival."""

    total_cents: int
    now_cents: int
    currency: str

    @property
    def on_arrival_cents(self) -> int:
        return self.total_cents - self.now_cents

    @property
    def key(self) -> str:
        """What the booking form remembers of the quote it showed (``total:now``), so a
        booking is never made for an amount the visitor has not seen."""
        return f"{self.total_cents}:{self.now_cents}"


def quote(
    experience, quantities: dict[int, int], method: str | None, addons_cents: int = 0
) -> Quote:
    """The quote for ``quantities`` (tickets per price category id) paid with ``method``,
    plus ``addons_cents`` of extras and homestay nights (``addons.quote_cents``).
    Quantities that are not whole numbers from 0 to the per-booking limit count as 0, as
    the page's script counts them."""
    limit = experience.max_tickets_per_booking
    prices = {pc.id: pc.price_cents for pc in experience.price_categories if pc.is_active}
    total = sum(
        prices[pc_id] * qty
        for pc_id, qty in quantities.items()
        if pc_id in prices and isinstance(qty, int) and 0 <= qty <= limit
    )
    total += addons_cents
    now = online_due(total, method, experience.deposit_percent) if method else 0
    return Quote(total_cents=total, now_cents=now, currency=experience.currency)
