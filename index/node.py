"""The project's own Elasticsearch: one node by default, or a small cluster on this machine.

With ES_URL set nothing is started: that cluster is used as is. Otherwise the integ-test-zip
distribution is fetched once with Maven into settings.home()/es/dist, unpacked next to it and run on
127.0.0.1 with a 1 GB heap (ZWGK_ES_HEAP). Elasticsearch refuses to run as root, so as root the node
runs as a system user (`zwgk-es`) created once.

`start(nodes=N)` runs N nodes of the same distribution: node i (0-based) has its own folder
(run_dir(i): config, data, logs, pid), HTTP port ZWGK_ES_PORT+i and transport port ZWGK_ES_PORT+100+i;
all are master-eligible data nodes that find each other through discovery.seed_hosts. One node keeps
`discovery.type: single-node` exactly as before.
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
from zwgk.es import ESConfigError, display_url, get_client, local_url, port, redact, url

ES_VERSION = "9.2.4"
ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
MIN_JAVA = 21  # Elasticsearch 9 needs Java 21+
SERVICE_USER = "zwgk-es"
HEAP = "1g"  # per node; ZWGK_ES_HEAP overrides (e.g. 512m for extra test nodes)
TRANSPORT_OFFSET = 100  # cluster node i talks to the others on ZWGK_ES_PORT + 100 + i


class NodeError(RuntimeError):
    """The node could not be fetched, started or stopped; the message says why."""


@dataclass
class Health:
    url: str
    status: str  # green / yellow / red
    version: str | None
    cluster_name: str
    nodes: int = 1


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


def run_dir(i: int = 0) -> Path:
    """Node i's config, data, logs and pid file: home()/es/node (node-2, node-3... for more nodes), or
    SHARED_DIR/<hash of home>[-2...] as root when the service user cannot reach home() (e.g. /root is 0700)."""
    if not _use_shared_dir():
        base = es_home() / "node"
    else:
        base = SHARED_DIR / hashlib.sha1(str(settings.home().resolve()).encode()).hexdigest()[:8]
    return base if i == 0 else base.with_name(f"{base.name}-{i + 1}")


def node_name(i: int = 0) -> str:
    return "zwgk-node" if i == 0 else f"zwgk-node-{i + 1}"


def node_url(i: int = 0) -> str:
    return f"http://127.0.0.1:{port() + i}"


def transport_port(i: int) -> int:
    return port() + TRANSPORT_OFFSET + i


def heap() -> str:
    value = os.environ.get("ZWGK_ES_HEAP") or HEAP
    if not re.fullmatch(r"\d+[mMgG]", value):
        raise NodeError(f"ZWGK_ES_HEAP={value!r} is not a heap size like 512m or 1g")
    return value


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


def config_dir(i: int = 0) -> Path:
    """ES_PATH_CONF of node i: a copy of the distribution's config plus our settings."""
    return run_dir(i) / "config"


def data_dir(i: int = 0) -> Path:
    return run_dir(i) / "data"


def logs_dir(i: int = 0) -> Path:
    return run_dir(i) / "logs"


def pid_file(i: int = 0) -> Path:
    return run_dir(i) / "es.pid"


def node_indices() -> list[int]:
    """Node 0 and every further node that has a folder (started once with --nodes)."""
    base = run_dir()
    found = [0]
    if base.parent.is_dir():
        for path in base.parent.glob(f"{base.name}-*"):
            suffix = path.name[len(base.name) + 1:]
            if suffix.isdigit() and int(suffix) >= 2:
                found.append(int(suffix) - 1)
    return sorted(found)


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


def _discovery(i: int, nodes: int) -> dict[str, object]:
    """One node: single-node discovery (as always). Several: fixed transport ports that seed each other."""
    if nodes == 1:
        http_port = port()
        transport = (
            f"{http_port + 100}-{http_port + 199}"
            if http_port + 199 <= 65535
            else f"{http_port - 199}-{http_port - 100}"
        )
        return {"transport.port": transport, "discovery.type": "single-node"}
    return {
        "transport.port": transport_port(i),
        "discovery.seed_hosts": [f"127.0.0.1:{transport_port(j)}" for j in range(nodes)],
        # read only when the cluster forms the first time; afterwards the data folder holds the cluster
        "cluster.initial_master_nodes": [node_name(j) for j in range(nodes)],
    }


def _write_config(config_path: Path, i: int = 0, nodes: int = 1) -> None:
    """Settings that must exist before the first start (else ES auto-configures TLS and passwords)."""
    config = {
        "cluster.name": "zwgk",
        "node.name": node_name(i),
        "network.host": "127.0.0.1",
        "http.port": port() + i,
        **_discovery(i, nodes),
        "xpack.security.enabled": False,
        "cluster.routing.allocation.disk.threshold_enabled": False,
        "path.data": str(data_dir(i)),
        "path.logs": str(logs_dir(i)),
    }
    lines = [f"{k}: {json.dumps(v)}" for k, v in config.items()]
    (config_path / "elasticsearch.yml").write_text(
        "# written by zwgk (index/node.py) before every start\n" + "\n".join(lines) + "\n"
    )
    (config_path / "jvm.options.d").mkdir(exist_ok=True)
    size = heap()
    (config_path / "jvm.options.d" / "zwgk-heap.options").write_text(f"-Xms{size}\n-Xmx{size}\n")


def install(nodes: int = 1, only: list[int] | None = None) -> Path:
    """Fetch and unpack once; (re)write the config of each node (of `only` those). Returns the install folder."""
    target = install_dir()
    if not (target / "bin" / "elasticsearch").is_file():
        zip_path = fetch_distribution()
        target.parent.mkdir(parents=True, exist_ok=True)
        _extract(zip_path, target)
        if _running_as_root():
            _ensure_service_user()
            _chown_tree(target, SERVICE_USER)
    for i in range(nodes) if only is None else only:
        for d in (data_dir(i), logs_dir(i)):
            d.mkdir(parents=True, exist_ok=True)
        if not (config_dir(i) / "jvm.options").is_file():
            shutil.copytree(target / "config", config_dir(i), dirs_exist_ok=True)
        _write_config(config_dir(i), i, nodes)
        if _running_as_root():
            _ensure_service_user()
            _chown_tree(run_dir(i), SERVICE_USER)
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


def refusal(address: str, exc: Exception) -> NodeError | None:
    """A one-line NodeError for credentials or TLS refused; None when the cluster just does not answer."""
    from elastic_transport import TlsError
    from elasticsearch import AuthenticationException, AuthorizationException

    where = display_url(address)
    if isinstance(exc, (AuthenticationException, AuthorizationException)):
        return NodeError(
            f"Elasticsearch at {where} refused the credentials (HTTP {exc.meta.status}): check the URL's "
            "user:password, ZWGK_ES_USER/ZWGK_ES_PASSWORD or ZWGK_ES_API_KEY"
        )
    if isinstance(exc, TlsError):
        detail = f"{getattr(exc, 'message', '')} {exc.__cause__ or ''}"  # str(exc) is just "TLS error"
        m = re.search(r"certificate verify failed[^'\"()\]]*|hostname mismatch[^'\"()\]]*|wrong version number", detail)
        reason = m.group(0).strip() if m else exc.__class__.__name__
        return NodeError(
            f"TLS to {where} failed ({redact(reason)}): set ZWGK_ES_CA_CERTS to the CA file that signed its certificate"
        )
    return None


def health(address: str | None = None, timeout: float = 5.0) -> Health | None:
    """Cluster health and version, or None when nothing answers. (GET / is absent from integ-test-zip.)

    Refused credentials or an untrusted certificate raise NodeError: those need a fix, not a wait.
    """
    from elastic_transport import TransportError
    from elasticsearch import ApiError

    address = address or url()
    try:
        client = get_client(address, request_timeout=timeout, max_retries=0)
    except ESConfigError as exc:
        raise NodeError(str(exc)) from None
    try:
        h = client.cluster.health()
        nodes = client.nodes.info(node_id="_local", filter_path="nodes.*.version").get("nodes", {})
    except (ApiError, TransportError, OSError, ValueError) as exc:
        refused = refusal(address, exc)
        if refused:
            raise refused from None
        return None
    finally:
        client.close()
    version = next((n.get("version") for n in nodes.values()), None)
    return Health(display_url(address), h.get("status", "unknown"), version, h.get("cluster_name", ""),
                  h.get("number_of_nodes", 1))


def nodes_table(address: str | None = None) -> list[dict[str, str]]:
    """One row per node: name, http address, roles, elected master ('*'), heap use."""
    client = get_client(address, request_timeout=5, max_retries=1)
    try:
        rows = client.cat.nodes(format="json", h="name,http_address,node.role,master,heap.percent")
    finally:
        client.close()
    return sorted(rows.body, key=lambda r: r.get("name", ""))


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


def _read_pid(i: int = 0) -> int | None:
    try:
        pid = int(pid_file(i).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None  # a killed node leaves its pid file (and maybe a zombie) behind


def running_nodes() -> list[int]:
    """Indices of the project's nodes whose process runs."""
    return [i for i in node_indices() if _read_pid(i) is not None]


def local_urls() -> str:
    """Every running local node's URL, comma-separated (node 0's when none runs): what ES_URL should say."""
    return ",".join(node_url(i) for i in running_nodes() or [0])


def log_tail(lines: int = 25, i: int = 0) -> str:
    """The last log lines without Java stack frames, so the exception headlines stay visible."""
    log = logs_dir(i) / "zwgk.log"
    if not log.is_file():
        return "(no log file yet)"
    kept = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if line.strip() and not line.lstrip().startswith(("at ", "...")) and "Suppressed:" not in line
    ]
    return "\n".join(kept[-lines:])


def wait_healthy(address: str, timeout: float = 120.0, pid: int | None = None, nodes: int = 1) -> Health:
    """Until the cluster at address is green or yellow with at least `nodes` nodes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        h = health(address, timeout=2)
        if h and h.status in ("green", "yellow") and h.nodes >= nodes:
            return h
        if pid is not None and not _alive(pid):
            raise NodeError(f"Elasticsearch exited during start-up. Last log lines:\n{log_tail()}")
        time.sleep(0.5)
    raise NodeError(
        f"Elasticsearch at {display_url(address)} not healthy with {nodes} node(s) after {timeout:.0f}s. "
        f"Last log lines:\n{log_tail()}"
    )


# --- lifecycle ----------------------------------------------------------------------------------


def _launch(home: Path, java: Path, i: int) -> subprocess.Popen:
    """Start node i daemonized (returns at once; the launcher exits when the node runs or fails)."""
    pid_file(i).unlink(missing_ok=True)
    cmd = [str(home / "bin" / "elasticsearch"), "-d", "-p", str(pid_file(i))]
    if _running_as_root():
        cmd = ["runuser", "-u", SERVICE_USER, "--", *cmd]
    env = {**os.environ, "ES_JAVA_HOME": str(java), "ES_PATH_CONF": str(config_dir(i))}
    env.pop("ES_JAVA_OPTS", None)
    env.pop("JAVA_HOME", None)
    return subprocess.Popen(cmd, cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _launched(proc: subprocess.Popen, i: int) -> None:
    """Wait for a launcher; a failed start is one NodeError with the launcher's and the log's last lines."""
    output, _ = proc.communicate()
    if proc.returncode != 0:
        tail = "\n".join(line for line in output.strip().splitlines()[-20:] if line.strip())
        raise NodeError(
            f"Elasticsearch node {node_name(i)} failed to start (exit {proc.returncode}):\n{tail}\n"
            f"--- log ---\n{log_tail(i=i)}"
        )


def _external() -> str | None:
    """The answer to start/stop when ES_URL names a cluster of its own; None to manage our node(s)."""
    external = settings.es_url()
    if not external:
        return None
    h = health(external)
    if not h:
        raise NodeError(f"ES_URL={display_url(external)} does not answer")
    return f"using ES_URL {display_url(external)}: {h.status}, Elasticsearch {h.version}, {h.nodes} node(s)"


def start(timeout: float = 120.0, nodes: int = 1) -> str:
    """Start the node (or `nodes` nodes; or check ES_URL's cluster) and wait until healthy. Idempotent.

    Returns a message.
    """
    if nodes < 1 or port() + TRANSPORT_OFFSET + nodes > 65535:
        raise NodeError(f"cannot run {nodes} node(s) from port {port()}")
    external = _external()
    if external:
        return external
    if nodes > 1:
        return _start_cluster(nodes, timeout)
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
    _launched(_launch(home, java, 0), 0)
    h = wait_healthy(address, timeout, pid=_read_pid())
    msg = f"started Elasticsearch {h.version} at {address} ({h.status}), data in {data_dir()}"
    warning = version_warning(h.version)
    return msg + (f"\nWARNING: {warning}" if warning else "")


def _start_cluster(nodes: int, timeout: float) -> str:
    """Start the nodes that are not running (all at once: the first ones wait for the others to form
    the cluster), then wait for all of them to have joined."""
    missing = [i for i in range(nodes) if _read_pid(i) is None]
    if 0 not in missing and "single-node" in (config_dir() / "elasticsearch.yml").read_text():
        raise NodeError("the project's node runs as a single node: `zwgk es stop` it, then start with --nodes")
    for i in missing:
        if _port_in_use(port() + i) or _port_in_use(transport_port(i)):
            raise NodeError(f"port {port() + i} or {transport_port(i)} of node {node_name(i)} is in use")
    addresses = ",".join(node_url(i) for i in range(nodes))
    if missing:
        java = find_java()
        home = install(nodes, only=missing)
        for i, proc in [(i, _launch(home, java, i)) for i in missing]:
            _launched(proc, i)
    h = wait_healthy(addresses, timeout, nodes=nodes)
    verb = f"started {len(missing)} of" if missing else "already running:"
    msg = f"{verb} {nodes} Elasticsearch {h.version} nodes at {addresses} ({h.status}), data under {run_dir().parent}"
    warning = version_warning(h.version)
    return msg + (f"\nWARNING: {warning}" if warning else "")


def stop(timeout: float = 60.0) -> str:
    """SIGTERM every node of the project and wait for them to exit. With ES_URL set nothing is stopped."""
    external = settings.es_url()
    if external:
        h = health(external)
        state = f"{h.status}" if h else "not answering"
        return f"ES_URL={display_url(external)} is an external cluster ({state}); not stopping it"
    pids = {i: pid for i in node_indices() if (pid := _read_pid(i)) is not None}
    if not pids:
        return f"no zwgk Elasticsearch running (pid file {pid_file()})"
    for pid in pids.values():
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    killed = []
    for i, pid in pids.items():
        while _alive(pid) and time.monotonic() < deadline:  # ES removes its pid file before the JVM exits
            time.sleep(0.3)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        pid_file(i).unlink(missing_ok=True)
    which = ", ".join(str(pid) for pid in pids.values())
    if killed:
        return f"Elasticsearch (pid {', '.join(map(str, killed))}) did not stop within {timeout:.0f}s; killed it"
    return f"stopped Elasticsearch (pid {which})"


def remove() -> str:
    """Delete the stopped nodes' config, data and logs (the zip and the unpacked distribution stay)."""
    if running_nodes():
        raise NodeError("the node is running; `zwgk es stop` first")
    folders = [run_dir(i) for i in node_indices()]
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    return f"removed {', '.join(map(str, folders))}"


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
