"""Measures computed from Elasticsearch: website freshness (update frequency) and response timeliness."""
