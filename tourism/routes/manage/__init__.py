"""Management pages for association staff and admins (a platform admin sees every association).

Views are thin: a form, one service call, then a commit and a redirect, or the page again
with the error and its status. Every object is looked up through ``tenancy.get_scoped``, so
another association's experience, family, schedule or departure is simply not found (404).

The blueprint is ``blueprint.bp``; each module of this package adds its views to it:
``associations`` (dashboard), ``experiences`` (and photos), ``people`` (families, guides,
invitations), ``operations`` (schedules, departures, the board), ``assignments`` (guides
for many departures, a schedule's default guides), ``split_rules``, ``resellers`` (who
sells through the OCTO API), ``messages`` (the WhatsApp/SMS log, a booking's conversation),
``route_bookings`` (route bookings with a part for the
association, and recording that part's cash).
"""

from . import (  # noqa: F401
    assignments,
    associations,
    experiences,
    messages,
    operations,
    people,
    resellers,
    route_bookings,
    split_rules,
)
from .blueprint import bp  # noqa: F401
