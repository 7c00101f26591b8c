"""Management pages for association staff and admins (a platform admin sees every association).

Views are thin: a form, one service call, then a commit and a redirect, or the page again
with the error and its status. Every object is looked up through ``tenancy.get_scoped``, so
another association's experience, family, schedule or departure is simply not found (404).

The blueprint is ``blueprint.bp``; each module of this package adds its views to it:
``associations`` (dashboard), ``experiences`` (and photos), ``people`` (families, guides,
invitations), ``operations`` (schedules, departures, the board), ``assignments`` (guides
for many departures, a schedule's default guides), ``split_rules``, ``resellers`` (who
sells through the OCTO API), ``reseller_webhooks`` (its webhook and the posts sent to it),
``route_bookings`` (route bookings with a part for the association, and recording that
part's cash), ``route_composing`` (routes their curator composes, and the answers of the
associations asked to take part), ``homestays`` (a family's homestay and blackout nights,
coordinates of homestays and stops, a family's guests night by night), ``groups`` (private
group requests), ``extras`` (an association's add-ons: price, stock, provider, the
experiences offering them), ``messages`` (the WhatsApp/SMS log, a booking's conversation),
``rebooking`` (a booking moved to another date), ``booking_cancellation`` (one booking
cancelled by staff, with a reason and the refund they choose).
"""

from . import (  # noqa: F401
    assignments,
    associations,
    booking_cancellation,
    experiences,
    extras,
    groups,
    homestays,
    jobs,
    messages,
    operations,
    people,
    rebooking,
    reseller_webhooks,
    resellers,
    route_bookings,
    route_composing,
    split_rules,
)
from .blueprint import bp  # noqa: F401
