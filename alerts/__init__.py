"""Reports and alerts: freshness and timeliness tables, weekly alerts by email and webhooks, watchlists."""
