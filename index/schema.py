"""Index layout: one versioned index per kind behind an alias, created from composable templates.

`{prefix}-documents` (alias) → `{prefix}-documents-v1` (index), likewise snapshots, alerts,
watchlists, reports, events (one record per event: the same story across sources, events/) and the dashboard's
users, sessions and audit. Everything reads and writes through the alias, so a mapping change is a new version
plus `migrate()` (copy, then an atomic alias swap) without touching callers.

Chinese analysis with what the integ-test-zip distribution has (no analysis-common, so no `cjk`
analyzer): `zh_bigram` = standard tokenizer (one token per CJK character) + lowercase + shingle 2/2
joined without a separator = CJK bigrams for recall; a `.uni` subfield with the standard analyzer
serves one-character queries; `*_tokens` hold lower-cased jieba tokens split on whitespace (the
`whitespace` analyzer) for precise search.
"""

from __future__ import annotations

import logging
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, helpers

from zwgk.document import upgrade_record
from zwgk.es import KINDS, alias

log = logging.getLogger(__name__)

# bump a kind's version when its mapping changes incompatibly, then run migrate(client, kind)
VERSIONS = {"documents": 2, "snapshots": 1, "alerts": 1, "watchlists": 1, "reports": 1, "events": 1, "users": 1,
            "sessions": 1, "audit": 1}
TEMPLATE_PRIORITY = 200
REPLICAS = "0-1"  # auto_expand_replicas: a copy on a second data node when there is one

ANALYSIS = {
    "filter": {
        "zh_shingle": {
            "type": "shingle",
            "min_shingle_size": 2,
            "max_shingle_size": 2,
            "output_unigrams": False,
            "output_unigrams_if_no_shingles": True,
            "token_separator": "",
        }
    },
    "analyzer": {
        "zh_bigram": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "zh_shingle"]},
    },
}

KEYWORD = {"type": "keyword"}
DATE = {"type": "date"}
LONG = {"type": "long"}
STORED_ONLY = {"type": "keyword", "index": False, "doc_values": False}
# alerts and watchlists take new fields freely; new strings are exact-match keywords, not analysed text
STRINGS_AS_KEYWORDS = [
    {"strings": {"match_mapping_type": "string", "mapping": {"type": "keyword", "ignore_above": 2048}}}
]


def _norm_field() -> dict[str, Any]:
    # offsets in the postings make the unified highlighter fast on long bodies
    return {
        "type": "text",
        "analyzer": "zh_bigram",
        "index_options": "offsets",
        "fields": {"uni": {"type": "text", "analyzer": "standard", "index_options": "offsets"}},
    }


def _tokens_field() -> dict[str, Any]:
    # no whitespace *tokenizer* in this distribution, only the analyzer: tokens are lower-cased in Python
    return {"type": "text", "analyzer": "whitespace"}


MAPPINGS: dict[str, dict[str, Any]] = {
    "documents": {
        "dynamic": False,  # fields added to Document later stay in _source until mapped
        "properties": {
            "id": KEYWORD,
            "url": KEYWORD,
            "site_id": KEYWORD,
            "agency": KEYWORD,
            "agencies": KEYWORD,
            "column": KEYWORD,
            "column_type": KEYWORD,
            "kind": KEYWORD,
            "source_type": KEYWORD,
            "date_source": KEYWORD,
            "doc_number": KEYWORD,
            "interprets": KEYWORD,
            "related_urls": KEYWORD,
            "title": {
                "type": "text",
                "analyzer": "standard",
                "fields": {"raw": {"type": "keyword", "ignore_above": 512}},
            },
            "body": {"type": "text", "index": False},
            "title_norm": _norm_field(),
            "body_norm": _norm_field(),
            "title_tokens": _tokens_field(),
            "body_tokens": _tokens_field(),
            "published_at": DATE,
            "fetched_at": DATE,
            "indexed_at": DATE,
            "topic_ids": KEYWORD,
            "topics": {"properties": {"id": KEYWORD, "score": {"type": "float"}}},
            "sentiment": KEYWORD,  # v2: the tone label (v1 held the lexicon's score here)
            "sentiment_score": {"type": "float"},
            "attachments": {"properties": {"name": KEYWORD, "url": KEYWORD}},
            "event_id": KEYWORD,
            # the fingerprint events/ joins later reposts against: MinHash and stated numbers (stored, not searched)
            "event_minhash": {"type": "binary"},
            "event_numbers": {"type": "keyword", "index": False, "doc_values": False},
        },
    },
    "snapshots": {
        "dynamic": False,
        "properties": {
            "id": KEYWORD,
            "site_id": KEYWORD,
            "agency": KEYWORD,
            "column": KEYWORD,
            "column_type": KEYWORD,
            "list_url": KEYWORD,
            "crawled_at": DATE,
            "http_status": {"type": "integer"},
            "response_ms": {"type": "float"},
            "error": KEYWORD,
            "item_count": {"type": "integer"},
            "newest_date": DATE,
            "is_home": {"type": "boolean"},
            "relisted": {"type": "boolean"},  # a 304 listing: its items are an earlier snapshot's (measures skip them)
            # nested so freshness aggregates list dates per column in ES (4x faster at 1M docs than
            # reading items from _source); the title stays a keyword for evidence, not searched
            "items": {
                "type": "nested",
                "dynamic": False,
                "properties": {
                    "url": KEYWORD,
                    "list_date": DATE,
                    "title": {"type": "keyword", "ignore_above": 512},
                },
            },
        },
    },
    "alerts": {
        "dynamic": True,
        "dynamic_templates": STRINGS_AS_KEYWORDS,
        "properties": {
            "key": KEYWORD,
            "dedupe_key": KEYWORD,
            "week": KEYWORD,
            "status": KEYWORD,
            "channel": KEYWORD,
            "site_id": KEYWORD,
            "agency": KEYWORD,
            "rule": KEYWORD,
            "created_at": DATE,
            "sent_at": DATE,
            "attempts": {"type": "integer"},
            "message": {"type": "text", "index": False},
        },
    },
    "watchlists": {
        "dynamic": True,
        "dynamic_templates": STRINGS_AS_KEYWORDS,
        "properties": {
            "id": KEYWORD,
            "name": KEYWORD,
            "query": KEYWORD,
            "owner": KEYWORD,
            "channel": KEYWORD,
            "status": KEYWORD,
            "created_at": DATE,
            "updated_at": DATE,
            "filters": {"type": "object", "dynamic": True},
        },
    },
    # one record per event (events/store.py), _id = event_id; daily_counts and published_times are read
    # whole to compute growth at read time, never searched
    "events": {
        "dynamic": False,
        "properties": {
            "event_id": KEYWORD,
            "title": {
                "type": "text",
                "analyzer": "standard",
                "fields": {"raw": {"type": "keyword", "ignore_above": 512}},
            },
            "first_doc_id": KEYWORD,
            "first_url": KEYWORD,
            "first_source": KEYWORD,
            "first_published_at": DATE,
            "last_published_at": DATE,
            "doc_ids": KEYWORD,
            "doc_count": {"type": "integer"},
            "sources": KEYWORD,
            "source_count": {"type": "integer"},
            "daily_counts": {"type": "object", "enabled": False},
            "published_times": {"type": "date"},
            "topics": KEYWORD,
            "agencies": KEYWORD,
            "negative_count": {"type": "integer"},
            "sentiment": KEYWORD,
            "updated_at": DATE,
        },
    },
    # the measures' reports, computed once per run (measures/stored.py); the body is read whole, never searched
    "reports": {
        "dynamic": False,
        "properties": {
            "name": KEYWORD,
            "key": KEYWORD,
            "as_of": DATE,
            "computed_at": DATE,
            "inputs": KEYWORD,
            "body": {"type": "text", "index": False},
        },
    },
    # the dashboard's accounts (dashboards/accounts.py): _id = name; times in epoch ms where compared
    "users": {
        "dynamic": False,
        "properties": {
            "name": KEYWORD,
            "role": KEYWORD,
            "password_hash": STORED_ONLY,
            "created_at": DATE,
            "updated_at": DATE,
            "last_login_at": DATE,
            "sessions_after_ms": LONG,
            "failed": {"type": "integer"},
            "failed_since_ms": LONG,
            "locked_until_ms": LONG,
        },
    },
    # login sessions (dashboards/sessions.py): _id = SHA-256 of the session token, never the token
    "sessions": {
        "dynamic": False,
        "properties": {"user": KEYWORD, "created_ms": LONG, "seen_ms": LONG, "expires_ms": LONG, "address": KEYWORD},
    },
    # who did what (dashboards/audit.py): logins, exports, watchlist and account changes
    "audit": {
        "dynamic": False,
        "properties": {
            "at": DATE,
            "actor": KEYWORD,
            "action": KEYWORD,
            "target": KEYWORD,
            "outcome": KEYWORD,
            "address": KEYWORD,
            "detail": {"type": "keyword", "ignore_above": 2048},
        },
    },
}


# what a record of an older version becomes in the current one (migrate)
UPGRADES = {"documents": upgrade_record}


def index_name(kind: str, version: int | None = None) -> str:
    """The concrete index behind the alias, e.g. `zwgk-documents-v1`."""
    return f"{alias(kind)}-v{version or VERSIONS[kind]}"


def template_body(kind: str) -> dict[str, Any]:
    # one replica once a second data node joins, none on a single node (which then stays green); the
    # cluster adjusts it as nodes come and go, so no step has to count nodes
    settings_body: dict[str, Any] = {"number_of_shards": 1, "auto_expand_replicas": REPLICAS, "refresh_interval": "1s"}
    if kind == "documents":
        settings_body["analysis"] = ANALYSIS
    return {
        "index_patterns": [f"{alias(kind)}-v*"],
        "priority": TEMPLATE_PRIORITY,
        "version": VERSIONS[kind],
        "template": {"settings": settings_body, "mappings": MAPPINGS[kind]},
        "_meta": {"owner": "zwgk-monitor", "kind": kind},
    }


def ensure_indices(client: Elasticsearch, kinds: tuple[str, ...] = KINDS) -> dict[str, str]:
    """Put the templates and create each versioned index with its alias when missing. Idempotent."""
    result, existing = {}, []
    for kind in kinds:
        client.indices.put_index_template(name=alias(kind), **template_body(kind))
        name = index_name(kind)
        if client.indices.exists_alias(name=alias(kind)):
            if current_index(client, kind) != name:  # an older version's index: its mapping would refuse records
                log.warning("%s points at %s; migrating to %s", alias(kind), current_index(client, kind), name)
                migrate(client, kind)
            add_new_fields(client, kind, name)
            existing.append(alias(kind))
        else:
            try:
                client.indices.create(index=name, aliases={alias(kind): {"is_write_index": True}})
            except ApiError as exc:
                if exc.error != "resource_already_exists_exception":
                    raise
                client.indices.put_alias(index=name, name=alias(kind), is_write_index=True)
        result[kind] = name
    if existing:  # indices made before the template said so (or by an older version) get replicas too
        client.indices.put_settings(index=",".join(existing), settings={"index.auto_expand_replicas": REPLICAS})
    return result


def add_new_fields(client: Elasticsearch, kind: str, index: str) -> list[str]:
    """Map the fields this version added to the kind's mapping on `index`, made before them (adding a field
    needs no new index version); returns their names. Until then records carry them unsearched (dynamic off)."""
    mapped = client.indices.get_mapping(index=index)[index]["mappings"].get("properties", {})
    missing = {k: v for k, v in MAPPINGS[kind].get("properties", {}).items() if k not in mapped}
    if missing:
        client.indices.put_mapping(index=index, properties=missing)
        log.info("%s: mapped the new fields %s", index, ", ".join(missing))
    return list(missing)


def current_index(client: Elasticsearch, kind: str) -> str | None:
    """The concrete index the alias points at (None when not created yet)."""
    try:
        return next(iter(client.indices.get_alias(name=alias(kind))))
    except NotFoundError:
        return None


def migrate(client: Elasticsearch, kind: str) -> str:
    """Copy the alias's index into the current version's index and swap the alias atomically.

    This distribution has no reindex module, so the copy is scan + bulk from Python. The old index
    is kept (delete it once the new one is checked).
    """
    old = current_index(client, kind)
    new = index_name(kind)
    if old == new:
        return new
    client.indices.put_index_template(name=alias(kind), **template_body(kind))
    if not client.indices.exists(index=new):
        client.indices.create(index=new)
    if old:
        upgrade = UPGRADES.get(kind, lambda source: source)
        actions = (
            {"_index": new, "_id": hit["_id"], "_source": upgrade(hit["_source"])}
            for hit in helpers.scan(client, index=old, query={"query": {"match_all": {}}})
        )
        helpers.bulk(client, actions, chunk_size=1000)
    client.indices.refresh(index=new)
    swap = [{"add": {"index": new, "alias": alias(kind), "is_write_index": True}}]
    if old:
        swap.insert(0, {"remove": {"index": old, "alias": alias(kind)}})
    client.indices.update_aliases(actions=swap)
    log.info("migrated %s: %s → %s", alias(kind), old, new)
    return new


def drop_indices(client: Elasticsearch) -> list[str]:
    """Delete this prefix's indices and templates (tests and `zwgk es reset`); names resolved first,
    because wildcard deletes are refused by default."""
    dropped = []
    for kind in KINDS:
        found = client.indices.get(index=f"{alias(kind)}-v*", allow_no_indices=True, expand_wildcards="all")
        for name in found:
            client.indices.delete(index=name)
            dropped.append(name)
        try:
            client.indices.delete_index_template(name=alias(kind))
        except NotFoundError:
            pass
    return dropped


# The snapshots mapping the measures are fastest with (the one in MAPPINGS): items as nested objects, so list dates and URLs
# are aggregated inside Elasticsearch. With items stored but not indexed (an older deployment's mapping) the
# measures read the window's snapshots instead — same answers, slower on large data.
ITEMS_NESTED = {"type": "nested", "dynamic": False,
                "properties": {"url": {"type": "keyword"}, "list_date": {"type": "date"}, "title": {"type": "keyword",
                                                                                                     "ignore_above": 512}}}
ITEMS_STORED = {"type": "object", "enabled": False}


def recreate_snapshots(client: Elasticsearch, items: dict[str, Any] = ITEMS_NESTED) -> str:
    """Drop this prefix's (empty or disposable) snapshots index and recreate it with this mapping of items.

    For tests and benchmarks of the measures' two paths; production mappings are MAPPINGS.
    """
    name = index_name("snapshots")
    body = template_body("snapshots")["template"]
    mappings = {**body["mappings"], "properties": {**body["mappings"]["properties"], "items": items}}
    if client.indices.exists(index=name):
        client.indices.delete(index=name)
    client.indices.create(index=name, settings=body["settings"], mappings=mappings,
                          aliases={alias("snapshots"): {"is_write_index": True}})
    return name
