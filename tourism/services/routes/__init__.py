"""Routes across communities: itineraries, their availability, booking and money."""
