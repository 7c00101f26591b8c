"""The append-only ledger: postings, split rules and splits, releases, checks, and what
tourists are told of it."""
