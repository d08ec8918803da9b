"""Run the real Kea 2.2 server (Debian's kea-dhcp4/kea-dhcp6) for interop tests.

Kea runs with no interfaces (no DHCP traffic at all), a control socket and the
lease_cmds hook, its pid/lock files and log in a private directory; the process
is always terminated (then killed) when the context ends.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager

from kea_tools.leases.ctrl import ControlClient, ControlError
from tests.conftest import require, require_program

HOOKS = "/usr/lib/x86_64-linux-gnu/kea/hooks"
LEASE_CMDS = f"{HOOKS}/libdhcp_lease_cmds.so"

SUBNETS = {
    4: [{"id": 1, "subnet": "192.0.2.0/24", "pools": [{"pool": "192.0.2.10-192.0.2.250"}]},
        {"id": 2, "subnet": "198.51.100.0/24"},
        {"id": 3, "subnet": "10.0.0.0/8"}],
    6: [{"id": 1, "subnet": "2001:db8::/32", "pools": [{"pool": "2001:db8::/64"}],
         "pd-pools": [{"prefix": "2001:db8:8::", "prefix-len": 48, "delegated-len": 56}]}],
}


def require_kea(family=4):
    require_program(f"kea-dhcp{family}")
    require(os.path.exists(LEASE_CMDS), f"needs {LEASE_CMDS} (Debian kea-dhcp{family}-server)")


@contextmanager
def kea_server(family, lease_database, *, timeout=30.0):
    """Start kea-dhcp4/6 on ``lease_database``; yield a ControlClient to it."""
    require_kea(family)
    workdir = tempfile.mkdtemp(prefix="keactl-kea-")
    sock = os.path.join(workdir, "ctrl.sock")
    log = os.path.join(workdir, "kea.log")
    daemon = f"kea-dhcp{family}"
    config = {f"Dhcp{family}": {
        "interfaces-config": {"interfaces": []},
        "control-socket": {"socket-type": "unix", "socket-name": sock},
        "lease-database": lease_database,
        "hooks-libraries": [{"library": LEASE_CMDS}],
        f"subnet{family}": SUBNETS[family],
        **({"data-directory": workdir} if family == 6 else {}),
        "loggers": [{"name": daemon, "output_options": [{"output": log}],
                     "severity": "INFO"}],
    }}
    conf_path = os.path.join(workdir, "kea.json")
    with open(conf_path, "w", encoding="utf-8") as fh:
        json.dump(config, fh)
    env = dict(os.environ, KEA_PIDFILE_DIR=workdir, KEA_LOCKFILE_DIR=workdir)
    proc = subprocess.Popen([daemon, "-c", conf_path], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    client = ControlClient(sock, timeout=10)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"{daemon} exited ({proc.returncode}): {_tail(log)}")
            try:
                client.call("version-get")
                break
            except ControlError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{daemon} did not answer: {_tail(log)}") from None
                time.sleep(0.05)
        yield client
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _tail(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return " | ".join(fh.read().splitlines()[-5:])
    except OSError:
        return "(no log)"
