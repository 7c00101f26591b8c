"""Messages to people: the outbox, rendering, the mail transport, account emails and impact
receipts."""
