"""What every page shares: the response cache, static files, query counts, languages."""
