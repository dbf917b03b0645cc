"""Start ``aigc-check serve`` as a child process on a free loopback port and wait until it is ready.

Used by the tests and the benchmark; also a way for a gateway written in
Python to own its checker service.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence

READY_LINE = re.compile(r"listening on (http://\S+)")


class ServerProcess:
    """``with ServerProcess(["--workers", "2"]) as server: server.url``"""

    def __init__(
        self,
        args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        start_timeout: float = 60.0,
        cwd: str | None = None,
    ) -> None:
        self.args = ["--host", "127.0.0.1", "--port", "0", *args]
        self.env = env
        self.start_timeout = start_timeout
        # ``python -m`` puts the working folder first on sys.path, before PYTHONPATH: a checkout of
        # aigc-check there is the code that runs (a benchmark's baseline tree must be its cwd).
        self.cwd = cwd
        self.url = ""
        self.process: subprocess.Popen[str] | None = None
        self.log: list[str] = []  # stderr lines, kept for failure messages

    def start(self) -> ServerProcess:
        command = [sys.executable, "-m", "aigc_check", "serve", *self.args]
        env = {**os.environ, **(self.env or {}), "PYTHONUNBUFFERED": "1"}
        process = self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=self.cwd,
        )
        stderr = process.stderr
        assert stderr is not None  # stderr=PIPE
        ready = threading.Event()

        def read_stderr() -> None:
            for line in stderr:
                self.log.append(line.rstrip("\n"))
                match = READY_LINE.search(line)
                if match and not ready.is_set():
                    self.url = match.group(1)
                    ready.set()
            ready.set()  # the process ended

        threading.Thread(target=read_stderr, daemon=True).start()
        if not ready.wait(self.start_timeout) or not self.url:
            self.stop()
            raise RuntimeError("aigc-check serve did not start:\n" + "\n".join(self.log))
        return self

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM (a graceful stop: the pool and the upload folder are cleaned up), then SIGKILL."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
