"""The project's own single Elasticsearch node: fetch the distribution from Maven Central, run, stop.

With ES_URL set nothing is started: that cluster is used as is. Otherwise the integ-test-zip
distribution is fetched once with Maven into settings.home()/es/dist, unpacked next to it and run on
127.0.0.1 with a 1 GB heap. Elasticsearch refuses to run as root, so as root the node runs as a
system user (`zwgk-es`) created once.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from zwgk import settings
from zwgk.es import local_url, port, url

ES_VERSION = "9.2.4"
ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
MIN_JAVA = 21  # Elasticsearch 9 needs Java 21+
SERVICE_USER = "zwgk-es"
HEAP = "1g"


class NodeError(RuntimeError):
    """The node could not be fetched, started or stopped; the message says why."""


@dataclass
class Health:
    url: str
    status: str  # green / yellow / red
    version: str | None
    cluster_name: str


# --- paths --------------------------------------------------------------------------------------


def es_home() -> Path:
    return settings.home() / "es"


def dist_dir() -> Path:
    return es_home() / "dist"


def _running_as_root() -> bool:
    return os.geteuid() == 0


SHARED_DIR = Path("/var/lib/zwgk-es")  # as root, when the service user cannot reach ZWGK_HOME


def _use_shared_dir() -> bool:
    return _running_as_root() and not _reachable_by_service_user(es_home())


def run_dir() -> Path:
    """This node's config, data, logs and pid file: home()/es/node, or SHARED_DIR/<hash of home> as root
    when the service user cannot reach home() (e.g. /root is 0700)."""
    if not _use_shared_dir():
        return es_home() / "node"
    digest = hashlib.sha1(str(settings.home().resolve()).encode()).hexdigest()[:8]
    return SHARED_DIR / digest


def _reachable_by_service_user(path: Path) -> bool:
    """True when every ancestor of path lets 'other' users traverse it."""
    path = path.resolve()
    for parent in [path, *path.parents]:
        if parent.exists() and not os.stat(parent).st_mode & 0o001:
            return False
    return True


def install_dir() -> Path:
    """The unpacked distribution (read-only once unpacked; shared by every node in SHARED_DIR)."""
    base = SHARED_DIR if _use_shared_dir() else es_home()
    return base / f"elasticsearch-{ES_VERSION}"


def config_dir() -> Path:
    """ES_PATH_CONF of this node: a copy of the distribution's config plus our settings."""
    return run_dir() / "config"


def data_dir() -> Path:
    return run_dir() / "data"


def logs_dir() -> Path:
    return run_dir() / "logs"


def pid_file() -> Path:
    return run_dir() / "es.pid"


# --- JDK ----------------------------------------------------------------------------------------


def _java_major(java_home: Path) -> int | None:
    """Major Java version of a JDK folder, from its `release` file or `java -version`."""
    release = java_home / "release"
    text = ""
    if release.is_file():
        text = release.read_text(errors="replace")
        m = re.search(r'^JAVA_VERSION="([^"]+)"', text, re.M)
        text = m.group(1) if m else ""
    elif (java_home / "bin" / "java").is_file():
        try:
            out = subprocess.run(
                [str(java_home / "bin" / "java"), "-version"], capture_output=True, text=True, timeout=30
            )
            m = re.search(r'version "([^"]+)"', out.stderr + out.stdout)
            text = m.group(1) if m else ""
        except (OSError, subprocess.SubprocessError):
            return None
    if not text:
        return None
    parts = text.split(".")
    major = parts[1] if parts[0] == "1" and len(parts) > 1 else parts[0]
    return int(major) if major.isdigit() else None


def find_java() -> Path:
    """A JDK ≥ 21: ES_JAVA_HOME, JAVA_HOME, then the newest under /usr/lib/jvm."""
    for var in ("ES_JAVA_HOME", "JAVA_HOME"):
        value = os.environ.get(var)
        if value and (_java_major(Path(value)) or 0) >= MIN_JAVA:
            return Path(value)
    found: list[tuple[int, Path]] = []
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        for candidate in jvm.iterdir():
            if candidate.is_symlink() or not (candidate / "bin" / "java").exists():
                continue
            major = _java_major(candidate)
            if major and major >= MIN_JAVA:
                found.append((major, candidate))
    if not found:
        raise NodeError(
            f"Elasticsearch {ES_VERSION} needs Java {MIN_JAVA}+, none found in ES_JAVA_HOME, JAVA_HOME "
            "or /usr/lib/jvm. Install a JDK 21+ (e.g. apt-get install openjdk-21-jdk-headless) or set ES_URL."
        )
    return max(found)[1]


# --- fetch and install --------------------------------------------------------------------------


def fetch_distribution() -> Path:
    """The distribution zip, fetched once from Maven Central into home()/es/dist."""
    target = dist_dir() / f"elasticsearch-{ES_VERSION}.zip"
    if target.is_file() and zipfile.is_zipfile(target):
        return target
    if not shutil.which("mvn"):
        raise NodeError(
            "Maven (mvn) is needed to fetch Elasticsearch; install it (apt-get install maven) or set ES_URL"
        )
    dist_dir().mkdir(parents=True, exist_ok=True)
    cmd = ["mvn", "-q", "dependency:copy", f"-Dartifact={ARTIFACT}", f"-DoutputDirectory={dist_dir()}"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0 or not target.is_file():
        tail = "\n".join((out.stdout + out.stderr).strip().splitlines()[-15:])
        raise NodeError(f"fetching {ARTIFACT} with Maven failed:\n{tail}")
    return target


def _extract(zip_path: Path, dest: Path) -> None:
    """Unzip keeping the executable bits (zipfile drops them)."""
    tmp = dest.parent / (dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, tmp))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                path.chmod(mode)
    (tmp / dest.name).rename(dest)  # the zip holds one top folder elasticsearch-<version>
    tmp.rmdir()


def _write_config(config_path: Path) -> None:
    """Settings that must exist before the first start (else ES auto-configures TLS and passwords)."""
    http_port = port()
    transport = (
        f"{http_port + 100}-{http_port + 199}"
        if http_port + 199 <= 65535
        else f"{http_port - 199}-{http_port - 100}"
    )
    config = {
        "cluster.name": "zwgk",
        "node.name": "zwgk-node",
        "network.host": "127.0.0.1",
        "http.port": http_port,
        "transport.port": transport,
        "discovery.type": "single-node",
        "xpack.security.enabled": False,
        "cluster.routing.allocation.disk.threshold_enabled": False,
        "path.data": str(data_dir()),
        "path.logs": str(logs_dir()),
    }
    lines = [f"{k}: {json.dumps(v)}" for k, v in config.items()]
    (config_path / "elasticsearch.yml").write_text(
        "# written by zwgk (index/node.py) before every start\n" + "\n".join(lines) + "\n"
    )
    (config_path / "jvm.options.d").mkdir(exist_ok=True)
    (config_path / "jvm.options.d" / "zwgk-heap.options").write_text(f"-Xms{HEAP}\n-Xmx{HEAP}\n")


def install() -> Path:
    """Fetch and unpack once; (re)write the config. Returns the install folder."""
    target = install_dir()
    if not (target / "bin" / "elasticsearch").is_file():
        zip_path = fetch_distribution()
        target.parent.mkdir(parents=True, exist_ok=True)
        _extract(zip_path, target)
        if _running_as_root():
            _ensure_service_user()
            _chown_tree(target, SERVICE_USER)
    for d in (data_dir(), logs_dir()):
        d.mkdir(parents=True, exist_ok=True)
    if not (config_dir() / "jvm.options").is_file():
        shutil.copytree(target / "config", config_dir(), dirs_exist_ok=True)
    _write_config(config_dir())
    if _running_as_root():
        _ensure_service_user()
        _chown_tree(run_dir(), SERVICE_USER)
    return target


def _ensure_service_user() -> None:
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        out = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
            capture_output=True,
            text=True,
        )
        if out.returncode not in (0, 9):  # 9: created meanwhile
            raise NodeError(f"could not create system user {SERVICE_USER}: {out.stderr.strip()}") from None


def _chown_tree(root: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, entry.pw_uid, entry.pw_gid)
        for name in filenames + dirnames:
            os.lchown(os.path.join(dirpath, name), entry.pw_uid, entry.pw_gid)


# --- health -------------------------------------------------------------------------------------


def health(address: str | None = None, timeout: float = 5.0) -> Health | None:
    """Cluster health and version, or None when nothing answers. (GET / is absent from integ-test-zip.)"""
    from elastic_transport import TransportError
    from elasticsearch import ApiError, Elasticsearch

    address = (address or url()).rstrip("/")
    client = Elasticsearch(address, request_timeout=timeout, max_retries=0)
    try:
        h = client.cluster.health()
        nodes = client.nodes.info(node_id="_local", filter_path="nodes.*.version").get("nodes", {})
    except (ApiError, TransportError, OSError, ValueError):
        return None
    finally:
        client.close()
    version = next((n.get("version") for n in nodes.values()), None)
    return Health(address, h.get("status", "unknown"), version, h.get("cluster_name", ""))


def version_warning(server_version: str | None) -> str | None:
    """A warning when the server's major version differs from the Python client's."""
    import elasticsearch

    client_major = elasticsearch.__versionstr__.split(".")[0]
    if server_version and server_version.split(".")[0] != client_major:
        return (
            f"server is Elasticsearch {server_version} but the Python client is "
            f"{elasticsearch.__versionstr__}: install elasticsearch=={server_version.split('.')[0]}.* "
        )
    return None


def _read_pid() -> int | None:
    try:
        pid = int(pid_file().read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None  # a killed node leaves its pid file (and maybe a zombie) behind


def log_tail(lines: int = 25) -> str:
    """The last log lines without Java stack frames, so the exception headlines stay visible."""
    log = logs_dir() / "zwgk.log"
    if not log.is_file():
        return "(no log file yet)"
    kept = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if line.strip() and not line.lstrip().startswith(("at ", "...")) and "Suppressed:" not in line
    ]
    return "\n".join(kept[-lines:])


def wait_healthy(address: str, timeout: float = 120.0, pid: int | None = None) -> Health:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        h = health(address, timeout=2)
        if h and h.status in ("green", "yellow"):
            return h
        if pid is not None and not _alive(pid):
            raise NodeError(f"Elasticsearch exited during start-up. Last log lines:\n{log_tail()}")
        time.sleep(0.5)
    raise NodeError(
        f"Elasticsearch at {address} not healthy after {timeout:.0f}s. Last log lines:\n{log_tail()}"
    )


# --- lifecycle ----------------------------------------------------------------------------------


def start(timeout: float = 120.0) -> str:
    """Start the node (or check ES_URL's cluster) and wait until healthy. Idempotent. Returns a message."""
    external = settings.es_url()
    if external:
        h = health(external)
        if not h:
            raise NodeError(f"ES_URL={external} does not answer")
        return f"using ES_URL {external}: {h.status}, Elasticsearch {h.version}"
    address = local_url()
    h = health(address)
    running = _read_pid()
    if running and not h:
        raise NodeError(
            f"the project's node (pid {running}) runs but not at {address}: `zwgk es stop` it first"
        )
    if h and h.status in ("green", "yellow"):
        owner = "the project's node" if _read_pid() else "an Elasticsearch not started by zwgk"
        return f"already running at {address} ({owner}): {h.status}, Elasticsearch {h.version}"
    if h is None and _port_in_use(port()):
        raise NodeError(f"port {port()} is in use by something that is not a healthy Elasticsearch")
    java = find_java()
    home = install()
    pid_file().unlink(missing_ok=True)
    cmd = [str(home / "bin" / "elasticsearch"), "-d", "-p", str(pid_file())]
    if _running_as_root():
        cmd = ["runuser", "-u", SERVICE_USER, "--", *cmd]
    env = {**os.environ, "ES_JAVA_HOME": str(java), "ES_PATH_CONF": str(config_dir())}
    env.pop("ES_JAVA_OPTS", None)
    env.pop("JAVA_HOME", None)
    out = subprocess.run(cmd, cwd=home, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        tail = "\n".join(
            line for line in (out.stdout + out.stderr).strip().splitlines()[-20:] if line.strip()
        )
        raise NodeError(
            f"Elasticsearch failed to start (exit {out.returncode}):\n{tail}\n--- log ---\n{log_tail()}"
        )
    h = wait_healthy(address, timeout, pid=_read_pid())
    msg = f"started Elasticsearch {h.version} at {address} ({h.status}), data in {data_dir()}"
    warning = version_warning(h.version)
    return msg + (f"\nWARNING: {warning}" if warning else "")


def stop(timeout: float = 60.0) -> str:
    """SIGTERM the project's node and wait for it to exit. With ES_URL set nothing is stopped."""
    external = settings.es_url()
    if external:
        h = health(external)
        state = f"{h.status}" if h else "not answering"
        return f"ES_URL={external} is an external cluster ({state}); not stopping it"
    pid = _read_pid()
    if pid is None:
        return f"no zwgk Elasticsearch running (pid file {pid_file()})"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):  # ES removes its pid file before the JVM has exited: wait for the process
            pid_file().unlink(missing_ok=True)
            return f"stopped Elasticsearch (pid {pid})"
        time.sleep(0.3)
    os.kill(pid, signal.SIGKILL)
    return f"Elasticsearch (pid {pid}) did not stop within {timeout:.0f}s; killed it"


def remove() -> str:
    """Delete the stopped node's config, data and logs (the zip and the unpacked distribution stay)."""
    if _read_pid() is not None:
        raise NodeError("the node is running; `zwgk es stop` first")
    shutil.rmtree(run_dir(), ignore_errors=True)
    return f"removed {run_dir()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie of ours counts as gone
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False


def _port_in_use(p: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", p)) == 0
