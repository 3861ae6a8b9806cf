"""The weekly alert of a demo-like week through a real SMTP server and a real robot receiver: an HTML part with
tables and links (agency pages, evidence, the full report) beside the text part, the 通报 and Excel attached;
the DingTalk and WeCom messages within their size limits, with the link to the full report."""

from __future__ import annotations

import io
import re

import docx
import openpyxl

from alerts.channels import DINGTALK_MAX_BYTES, WECOM_MAX_BYTES, DingTalkChannel, EmailChannel, WeComChannel
from alerts.weekly import build_weekly_alert
from pipeline.alerting import run_weekly_alert
from tests.fixtures import alert_sinks
from tests.fixtures.weekly import AS_OF, DASHBOARD, week  # noqa: F401 - shared fixture

smtp_sink = alert_sinks.smtp_sink  # shared fixture
webhook_sink = alert_sinks.webhook_sink  # shared fixture
ENGLISH_STATUS = re.compile(r"\b(pass|fail|not_evaluated|no_evidence|overdue|late|on_time|missed)\b")


def test_email_is_html_and_text_with_links_and_attachments(es, week, smtp_sink, webhook_sink, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ZWGK_DASHBOARD_URL", DASHBOARD)
    mail_channel = EmailChannel(smtp_sink.host, smtp_sink.port, "zwgk@example.org", ["ops@example.org"])
    robots = [DingTalkChannel(webhook_sink.url + "/robot/send?access_token=t"),
              WeComChannel(webhook_sink.url + "/cgi-bin/webhook/send?key=k")]
    out = run_weekly_alert(es, AS_OF, channels=[mail_channel, *robots], sleep=lambda s: None)
    assert sorted(out.sent) == ["dingtalk", "email", "wecom"]

    mail = smtp_sink.messages[0]
    assert mail.get_content_type() == "multipart/mixed"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    d = week.digest
    assert d["summary_text"] in text and d["summary_text"] in html
    assert "<table" in html and html.count("<tr>") > 5
    veto = d["veto"][0]
    assert veto["finding"] in html and f'href="{veto["evidence"][0]["url"]}"' in html
    assert veto["evidence"][0]["url"] in text
    overdue = d["overdue"][0]
    assert f'href="{overdue["agency_url"]}"' in html and overdue["agency_url"].startswith(DASHBOARD + "/agencies?agency=")
    assert f'href="{d["report_url"]}"' in html and d["report_url"].startswith(DASHBOARD)
    for part in (text, html, mail["Subject"]):
        assert not ENGLISH_STATUS.findall(part.replace(d["report_url"], "")), part[:200]
        assert "publish:" not in part and "weekly_update" not in part and "@5.1.1" not in part
    assert d["not_judged"][0]["line"] in text  # the rows that cannot be judged: one line per reason, at the end
    assert text.index("暂无法评估") > text.index("逾期未办")

    files = {p.get_filename(): p for p in mail.iter_attachments()}
    assert set(files) == {"tongbao-2026-W47.docx", "weekly-2026-W47.xlsx"}
    tongbao = docx.Document(io.BytesIO(files["tongbao-2026-W47.docx"].get_content()))
    assert d["title"] in "\n".join(p.text for p in tongbao.paragraphs)
    book = openpyxl.load_workbook(io.BytesIO(files["weekly-2026-W47.xlsx"].get_content()))
    assert book.sheetnames[0] == "单项否决指标未达标网站" and "freshness_sites" in book.sheetnames
    assert book.worksheets[0].max_row == len(d["veto"]) + 1

    ding = webhook_sink.bodies("/robot/send")[0]["markdown"]["text"]
    wecom = webhook_sink.bodies("/cgi-bin/webhook/send")[0]["markdown"]["content"]
    assert len(ding.encode()) <= DINGTALK_MAX_BYTES and len(wecom.encode()) <= WECOM_MAX_BYTES
    for md in (ding, wecom):
        assert f"[查看完整报告]({d['report_url']})" in md and "已截断" not in md


def test_robot_messages_fit_however_long_the_week(week):  # noqa: F811
    d = dict(week.digest)
    d["stale_columns"] = [dict(d["stale_columns"][0], column=f"很长的栏目名称{i}" * 3) for i in range(400)]
    d["overdue"] = d["overdue"] * 200
    message = build_weekly_alert(d)
    assert len(f"**{message.subject}**\n{message.markdown}".encode()) <= WECOM_MAX_BYTES
    assert message.markdown.endswith(f"[查看完整报告]({d['report_url']})")
    assert "…及另外" in message.text and message.text.count("很长的栏目名称") <= 10 * 3
