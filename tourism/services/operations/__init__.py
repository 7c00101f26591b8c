"""Running departures: schedules, guides and their calendars, the operations board,
manifests and check-in."""
