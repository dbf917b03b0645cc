"""``aigc-check serve`` with the policy routes (``aigc_check.service.policy_info``) registered, or
explicitly without them, whatever ``app.py`` does: the page's tests run against both.

As a script: ``python tests/policy_page_server.py [--without-policy-routes] SERVE-ARGS...``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Sequence

from aigc_check.service.launch import READY_LINE, ServerProcess

WITHOUT = "--without-policy-routes"


class PolicyServer(ServerProcess):
    """``ServerProcess`` running this script: the same ready line, the same graceful stop."""

    def __init__(self, args: Sequence[str] = (), policy_routes: bool = True, start_timeout: float = 60.0) -> None:
        super().__init__(args, start_timeout=start_timeout)
        self.policy_routes = policy_routes

    def start(self) -> PolicyServer:
        command = [sys.executable, os.path.abspath(__file__), *([] if self.policy_routes else [WITHOUT]), *self.args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
        )
        ready = threading.Event()

        def read_stderr() -> None:
            for line in self.process.stderr:
                self.log.append(line.rstrip("\n"))
                match = READY_LINE.search(line)
                if match and not ready.is_set():
                    self.url = match.group(1)
                    ready.set()
            ready.set()

        threading.Thread(target=read_stderr, daemon=True).start()
        if not ready.wait(self.start_timeout) or not self.url:
            self.stop()
            raise RuntimeError("the policy page server did not start:\n" + "\n".join(self.log))
        return self


def main(argv: list[str]) -> int:
    from aigc_check.cli import main as cli_main
    from aigc_check.service import app as app_module
    from aigc_check.service.policy_info import ADVICE_PATH, POLICY_PATH, policy_routes

    keep = WITHOUT not in argv
    args = [a for a in argv if a != WITHOUT]
    original = app_module.create_app

    def create_app(config, on_ready=None):
        app = original(config, on_ready)
        routes = app.router.routes
        routes[:] = [r for r in routes if getattr(r, "path", None) not in (POLICY_PATH, ADVICE_PATH)]
        if keep:
            routes.extend(policy_routes())
        return app

    app_module.create_app = create_app
    return cli_main(["serve", *args])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
