"""Tone of news (negative / neutral / positive): the labelled real news, the fitted head's data hygiene, and
its held-out quality beside the lexicon baselines from PyPI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nlp.data.build_realpages import HOLDOUT_CHECK, split_of
from nlp.tone import TONE_SET, TONES, load_tone_set


def test_tone_set_shape():
    items = load_tone_set()
    assert len(items) >= 300 and len({it["url"] for it in items}) == len(items)
    assert all(it["source"] == "pages" and it["url"].startswith("http") and it["title"] for it in items)
    assert all(it["split"] == split_of(it["url"]) for it in items)  # the URL hash, as for the topic sets
    for split in ("dev", "heldout"):
        counts = {t: sum(it["split"] == split and it["sentiment"] == t for it in items) for t in TONES}
        assert min(counts.values()) >= 30, (split, counts)
    assert {it["script"] for it in items} == {"simplified", "traditional"}


@pytest.mark.skipif(not HOLDOUT_CHECK.exists(), reason="the shared holdout check is not on this machine")
def test_tone_set_holds_no_reserved_page():
    out = subprocess.run([sys.executable, str(HOLDOUT_CHECK), str(TONE_SET)], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("0 reserved"), out.stdout + out.stderr


def test_no_held_out_news_reaches_the_tone_head(classifier, monkeypatch, tmp_path):
    """The head is fitted on the dev split alone (fitted afresh here: no cached weights)."""
    from nlp import tone, topics

    monkeypatch.setattr(topics, "_cache_dir", lambda: tmp_path)
    fitted: list[str] = []
    real_fit = tone.ToneModel.fit.__func__

    def spy(cls, titles, *args, **kwargs):
        fitted.extend(titles)
        return real_fit(cls, titles, *args, **kwargs)

    monkeypatch.setattr(tone.ToneModel, "fit", classmethod(spy))
    model = tone.load_tone_model(classifier.embedder)
    assert model is not None and list(tmp_path.glob("tone-model-*.npy"))
    assert sorted(fitted) == sorted(it["title"] for it in load_tone_set("dev"))
    assert not set(fitted) & {it["title"] for it in load_tone_set("heldout")}


@pytest.mark.slow
def test_tone_head_is_ahead_of_the_lexicon_baselines(classifier, capsys):
    """`zwgk nlp eval --tone --json`: the held-out table, the head ahead of every baseline."""
    from zwgk.cli import main

    assert main(["nlp", "eval", "--tone", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    systems = result["systems"]
    assert set(systems) == {"tone head", "lexicon", "cnsenti", "snownlp", "majority"}
    assert result["documents"] == len(load_tone_set("heldout"))
    best_baseline = max(s["macro_f1"] for name, s in systems.items() if name != "tone head")
    assert systems["tone head"]["macro_f1"] > best_baseline, systems
    assert all(set(s["per_tone"]) == set(TONES) for s in systems.values())
