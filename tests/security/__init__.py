"""Attacks and hygiene: CSRF, XSS, fuzzing, tenancy, headers, logs, limits."""
