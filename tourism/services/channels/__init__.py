"""Sales channels: resellers and OTAs booking through the OCTO API.

``resellers`` keeps resellers and their keys; ``octo_errors`` names what the API refuses;
``products`` describes experiences and departures the OCTO way; ``reservations`` reserves,
confirms, extends and cancels through the same seat hold as the website
(``services.booking.lifecycle``); ``representation`` turns bookings into OCTO objects.
"""
