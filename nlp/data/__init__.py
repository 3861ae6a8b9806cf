"""Labelled dev set for the topic/kind classifier (devset.jsonl) and the items it is built from."""
