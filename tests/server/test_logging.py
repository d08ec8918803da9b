"""Kea's ``loggers`` (severity, debuglevel, output_options: stdout / stderr /
file with flush, maxsize, maxver and pattern; loggers below kea-dhcp4) and the
per-decision debug lines with Kea's message ids."""
import json
import logging
import re

import pytest

from kea_tools.config import load_file
from kea_tools.server.logconf import KeaPatternFormatter, apply_loggers
from tests.server.helpers import SERVER, dora, exchange, mac, packet, server, subnet

LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (\w+) +\[([\w.-]+)/\d+\.\d+\] (.*)$")


def loggers(tmp_path, entries):
    path = tmp_path / "kea.json"
    path.write_text(json.dumps({"Dhcp4": {"subnet4": [], "loggers": entries}}))
    return load_file(path).config.loggers


@pytest.fixture
def configure(tmp_path):
    def apply(entries, debug=False):
        apply_loggers(loggers(tmp_path, entries), "kea-dhcp4", debug)
    yield apply
    apply_loggers([], "kea-dhcp4")  # back to the default (stderr, INFO)
    for name in ("kea-dhcp4", "kea-dhcp4.packets", "kea-dhcp4.leases"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()


def read(path):
    return [LINE.match(line).groups() for line in path.read_text().splitlines()]


def test_file_output_in_keas_default_pattern_and_severity(tmp_path, configure):
    out = tmp_path / "kea.log"
    configure([{"name": "kea-dhcp4", "severity": "WARN",
                "output_options": [{"output": str(out)}]}])
    logging.getLogger("kea-dhcp4.packets").info("DHCP4_X hidden")
    logging.getLogger("kea-dhcp4.packets").warning("DHCP4_Y shown")
    logging.getLogger("kea-dhcp4").critical("DHCP4_Z fatal")
    assert read(out) == [("WARN", "kea-dhcp4.packets", "DHCP4_Y shown"),
                         ("FATAL", "kea-dhcp4", "DHCP4_Z fatal")]


def test_debuglevel_filters_tagged_debug_messages(tmp_path, configure):
    out = tmp_path / "kea.log"
    configure([{"name": "kea-dhcp4", "severity": "DEBUG", "debuglevel": 40,
                "output_options": [{"output": str(out)}]}])
    log = logging.getLogger("kea-dhcp4.packets")
    log.debug("DHCP4_A level 0")
    log.debug("DHCP4_B level 40", extra={"debuglevel": 40})
    log.debug("DHCP4_C level 55", extra={"debuglevel": 55})
    assert [m for _, _, m in read(out)] == ["DHCP4_A level 0", "DHCP4_B level 40"]


def test_child_logger_with_its_own_output_and_severity(tmp_path, configure):
    main, packets = tmp_path / "main.log", tmp_path / "packets.log"
    configure([{"name": "kea-dhcp4", "severity": "INFO", "output_options": [{"output": str(main)}]},
               {"name": "kea-dhcp4.packets", "severity": "DEBUG",
                "output_options": [{"output": str(packets)}]}])
    logging.getLogger("kea-dhcp4.packets").debug("DHCP4_P debug")
    logging.getLogger("kea-dhcp4.leases").debug("DHCP4_L debug hidden")
    logging.getLogger("kea-dhcp4.leases").info("DHCP4_L info")
    assert [m for _, _, m in read(packets)] == ["DHCP4_P debug"]
    assert [m for _, _, m in read(main)] == ["DHCP4_L info"]
    # A new configuration without the child puts it back under the root.
    configure([{"name": "kea-dhcp4", "severity": "INFO", "output_options": [{"output": str(main)}]}])
    logging.getLogger("kea-dhcp4.packets").info("DHCP4_P info")
    logging.getLogger("kea-dhcp4.packets").debug("DHCP4_P debug hidden")
    assert [m for _, _, m in read(main)][-1] == "DHCP4_P info"


def test_maxsize_and_maxver_rotate(tmp_path, configure):
    out = tmp_path / "kea.log"
    configure([{"name": "kea-dhcp4", "severity": "INFO",
                "output_options": [{"output": str(out), "maxsize": 204800, "maxver": 2}]}])
    log = logging.getLogger("kea-dhcp4")
    for i in range(3000):
        log.info("DHCP4_FILL %05d %s", i, "x" * 100)
    assert out.exists() and (tmp_path / "kea.log.1").exists() and (tmp_path / "kea.log.2").exists()
    assert not (tmp_path / "kea.log.3").exists()
    assert all(p.stat().st_size <= 204800 for p in tmp_path.glob("kea.log*"))


def test_flush_false_buffers_until_close(tmp_path, configure):
    out = tmp_path / "kea.log"
    configure([{"name": "kea-dhcp4", "output_options": [{"output": str(out), "flush": False}]}])
    logging.getLogger("kea-dhcp4").info("DHCP4_BUFFERED one line")
    assert out.read_text() == ""
    apply_loggers([], "kea-dhcp4")  # reconfiguring closes (and so flushes) the file
    assert "DHCP4_BUFFERED one line" in out.read_text()


@pytest.mark.parametrize("pattern, expected", [
    ("%-5p [%c] %m\n", "WARN  [kea-dhcp4.x] hello"),
    ("%p|%c|%m|%%", "WARN|kea-dhcp4.x|hello|%"),
    ("%D{%Y}:%m", None),
])
def test_log4cplus_patterns(pattern, expected):
    record = logging.LogRecord("kea-dhcp4.x", logging.WARNING, __file__, 1, "hello", (), None)
    text = KeaPatternFormatter(pattern).format(record)
    if expected is None:
        assert re.fullmatch(r"\d{4}:hello", text)
    else:
        assert text == expected


def test_one_debug_line_per_decision(tmp_path, configure):
    out = tmp_path / "kea.log"
    configure([{"name": "kea-dhcp4", "severity": "DEBUG",
                "output_options": [{"output": str(out)}]}])
    pipe = server([subnet()])
    offer, ack = dora(pipe, mac(1))
    exchange(pipe, packet(3, mac(2), requested="198.51.100.7", server_id=SERVER))   # NAK
    exchange(pipe, packet(3, mac(1), requested="192.0.2.15"))                       # NAK
    exchange(pipe, packet(3, mac(3), requested="192.0.2.11", server_id="192.0.2.99"))  # drop
    exchange(pipe, packet(7, mac(1), ciaddr=ack.yiaddr, server_id=SERVER))           # release
    text = out.read_text()
    ids = [m.split()[0] for _, _, m in read(out)]
    for message_id in ("DHCP4_SUBNET_SELECTED", "DHCP4_LEASE_ADVERT", "DHCP4_LEASE_ALLOC",
                       "DHCP4_PACKET_NAK_0004", "DHCP4_PACKET_NAK_0002",
                       "DHCP4_PACKET_DROP", "DHCP4_RELEASE"):
        assert any(i.startswith(message_id) for i in ids), (message_id, text)
    assert f"{ack.yiaddr}" in text and "server identifier names another server" in text


def test_warn_severity_hides_the_decisions(tmp_path, configure):
    out = tmp_path / "kea.log"
    configure([{"name": "kea-dhcp4", "severity": "WARN",
                "output_options": [{"output": str(out)}]}])
    pipe = server([subnet()])
    dora(pipe, mac(1))
    assert out.read_text() == ""
