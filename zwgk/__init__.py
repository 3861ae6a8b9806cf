"""zwgk-monitor core: the document record, the plan model, the agency registry, the working-day
calendar, text normalisation and settings. Depends on nothing else of ours; every stage reads it."""

# jieba's domain words come from the registry and the plan, which themselves import zwgk.text: the
# vocabulary registers itself with zwgk.text here, so that text never imports what imports it
from zwgk import vocabulary  # noqa: F401, E402
