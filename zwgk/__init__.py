"""zwgk-monitor core: the document record, the plan model, the agency registry, the working-day
calendar, text normalisation and settings. Depends on nothing else of ours; every stage reads it."""
