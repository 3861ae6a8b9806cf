"""Events: documents that carry the same story (reposts, lightly edited copies, either script) grouped as they
arrive, with MinHash LSH over the normalised title and lead (docs/events.md)."""
