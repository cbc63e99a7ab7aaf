"""Debian's nginx in front of several app processes, with sticky sessions, for the multi-server
test and benchmark (and the README's deployment section, which uses the same settings).

Streamlit keeps each browser's session in the process that served it, so every request of a
browser must reach the same process. ``ip_hash`` would send a whole class behind one school
NAT to one process; instead nginx hashes a cookie it sets itself on the first response
(``crmlab_node``, a random ``$request_id`` the first time), so browsers spread over the
processes and each stays on its own. The response header ``X-CRMLab-Upstream`` says which
process answered (for the test; leave it out in production).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from benchmarks._server import free_port

CONFIG = """\
{user}worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
{site}
}}
"""

# The part of the configuration a deployment copies (README, "Deployment").
SITE = """\
  # the browser's own process: a cookie nginx sets on the first answer, then keeps
  map $cookie_crmlab_node $crmlab_node {{ "" $request_id; default $cookie_crmlab_node; }}
  map $http_upgrade $crmlab_connection {{ default upgrade; "" close; }}
  upstream crmlab {{
    hash $crmlab_node consistent;
{servers}
  }}
  server {{
    listen {listen};
    client_max_body_size 200m;  # Streamlit's server.maxUploadSize (a 100 MB purchase log)
    location / {{
      proxy_pass http://crmlab;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;  # websockets
      proxy_set_header Connection $crmlab_connection;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 1h;  # an open tab's websocket
      proxy_buffering off;
      add_header Set-Cookie "crmlab_node=$crmlab_node; Path=/; HttpOnly; SameSite=Lax" always;
      add_header X-CRMLab-Upstream $upstream_addr always;
    }}
  }}"""


def nginx() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


@contextmanager
def proxy(backends: list[int]):
    """Run nginx on a free port in front of ``backends`` (ports) until the block ends;
    yields the port."""
    binary = nginx()
    if binary is None:
        raise RuntimeError("nginx is not installed (`.ci/run` installs Debian's package)")
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="crmlab_nginx_"))
    servers = "\n".join(f"    server 127.0.0.1:{p};" for p in backends)
    site = SITE.format(servers=servers, listen=f"127.0.0.1:{port}")
    user = "user root;\n" if os.geteuid() == 0 else ""
    (tmp / "nginx.conf").write_text(CONFIG.format(user=user, tmp=tmp, site=site))
    server = subprocess.Popen(
        [binary, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "stderr.log", "wb"),  # noqa: SIM115 - the process owns it
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError((tmp / "stderr.log").read_text()) from None
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def upstream_of(port: int, cookie: str) -> str:
    """The backend nginx sends a browser with this ``crmlab_node`` cookie to."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/_stcore/health", headers={"Cookie": f"crmlab_node={cookie}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers.get("X-CRMLab-Upstream", "")


def spread_cookies(port: int, n: int, backends: int) -> list[str]:
    """``n`` cookie values that spread browsers evenly over the ``backends`` processes."""
    by_backend: dict[str, list[str]] = {}
    for i in range(1000):
        cookie = f"browser-{i}"
        by_backend.setdefault(upstream_of(port, cookie), []).append(cookie)
        if len(by_backend) == backends and all(len(v) * backends >= n for v in by_backend.values()):
            break
    lists = list(by_backend.values())
    return [lists[i % len(lists)][i // len(lists)] for i in range(n)]
