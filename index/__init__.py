"""Elasticsearch: the local node, versioned index templates and aliases, bulk writes with dead letters,
and keyword search with highlights."""
