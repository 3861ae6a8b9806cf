"""Where alerts go: SMTP email, a generic JSON webhook, DingTalk and WeCom group robots.

Secrets and addresses come from the environment (names listed in rules.yaml → alerts.channels);
`channels_from_env()` builds every channel whose variables are set. A channel's `send` raises
DeliveryError on any failure, so the caller can retry and record it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol


class DeliveryError(RuntimeError):
    """A channel could not deliver the message (message says why, without secrets)."""


@dataclass
class Attachment:
    """A file sent with the e-mail (the 通报 .docx, the .xlsx); kept base64 in the alert record for retries."""

    filename: str
    content_type: str
    data: bytes

    def to_dict(self) -> dict[str, Any]:
        return {"filename": self.filename, "content_type": self.content_type,
                "data": base64.b64encode(self.data).decode("ascii")}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Attachment:
        return cls(d["filename"], d["content_type"], base64.b64decode(d["data"]))


@dataclass
class AlertMessage:
    """One alert in the forms channels need: a subject, plain text, markdown (robots, within their size limits),
    HTML (e-mail), structured data and attachments (e-mail)."""

    subject: str
    text: str
    markdown: str
    data: dict[str, Any] = field(default_factory=dict)
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    # set per delivery (alerts.delivery), not stored with the message: the same on every resend of one delivery,
    # so a receiver recognises the copy a crash between sending and recording makes it get again
    # (the e-mail's Message-ID, the webhook's Idempotency-Key and "id")
    delivery_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "text": self.text, "markdown": self.markdown, "data": self.data,
                "html": self.html, "attachments": [a.to_dict() for a in self.attachments]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AlertMessage:
        return cls(subject=d.get("subject", ""), text=d.get("text", ""), markdown=d.get("markdown", ""),
                   data=dict(d.get("data") or {}), html=d.get("html", ""),
                   attachments=[Attachment.from_dict(a) for a in d.get("attachments") or []])


class Channel(Protocol):
    name: str  # stable key used in delivery records (e.g. "email", "dingtalk", "webhook:1a2b3c4d")

    def send(self, message: AlertMessage) -> None: ...


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


@dataclass
class EmailChannel:
    host: str
    port: int
    sender: str
    to: list[str]
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0
    name: str = "email"

    def send(self, message: AlertMessage) -> None:
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.to)
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = f"<{message.delivery_id}@zwgk-monitor>" if message.delivery_id else make_msgid(
            domain="zwgk-monitor")
        mail.set_content(message.text, charset="utf-8")
        if message.html:
            mail.add_alternative(message.html, subtype="html", charset="utf-8")
        for att in message.attachments:
            maintype, _, subtype = att.content_type.partition("/")
            mail.add_attachment(att.data, maintype=maintype, subtype=subtype, filename=att.filename)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                refused = smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"smtp {self.host}:{self.port}: {exc.__class__.__name__}: {exc}") from exc
        if refused:
            raise DeliveryError(f"smtp refused recipients: {', '.join(refused)}")


def _post_json(url: str, payload: dict[str, Any], timeout: float, check_errcode: bool,
               headers: Mapping[str, str] | None = None) -> None:
    """POST JSON; a non-2xx status, a network error or a robot's non-zero errcode is a DeliveryError."""
    req = urllib.request.Request(url, data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                                 headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
                                 method="POST")
    where = urllib.parse.urlsplit(url)
    shown = f"{where.scheme}://{where.netloc}{where.path}"  # never log query strings (robot tokens live there)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"POST {shown}: HTTP {exc.code}") from exc
    except (OSError, urllib.error.URLError) as exc:
        raise DeliveryError(f"POST {shown}: {getattr(exc, 'reason', exc)}") from exc
    if check_errcode and body:
        try:
            answer = json.loads(body)
        except ValueError:
            return
        if isinstance(answer, dict) and answer.get("errcode", 0) != 0:
            raise DeliveryError(f"POST {shown}: errcode {answer.get('errcode')} {answer.get('errmsg', '')}")


@dataclass
class WebhookChannel:
    """Generic JSON webhook: {"type", "subject", "text", "markdown", "data"}."""

    url: str
    timeout: float = 10.0
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.name or f"webhook:{_short_hash(self.url)}"

    def send(self, message: AlertMessage) -> None:
        payload = {"type": "zwgk.alert", "subject": message.subject, "text": message.text, "markdown": message.markdown,
                   "data": message.data}  # files stay in the e-mail: a webhook gets their names in data
        headers = {}
        if message.delivery_id:
            payload["id"] = message.delivery_id
            headers["Idempotency-Key"] = message.delivery_id
        _post_json(self.url, payload, self.timeout, check_errcode=False, headers=headers)


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    """DingTalk robot 加签: timestamp and sign = base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))."""
    ts = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"


@dataclass
class DingTalkChannel:
    url: str
    secret: str | None = None
    timeout: float = 10.0
    name: str = "dingtalk"

    def send(self, message: AlertMessage) -> None:
        url = dingtalk_signed_url(self.url, self.secret) if self.secret else self.url
        payload = {"msgtype": "markdown", "markdown": {"title": message.subject,
                                                      "text": _clip(message.markdown, DINGTALK_MAX_BYTES)}}
        _post_json(url, payload, self.timeout, check_errcode=True)


@dataclass
class WeComChannel:
    url: str
    timeout: float = 10.0
    name: str = "wecom"

    def send(self, message: AlertMessage) -> None:
        content = f"**{message.subject}**\n{message.markdown}"
        payload = {"msgtype": "markdown", "markdown": {"content": _clip(content, WECOM_MAX_BYTES)}}
        _post_json(self.url, payload, self.timeout, check_errcode=True)


# robot markdown limits: WeCom content 4096 bytes; DingTalk's message 20000 bytes (kept below for the JSON around it).
# The weekly alert's markdown is built to fit ROBOT_BUDGET with its link to the full report; _clip is the safety net.
WECOM_MAX_BYTES, DINGTALK_MAX_BYTES = 4096, 18000
ROBOT_BUDGET = 3800  # markdown body, so "**subject**\n" + body stays within WeCom's 4096


def _clip(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[: max_bytes - 20].decode("utf-8", errors="ignore") + "\n…（已截断）"


def channels_from_env(env: Mapping[str, str] | None = None, timeout: float = 10.0) -> list[Channel]:
    """Every channel whose environment variables are set (see rules.yaml → alerts.channels)."""
    env = os.environ if env is None else env
    out: list[Channel] = []
    if env.get("ZWGK_SMTP_HOST") and env.get("ZWGK_SMTP_TO"):
        out.append(EmailChannel(
            host=env["ZWGK_SMTP_HOST"], port=int(env.get("ZWGK_SMTP_PORT") or 25),
            sender=env.get("ZWGK_SMTP_FROM") or "zwgk-monitor@localhost",
            to=[a.strip() for a in env["ZWGK_SMTP_TO"].split(",") if a.strip()],
            user=env.get("ZWGK_SMTP_USER") or None, password=env.get("ZWGK_SMTP_PASSWORD") or None,
            starttls=(env.get("ZWGK_SMTP_STARTTLS") or "").lower() in ("1", "true", "yes"), timeout=timeout))
    for url in (env.get("ZWGK_WEBHOOK_URLS") or "").split(","):
        if url.strip():
            out.append(WebhookChannel(url.strip(), timeout=timeout))
    if env.get("ZWGK_DINGTALK_WEBHOOK"):
        out.append(DingTalkChannel(env["ZWGK_DINGTALK_WEBHOOK"], secret=env.get("ZWGK_DINGTALK_SECRET") or None,
                                   timeout=timeout))
    if env.get("ZWGK_WECOM_WEBHOOK"):
        out.append(WeComChannel(env["ZWGK_WECOM_WEBHOOK"], timeout=timeout))
    return out
