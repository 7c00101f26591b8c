"""Who may do what: accounts and sessions, tenancy, and the audit log."""
