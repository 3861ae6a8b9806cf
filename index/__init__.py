"""Elasticsearch: the local node, index templates, bulk writes with dead letters, search, measures."""
