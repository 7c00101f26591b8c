"""Paying families and guides what the ledger owes them: payouts, receipts, statements, exports."""
