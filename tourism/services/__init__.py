"""The domain. Functions take a session and explicit arguments, flush, and never commit."""
