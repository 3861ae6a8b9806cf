"""Negative-news spikes per agency against its own 28-day baseline, read from the real Elasticsearch node."""

from __future__ import annotations

from datetime import timedelta

import pytest

from measures.spikes import MIN_SCALE, negative_trend, robust_z, spikes
from tests.fixtures.spikes import AS_OF, CIVIL, EVENT, TRAFFIC, index_history


def test_robust_z_uses_median_and_mad_with_a_floor():
    z, m, mad = robust_z(9, [1, 2, 3, 2, 1, 2, 3])
    assert (m, mad) == (2, 1) and z == pytest.approx(7 / 1.4826)
    assert robust_z(4, [0] * 28) == (4 / MIN_SCALE, 0, 0)  # a quiet agency: MAD 0, the floor decides
    assert robust_z(5, [5] * 28)[0] == 0  # flat: nothing unusual


def test_a_jump_is_a_spike_with_its_news_and_events_as_evidence(es, es_prefix):
    urls = index_history(es, last_day=7)
    found = spikes(AS_OF, client=es)
    assert [(s.agency, s.day, s.count) for s in found] == [(TRAFFIC, AS_OF.isoformat(), 7)]
    s = found[0]
    assert (s.median, s.baseline_days) == (1, 28) and s.z >= 3.5
    assert [e["url"] for e in s.evidence] == urls  # the day's negative news, earliest first
    assert s.event_ids == [EVENT]
    assert spikes(AS_OF - timedelta(days=1), client=es) == []  # the day before was ordinary


def test_a_flat_series_raises_nothing(es, es_prefix):
    index_history(es, last_day=1)  # 交通 stays at its usual 0-2; 民政 is flat at 1-2 every day
    assert spikes(AS_OF, days=29, client=es) == []


def test_small_counts_never_spike(es, es_prefix):
    index_history(es, last_day=2)  # above 交通's median of 1, but under the minimum of 3 items
    assert spikes(AS_OF, client=es) == []


def test_negative_trend_gives_every_day_with_its_share_and_spike_mark(es, es_prefix):
    index_history(es, last_day=7)
    trend = negative_trend(TRAFFIC, 7, AS_OF, client=es)
    assert [t["day"] for t in trend] == [(AS_OF - timedelta(days=6 - i)).isoformat() for i in range(7)]
    assert trend[-1] == {"day": AS_OF.isoformat(), "news": 10, "negative": 7, "share": 0.7, "spike": True}
    assert not any(t["spike"] for t in trend[:-1])
    assert [t["negative"] for t in negative_trend(CIVIL, 2, AS_OF, client=es)] == [2, 1]
    assert negative_trend("无此机构", 3, AS_OF, client=es) == [
        {"day": (AS_OF - timedelta(days=2 - i)).isoformat(), "news": 0, "negative": 0, "share": None, "spike": False}
        for i in range(3)]
