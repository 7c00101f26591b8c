"""Revenue and visitor reports of an association, and their CSV tables."""
