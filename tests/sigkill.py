"""Kill a CLI import with SIGKILL once it is under way (the crash-safety tests of the importers)."""
from __future__ import annotations

import os
import signal
import subprocess
import time


def kill_mid_run(cmd: list[str], *, cwd, env: dict, first_line: str, after: float = 1.0) -> None:
    """Start `cmd`, wait for its first output line (it must contain `first_line`), let it work `after` seconds
    (it is slowed down by the importer's sleep hook in `env`), then SIGKILL it: no cleanup code of it runs."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert first_line in line, line + proc.stderr.read()
        time.sleep(after)  # part of the file written (and flushed), nothing committed
        assert proc.poll() is None, "the import finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
