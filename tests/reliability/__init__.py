"""Concurrency, crashes, faults, databases, backups and deployment files."""
