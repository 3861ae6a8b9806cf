"""Redis and PostgreSQL for Airflow's CeleryExecutor: `zwgk services start|stop|status|env`.

Both come from Debian's packages (`redis-server`, `postgresql`) and run as the project's own instances, the
way index/node.py runs Elasticsearch: data, logs and pid files under settings.home()/services, listening on
127.0.0.1 at private ports (ZWGK_REDIS_PORT, default 6390; ZWGK_PG_PORT, default 5440), with passwords
generated once into services/secrets.json (mode 0600). PostgreSQL refuses to run as root and Redis need not,
so as root both run as the system user `zwgk-svc` (created once); otherwise as the calling user.
Redis is Celery's broker; PostgreSQL holds Airflow's metadata DB and Celery's results (database `airflow`).
`env()` is the Airflow configuration that points the scheduler, the API server and every worker at them.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from zwgk import settings

SERVICE_USER = "zwgk-svc"
SHARED_DIR = Path("/var/lib/zwgk-services")  # as root, when the service user cannot reach ZWGK_HOME
DB_NAME = DB_USER = "airflow"
PACKAGES = ("redis-server", "postgresql")


class ServiceError(RuntimeError):
    """A service could not be installed, started or stopped; the message says why."""


# --- settings and paths ---------------------------------------------------------------------------


def redis_port() -> int:
    return int(os.environ.get("ZWGK_REDIS_PORT", "6390"))


def pg_port() -> int:
    return int(os.environ.get("ZWGK_PG_PORT", "5440"))


def api_port() -> int:
    """The Airflow API server's port (the workers' tasks report to its execution API)."""
    return int(os.environ.get("ZWGK_AIRFLOW_API_PORT", "8390"))


def _as_root() -> bool:
    return os.geteuid() == 0


def services_dir() -> Path:
    """settings.home()/services, or SHARED_DIR/<home's name> as root when the service user cannot reach home
    (e.g. /root is 0700)."""
    own = settings.home() / "services"
    if not _as_root() or _user_can_reach(settings.home()):
        return own
    return SHARED_DIR / str(settings.home().resolve()).strip("/").replace("/", "_")


def _user_can_reach(path: Path) -> bool:
    """True when the service user can enter path (asked of the system, ACLs and all)."""
    _ensure_user()
    return subprocess.run(["runuser", "-u", SERVICE_USER, "--", "test", "-x", str(path)]).returncode == 0


def redis_dir() -> Path:
    return services_dir() / "redis"


def pg_dir() -> Path:
    return services_dir() / "postgres"


def pg_data() -> Path:
    return pg_dir() / "data"


# --- the service user, packages, secrets ----------------------------------------------------------


def _ensure_user() -> None:
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        out = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
                             capture_output=True, text=True)
        if out.returncode not in (0, 9):  # 9: created meanwhile
            raise ServiceError(f"could not create system user {SERVICE_USER}: {out.stderr.strip()}") from None


def _as_service_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", SERVICE_USER, "--", *cmd] if _as_root() else cmd


def _own_dir(path: Path) -> Path:
    """A private folder of the service's (0700, the service user's when root)."""
    path.mkdir(parents=True, exist_ok=True)
    return _give(path, 0o700)


def _give(path: Path, mode: int) -> Path:
    """path readable by the service alone: mode, and owned by the service user when we are root."""
    path.chmod(mode)
    if _as_root():
        entry = pwd.getpwnam(SERVICE_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def install() -> None:
    """Debian's redis-server and postgresql, installed once (as root, like the Makefile's chromium)."""
    if shutil.which("redis-server") and _pg_bin_dir(required=False):
        return
    if not _as_root():
        raise ServiceError(f"install Debian's {' and '.join(PACKAGES)} (apt-get install {' '.join(PACKAGES)})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *PACKAGES]):
        out = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise ServiceError(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")


def _pg_bin_dir(required: bool = True) -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin (Debian keeps pg_ctl and initdb there, not on PATH)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    if required:
        raise ServiceError("PostgreSQL is not installed (apt-get install postgresql)")
    return None


def load_secrets() -> dict[str, str]:
    """The passwords and keys of this deployment, generated on first use into services/secrets.json (0600)."""
    path = services_dir() / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {k: secrets.token_urlsafe(24) for k in ("redis_password", "pg_password", "jwt_secret", "api_secret")}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh)
    return values


# --- Airflow's view of them -----------------------------------------------------------------------


def db_url(driver: str = "postgresql+psycopg2") -> str:
    return f"{driver}://{DB_USER}:{load_secrets()['pg_password']}@127.0.0.1:{pg_port()}/{DB_NAME}"


def broker_url() -> str:
    return f"redis://:{load_secrets()['redis_password']}@127.0.0.1:{redis_port()}/0"


def env() -> dict[str, str]:
    """Airflow's configuration for the CeleryExecutor on these services: the same for the scheduler, the
    dag-processor, the API server and every worker (the JWT secret must match for tasks to report back)."""
    s = load_secrets()
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url(),
        "AIRFLOW__CELERY__BROKER_URL": broker_url(),
        "AIRFLOW__CELERY__RESULT_BACKEND": db_url("db+postgresql+psycopg2"),  # SQLAlchemy 2.1 defaults to psycopg 3
        "AIRFLOW__API_AUTH__JWT_SECRET": s["jwt_secret"],
        "AIRFLOW__API__SECRET_KEY": s["api_secret"],
        "AIRFLOW__API__PORT": str(api_port()),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port()}/execution/",
    }


# --- Redis ----------------------------------------------------------------------------------------


def _redis_conf() -> Path:
    """redis.conf (rewritten before every start): loopback only, password, data and log in redis_dir()."""
    d = _own_dir(redis_dir())
    conf = d / "redis.conf"
    conf.write_text("\n".join([
        "# written by zwgk (pipeline/services.py) before every start",
        "bind 127.0.0.1", f"port {redis_port()}", "protected-mode yes", "daemonize yes",
        f"dir {d}", f"pidfile {d / 'redis.pid'}", f"logfile {d / 'redis.log'}",
        f"requirepass {load_secrets()['redis_password']}",
        "save 60 100",  # the queue survives a restart (the scheduler re-queues what is lost anyway)
    ]) + "\n")
    return _give(conf, 0o600)


def _redis_ping() -> bool:
    """True when our Redis answers PING with our password."""
    try:
        with socket.create_connection(("127.0.0.1", redis_port()), timeout=2) as sock:
            sock.sendall(f"AUTH {load_secrets()['redis_password']}\r\nPING\r\n".encode())
            reply = b""
            while b"PONG" not in reply and len(reply) < 512:
                chunk = sock.recv(256)
                if not chunk:
                    break
                reply += chunk
            return b"+OK" in reply and b"PONG" in reply
    except OSError:
        return False


def start_redis(timeout: float = 30) -> str:
    if _redis_ping():
        return f"redis: already running on 127.0.0.1:{redis_port()}"
    _refuse_busy_port(redis_port(), "redis")
    out = subprocess.run(_as_service_user(["redis-server", str(_redis_conf())]), capture_output=True, text=True)
    if out.returncode != 0:
        raise ServiceError(f"redis-server failed: {(out.stdout + out.stderr).strip()[-1500:]}")
    _wait(_redis_ping, timeout, "redis", redis_dir() / "redis.log")
    return f"redis: started on 127.0.0.1:{redis_port()}, data in {redis_dir()}"


def stop_redis(timeout: float = 30) -> str:
    return _stop_pid("redis", redis_dir() / "redis.pid", timeout)


# --- PostgreSQL -----------------------------------------------------------------------------------


def _pg(tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run one of PostgreSQL's programs as the service user."""
    out = subprocess.run(_as_service_user([str(_pg_bin_dir() / tool), *args]), capture_output=True, text=True,
                         cwd="/")  # postgres refuses a cwd it cannot read
    if check and out.returncode != 0:
        raise ServiceError(f"{tool} {' '.join(args[:3])} failed: {(out.stdout + out.stderr).strip()[-1500:]}")
    return out


def _init_pg() -> None:
    """initdb once: superuser `airflow` with the generated password, password auth on TCP."""
    if (pg_data() / "PG_VERSION").exists():
        return
    _own_dir(pg_dir())
    pwfile = pg_dir() / "pwfile"
    pwfile.write_text(load_secrets()["pg_password"] + "\n")
    try:
        _give(pwfile, 0o600)
        _pg("initdb", "-D", str(pg_data()), "-U", DB_USER, f"--pwfile={pwfile}", "--auth-host=scram-sha-256",
            "--auth-local=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
    finally:
        pwfile.unlink(missing_ok=True)


def _pg_ready() -> bool:
    return _pg("pg_isready", "-h", "127.0.0.1", "-p", str(pg_port()), "-q", check=False).returncode == 0


def _ensure_database() -> None:
    """CREATE DATABASE airflow when it is missing (psycopg2: no psql password prompt)."""
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=pg_port(), user=DB_USER, dbname="postgres",
                            password=load_secrets()["pg_password"])
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        conn.close()


def start_postgres(timeout: float = 60) -> str:
    if _pg_ready():
        _ensure_database()
        return f"postgres: already running on 127.0.0.1:{pg_port()}"
    _refuse_busy_port(pg_port(), "postgres")
    _init_pg()
    sockets = _own_dir(pg_dir() / "run")
    options = (f"-c listen_addresses=127.0.0.1 -p {pg_port()} -k {sockets} -c max_connections=200 "
               "-c shared_buffers=64MB")  # small: a broker-sized metadata DB on a shared machine
    _pg("pg_ctl", "-D", str(pg_data()), "-l", str(pg_dir() / "postgres.log"), "-o", options, "-w",
        "-t", str(int(timeout)), "start")
    _wait(_pg_ready, timeout, "postgres", pg_dir() / "postgres.log")
    _ensure_database()
    return f"postgres: started on 127.0.0.1:{pg_port()}, data in {pg_data()}"


def stop_postgres(timeout: float = 60) -> str:
    if not (pg_data() / "postmaster.pid").exists():
        return "postgres: not running"
    _pg("pg_ctl", "-D", str(pg_data()), "-m", "fast", "-w", "-t", str(int(timeout)), "stop", check=False)
    return "postgres: stopped"


# --- together -------------------------------------------------------------------------------------


def start() -> list[str]:
    """Install if needed, then start Redis and PostgreSQL (idempotent)."""
    install()
    if _as_root():
        _ensure_user()
    return [start_redis(), start_postgres()]


def stop() -> list[str]:
    return [stop_redis(), stop_postgres()]


def status() -> list[str]:
    """One line per service: up or down, where, and its data folder (no secrets)."""
    redis = "up" if _redis_ping() else "down"
    pg = "up" if _pg_bin_dir(required=False) and _pg_ready() else "down"
    return [f"redis     {redis:4}  127.0.0.1:{redis_port()}  {redis_dir()}",
            f"postgres  {pg:4}  127.0.0.1:{pg_port()}  {pg_data()}",
            f"airflow   api   http://127.0.0.1:{api_port()}/ (started by `airflow api-server`, see docs/deploy.md)"]


# --- helpers --------------------------------------------------------------------------------------


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _refuse_busy_port(port: int, name: str) -> None:
    if _port_open(port):
        raise ServiceError(f"{name}: port {port} is taken by something else; set ZWGK_{name[:5].upper()}_PORT"
                           .replace("POSTG", "PG"))


def _wait(ready, timeout: float, name: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.3)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:]) if log.exists() else "(no log)"
    raise ServiceError(f"{name} did not come up within {timeout:.0f}s; {log}:\n{tail}")


def _stop_pid(name: str, pid_file: Path, timeout: float) -> str:
    """SIGTERM the pid in pid_file and wait for it to exit."""
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        return f"{name}: not running"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return f"{name}: stopped (pid {pid})"
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    return f"{name}: did not stop within {timeout:.0f}s; killed pid {pid}"
