"""never-send (Kea 2.6's option-data flag, accepted by keactl): the option at the
most specific level decides, so a subnet can silence a global option, and a
client asking for it does not get it."""
from tests.server.test_classes import offer, section, server
from tests.server.helpers import mac


def test_subnet_never_send_silences_a_global_option_even_when_requested():
    sec = section()
    sec["subnet4"][0]["option-data"] = [{"name": "domain-name-servers", "never-send": True}]
    o = offer(server(sec), mac(1), prl=bytes([6]))
    assert o.options.data(6) is None


def test_never_send_beats_always_send_and_lower_levels_still_win():
    sec = section(**{"option-data": [{"name": "domain-name", "data": "example.org",
                                      "always-send": True, "never-send": True}]})
    assert offer(server(sec), mac(1)).options.data(15) is None
    sec["subnet4"][0]["option-data"] = [{"name": "domain-name", "data": "sub.example.org"}]
    o = offer(server(sec), mac(2), prl=bytes([15]))
    assert o.options.data(15) == b"sub.example.org"
