"""Secure clusters (issue 18 item 4): https with basic auth or an API key and a private CA, through the
one client factory, against a TLS front started here (nginx from Debian: TLS + basic auth + API key
in front of the session's node). Secrets never reach a message, a log line or a repr."""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

USER, PASSWORD = "zwgk-ops", "S3cret-pa55word-xyz"
API_KEY = base64.b64encode(b"key-id-1:Api-Key-s3cret-456").decode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_ca_and_cert(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost signed by it: (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "zwgk test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem))
    paths[2].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


def _nginx_conf(folder: Path, port: int, backend: str, cert: Path, key: Path) -> Path:
    """TLS on `port`; a valid API key passes, anything else needs basic auth; then on to the node."""
    sha = base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()
    (folder / "htpasswd").write_text(f"{USER}:{{SHA}}{sha}\n")
    conf = folder / "nginx.conf"
    conf.write_text(f"""
daemon off;
master_process off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fcgi; uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
    map $http_authorization $zwgk_realm {{ default "zwgk"; "ApiKey {API_KEY}" off; }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        client_max_body_size 100m;
        location / {{
            auth_basic $zwgk_realm;
            auth_basic_user_file {folder}/htpasswd;
            proxy_set_header Authorization "";
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass {backend};
        }}
    }}
}}
""")
    return conf


@pytest.fixture(scope="module")
def tls_front(es, tmp_path_factory):
    """nginx on a free port: https with our CA's certificate, basic auth or API key, in front of the node."""
    from index import node

    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
    if not nginx:
        pytest.skip("nginx is not installed (apt-get install nginx-light): no TLS front to test against")
    folder = tmp_path_factory.mktemp("tls-front")
    ca, cert, key = _write_ca_and_cert(folder)
    port = _free_port()
    backend = node.url().split(",")[0]
    conf = _nginx_conf(folder, port, f"{urlsplit(backend).scheme}://{urlsplit(backend).netloc}", cert, key)
    proc = subprocess.Popen([nginx, "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"nginx did not start: {proc.stderr.read()}")
        time.sleep(0.1)
    yield {"url": f"https://127.0.0.1:{port}", "ca": str(ca), "port": port}
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def secure_env(monkeypatch):
    """No connection setting leaks in from the session; each test sets its own."""
    for name in ("ES_URL", "ZWGK_ES_USER", "ZWGK_ES_PASSWORD", "ZWGK_ES_API_KEY", "ZWGK_ES_CA_CERTS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _zwgk(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zwgk.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_password_in_the_url_with_the_ca(tls_front, secure_env):
    from index import node
    from zwgk.es import get_client

    secure_env.setenv("ES_URL", f"https://{USER}:{PASSWORD}@127.0.0.1:{tls_front['port']}")
    secure_env.setenv("ZWGK_ES_CA_CERTS", tls_front["ca"])
    client = get_client()
    assert client.cluster.health()["status"] in ("green", "yellow")
    assert PASSWORD not in repr(client)
    h = node.health()
    assert h.status in ("green", "yellow") and h.url == tls_front["url"]


def test_user_and_password_from_the_environment(tls_front, secure_env, es_prefix, tmp_path):
    """The CLI's index and search through the front: credentials from ZWGK_ES_USER/ZWGK_ES_PASSWORD."""
    from zwgk.document import Document

    env = {**os.environ, "ES_URL": tls_front["url"], "ZWGK_ES_USER": USER, "ZWGK_ES_PASSWORD": PASSWORD,
           "ZWGK_ES_CA_CERTS": tls_front["ca"], "ZWGK_DEAD_LETTER_DIR": str(tmp_path / "dead")}
    path = tmp_path / "documents.jsonl"
    doc = Document(url="http://secure.example/1.html", title="关于政务公开安全检查的通知", body="检查安排。",
                   published_at="2026-05-06T09:00:00+08:00", agency="北京市教育委员会")
    path.write_text(doc.to_json() + "\n", encoding="utf-8")
    out = _zwgk("index", "--in", str(path), env=env)
    assert out.returncode == 0 and "indexed 1, failed 0" in out.stdout, out.stderr
    found = _zwgk("search", "安全检查", env=env)
    assert found.returncode == 0 and doc.url in found.stdout, found.stderr
    status = _zwgk("es", "status", env=env)
    assert status.returncode == 0 and "node zwgk-node" in status.stdout, status.stderr
    assert PASSWORD not in status.stdout + status.stderr + out.stdout + out.stderr


def test_api_key(tls_front, secure_env):
    from zwgk.es import get_client

    secure_env.setenv("ES_URL", tls_front["url"])
    secure_env.setenv("ZWGK_ES_CA_CERTS", tls_front["ca"])
    secure_env.setenv("ZWGK_ES_API_KEY", API_KEY)
    assert get_client().cluster.health()["status"] in ("green", "yellow")
    secure_env.setenv("ZWGK_ES_USER", USER)  # two kinds of credentials: refused up front, in one line
    out = _zwgk("es", "status", env=dict(os.environ))
    assert out.returncode == 1 and "keep one of them" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_untrusted_certificate_says_to_set_the_ca(tls_front, secure_env):
    secure_env.setenv("ES_URL", f"https://{USER}:{PASSWORD}@127.0.0.1:{tls_front['port']}")
    out = _zwgk("es", "status", env=dict(os.environ))
    assert out.returncode == 1 and "ZWGK_ES_CA_CERTS" in out.stderr and "certificate verify failed" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and PASSWORD not in out.stderr + out.stdout


@pytest.mark.parametrize("credentials", ["password", "api_key"])
def test_refused_credentials_leak_no_secret(tls_front, secure_env, credentials, caplog):
    """A wrong password or API key: one clear line from the CLI; no secret in it, the logs or a repr."""
    from elasticsearch import AuthenticationException

    from zwgk.es import get_client

    secure_env.setenv("ZWGK_ES_CA_CERTS", tls_front["ca"])
    secret = "wrong-" + (PASSWORD if credentials == "password" else API_KEY)
    if credentials == "password":
        secure_env.setenv("ES_URL", f"https://{USER}:{secret}@127.0.0.1:{tls_front['port']}")
    else:
        secure_env.setenv("ES_URL", tls_front["url"])
        secure_env.setenv("ZWGK_ES_API_KEY", secret)
    out = _zwgk("es", "status", env=dict(os.environ))
    assert out.returncode == 1 and "refused the credentials (HTTP 401)" in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    index_out = _zwgk("search", "政务", env=dict(os.environ))
    assert index_out.returncode == 1 and len(index_out.stderr.strip().splitlines()) == 1, index_out.stderr

    caplog.set_level(logging.DEBUG)
    client = get_client(max_retries=1)
    with pytest.raises(AuthenticationException) as info:
        client.cluster.health()
    shown = [out.stdout, out.stderr, index_out.stdout, index_out.stderr, caplog.text, str(info.value),
             repr(info.value), repr(client)]
    for text in shown:
        assert secret not in text and secret[6:] not in text
