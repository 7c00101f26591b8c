"""Money coming in and going back: card payments through Stripe, webhooks, refunds."""
