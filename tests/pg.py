"""A throwaway PostgreSQL cluster for the test run: initdb in a temp dir, 127.0.0.1, a free port, no fsync."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile


def find_pg_bin() -> str | None:
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(cand, "initdb")):
            return cand
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: the deployment's split (README, "PostgreSQL roles"): the owner runs migrations, the app only reads and writes rows
ROLE_SQL = (
    "CREATE ROLE coop_owner LOGIN",
    "CREATE ROLE coop_app LOGIN",
    "ALTER DATABASE {db} OWNER TO coop_owner",
    "ALTER SCHEMA public OWNER TO coop_owner",
    "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    "GRANT USAGE ON SCHEMA public TO coop_app",
    "ALTER DEFAULT PRIVILEGES FOR ROLE coop_owner IN SCHEMA public "
    "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO coop_app",
    "ALTER DEFAULT PRIVILEGES FOR ROLE coop_owner IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO coop_app",
)


def role_urls(superuser_url: str) -> tuple[str, str]:
    """Create the owner and app roles in the test database: (owner URL, app URL)."""
    import sqlalchemy as sa

    engine = sa.create_engine(superuser_url, isolation_level="AUTOCOMMIT")
    db = superuser_url.rsplit("/", 1)[1]
    with engine.connect() as conn:
        for stmt in ROLE_SQL:
            conn.exec_driver_sql(stmt.format(db=db))
    engine.dispose()
    return (superuser_url.replace("://postgres@", "://coop_owner@"), superuser_url.replace("://postgres@", "://coop_app@"))


class ThrowawayPostgres:
    def __init__(self, pg_bin: str):
        self.pg_bin = pg_bin
        self.dir = tempfile.mkdtemp(prefix="coop-pg-")
        self.port = _free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_root:  # initdb refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        os.makedirs(os.path.join(self.dir, "sock"))
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(os.path.join(self.dir, "sock"), "postgres", "postgres")
        data = os.path.join(self.dir, "data")
        self._run(f"{self.pg_bin}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir}/sock -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50")
        self._run(f"{self.pg_bin}/pg_ctl", "-D", data, "-l", os.path.join(self.dir, "log"), "-w", "-o", opts, "start")
        self._run(f"{self.pg_bin}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "coop_test")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/coop_test"

    def stop(self) -> None:
        try:
            self._run(f"{self.pg_bin}/pg_ctl", "-D", os.path.join(self.dir, "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
