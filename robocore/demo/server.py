"""Run the demo portal: in a background thread for tests, or blocking for the CLI."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from robocore.demo.config import DEFAULT_PORT, PortalConfig
from robocore.demo.portal import create_app


def _wait_until_up(base_url: str, thread: threading.Thread, timeout_s: float) -> None:
    """Poll the health page until it answers; fail fast if the server thread died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the demo portal stopped while starting")
        try:
            with urllib.request.urlopen(f"{base_url}/sante", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"the demo portal did not answer at {base_url} within {timeout_s} s")


@contextmanager
def run_portal(config: PortalConfig | None = None, host: str = "127.0.0.1",
               start_timeout_s: float = 15.0) -> Iterator[str]:
    """Serve the portal on a free port in a background thread; yield its base URL; stop it on exit."""
    app = create_app(config or PortalConfig())
    # Bind the socket ourselves so the port is known before uvicorn starts and cannot be taken meanwhile.
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose proto says TCP, and
    # without it keep-alive responses wait ~40 ms on delayed ACKs.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name=f"demo-portal-{port}", daemon=True)
    thread.start()
    base_url = f"http://{host}:{port}"
    try:
        _wait_until_up(base_url, thread, start_timeout_s)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def serve(config: PortalConfig | None = None, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    """Serve the portal until interrupted (the `robo demo portal` command); modest slowness by default."""
    uvicorn.run(create_app(config or PortalConfig.demo()), host=host, port=port, log_level="info")
