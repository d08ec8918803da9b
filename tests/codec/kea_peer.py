"""Ask a real kea-dhcp4 which bytes it sends for option-data entries.

Kea listens on lo (UDP sockets, a high server port); we play a relay at
127.0.0.2, so the OFFER comes back to 127.0.0.2:67 and nothing leaves loopback.
"""
import json
import os
import socket
import subprocess
import tempfile
import time

from kea_tools.codec.v4 import Packet4, Option

SERVER_PORT = 10067
RELAY = "127.0.0.2"


def kea_offer(option_data, option_defs=(), extra_options=()):
    """Start kea-dhcp4 with this option-data, send one relayed DISCOVER that
    requests every option, return the OFFER as a Packet4 (or None)."""
    config = {"Dhcp4": {
        "interfaces-config": {"interfaces": ["lo"], "dhcp-socket-type": "udp"},
        "lease-database": {"type": "memfile", "persist": False},
        "valid-lifetime": 4000,
        "option-def": list(option_defs),
        "option-data": list(option_data),
        "subnet4": [{"subnet": "127.0.0.0/8", "id": 1,
                     "pools": [{"pool": "127.0.0.100 - 127.0.0.200"}]}],
        "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "stdout"}],
                     "severity": "ERROR"}],
    }}
    with tempfile.TemporaryDirectory(prefix="keactl-kea-") as tmp:
        path = os.path.join(tmp, "kea.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(config, fh)
        env = dict(os.environ, KEA_PIDFILE_DIR=tmp, KEA_LOCKFILE_DIR=tmp)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((RELAY, 67))
        sock.settimeout(0.1)
        proc = subprocess.Popen(["kea-dhcp4", "-c", path, "-p", str(SERVER_PORT)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            query = Packet4(xid=0xABCD, hops=1, giaddr=RELAY,
                            chaddr=bytes.fromhex("02aabbccddee") + bytes(10))
            query.msg_type = 1
            query.options.append(Option(55, bytes(range(1, 255))))
            query.options.extend(extra_options)
            wire = query.build()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.poll() is None:
                sock.sendto(wire, ("127.0.0.1", SERVER_PORT))
                try:
                    data, _ = sock.recvfrom(4096)
                except socket.timeout:
                    continue
                return Packet4.parse(data)
            return None
        finally:
            sock.close()
            proc.terminate()
            try:
                proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
