"""Segmentation runs on normalised text: the traditional seed sentence segments like the simplified one."""

from __future__ import annotations

from zwgk.text import segment

SEED_TRADITIONAL = "各區政府、市政府各部門負責落實權力清單和責任清單公開"
SEED_SIMPLIFIED = "各区政府、市政府各部门负责落实权力清单和责任清单公开"


def test_traditional_seed_segments_like_simplified():
    assert segment(SEED_TRADITIONAL) == segment(SEED_SIMPLIFIED)
    assert "权力清单" in segment(SEED_TRADITIONAL)
    assert "负责落" not in segment(SEED_TRADITIONAL)  # raw jieba on traditional text gives 負責落/實權力


def test_classifier_reads_both_scripts_alike(classifier):
    from zwgk.document import Document

    simp = Document(url="https://a.invalid/1", title="市民政局公开城乡低保对象和特困人员救助供养情况",
                    body="本月全市城乡低保对象人数和资金支出情况如下。")
    trad = Document(url="https://a.invalid/2", title="市民政局公開城鄉低保對象和特困人員救助供養情況",
                    body="本月全市城鄉低保對象人數和資金支出情況如下。")
    classifier.classify([simp, trad])
    assert [t.id for t in simp.topics][:1] == [t.id for t in trad.topics][:1] == ["3.2"]
