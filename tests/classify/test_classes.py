"""Client classes in Kea's order: built-ins, the early pass, the pass after host
lookup, required classes, DROP, and the configuration errors Kea reports."""
import logging

import pytest

from kea_tools.classify import Classifier, ClientClassError, Query
from tests.classify.packets import tlv4, v4, v6


def classes(query):
    return list(query.classes)


def test_early_pass_order_and_skips():
    clf = Classifier([
        {"name": "b", "test": "option[61].exists"},
        {"name": "a", "test": "option[60].exists"},
        {"name": "late", "test": "member('KNOWN')"},
        {"name": "required", "test": "option[61].exists", "only-if-required": True},
        {"name": "no-test"},
        {"name": "miss", "test": "option[99].exists"},
    ])
    q = Query(v4((60, b"vendor-x"), (61, b"\x01")))
    assert clf.classify(q) is False
    assert classes(q) == ["ALL", "VENDOR_CLASS_vendor-x", "b", "a"]


def test_known_dependent_classes_wait_for_the_host_lookup():
    clf = Classifier([
        {"name": "reserved", "test": "member('KNOWN')"},
        {"name": "stranger", "test": "member('UNKNOWN') and option[61].exists"},
        {"name": "via-class", "test": "member('reserved') or member('stranger')"},
        {"name": "early", "test": "option[61].exists"},
    ])
    assert [c.name for c in clf.classes if c.depend_on_known] == \
        ["reserved", "stranger", "via-class"]
    q = Query(v4((61, b"\x01")))
    clf.classify(q)
    assert classes(q) == ["ALL", "early"]
    clf.classify_known(q, known=False)
    assert classes(q) == ["ALL", "early", "UNKNOWN", "stranger", "via-class"]

    q = Query(v4((61, b"\x01")))
    clf.classify(q)
    clf.classify_known(q, known=True, host_classes=["from-host"])
    assert classes(q) == ["ALL", "early", "KNOWN", "from-host", "reserved", "via-class"]


def test_drop_early_and_after_host_lookup():
    clf = Classifier([{"name": "DROP", "test": "option[61].hex == 'bad'"}])
    assert clf.classify(Query(v4((61, b"bad")))) is True
    assert clf.classify(Query(v4((61, b"good")))) is False

    clf = Classifier([{"name": "DROP", "test": "member('UNKNOWN')"}])
    q = Query(v4())
    assert clf.classify(q) is False
    assert clf.classify_known(q, known=False) is True
    q = Query(v4())
    clf.classify(q)
    assert clf.classify_known(q, known=True) is False


def test_required_classes():
    clf = Classifier([
        {"name": "net", "test": "'a' == 'a'", "only-if-required": True},
        {"name": "sub", "test": "option[61].exists", "only-if-required": True},
        {"name": "pool", "test": "'a' == 'b'", "only-if-required": True},
        {"name": "plain", "test": "'a' == 'a'"},
        {"name": "untestable", "only-if-required": True},
    ])
    q = Query(v4((61, b"\x01")))
    clf.classify(q)
    assert classes(q) == ["ALL", "plain"]
    clf.evaluate_required(q, ["net", "sub", "net", "pool", "untestable", "undefined"])
    # Kea 2.2 adds a required class only when its test matches.
    assert classes(q) == ["ALL", "plain", "net", "sub"]


def test_member_may_only_name_earlier_or_built_in_classes():
    with pytest.raises(ClientClassError, match="Not defined client class 'later'") as err:
        Classifier([{"name": "first", "test": "member('later')"},
                    {"name": "later", "test": "'a' == 'a'"}])
    assert err.value.class_name == "first"
    assert err.value.cause.col == 8
    with pytest.raises(ClientClassError, match="Not defined client class 'self'"):
        Classifier([{"name": "self", "test": "member('self')"}])
    Classifier([{"name": "x", "test": "member('VENDOR_CLASS_docsis3.0') or member('HA_peer') "
                                      "or member('EXTERNAL_x') or member('BOOTP')"}])


def test_configuration_errors():
    with pytest.raises(ClientClassError, match="has already been defined"):
        Classifier([{"name": "a"}, {"name": "a"}])
    with pytest.raises(ClientClassError, match="test expression must be empty"):
        Classifier([{"name": "KNOWN", "test": "'a' == 'a'"}])
    with pytest.raises(ClientClassError, match="only-if-required must be false"):
        Classifier([{"name": "ALL", "only-if-required": True}])
    with pytest.raises(ClientClassError, match=r"test: <expression>:1:1: Invalid character"):
        Classifier([{"name": "bad", "test": "bogus"}])
    # A built-in name may be defined to attach options.
    clf = Classifier([{"name": "ALL", "option-data": [{"code": 6, "data": "10.0.0.1"}]}])
    q = Query(v4())
    clf.classify(q)
    assert clf.classes_in_order(q)[0].option_data == [{"code": 6, "data": "10.0.0.1"}]


def test_evaluation_failure_means_no_match_and_is_logged(caplog):
    clf = Classifier([{"name": "broken", "test": "addrtotext(option[61].hex) == ''"},
                      {"name": "fine", "test": "'a' == 'a'"}])
    q = Query(v4((61, b"\x01\x02\x03")))
    with caplog.at_level(logging.ERROR, logger="kea_tools.classify"):
        assert clf.classify(q) is False
    assert classes(q) == ["ALL", "fine"]
    assert "broken" in caplog.text


def test_membership_is_in_the_debug_log(caplog):
    clf = Classifier([{"name": "gold", "test": "option[61].exists"}])
    with caplog.at_level(logging.DEBUG, logger="kea_tools.classify"):
        clf.classify(Query(v4((61, b"\x01"))))
    assert "Expression gold evaluated to true" in caplog.text
    assert "following class(es): ALL, gold" in caplog.text


def test_vendor_classes():
    q = Query(v4((60, b"MSFT 5.0\x00")))
    Classifier([]).classify(q)
    assert classes(q) == ["ALL", "VENDOR_CLASS_MSFT 5.0"]

    def v6_with(*tuples):
        data = (4491).to_bytes(4, "big") + b"".join(len(t).to_bytes(2, "big") + t
                                                    for t in tuples)
        q = Query(v6((16, data)))
        Classifier([], universe=6).classify(q)
        return classes(q)
    assert v6_with(b"foo", b"docsis3.0") == ["ALL", "VENDOR_CLASS_docsis3.0"]
    assert v6_with(b"foo", b"eRouter1.0") == ["ALL", "VENDOR_CLASS_eRouter1.0"]
    assert v6_with(b"foo", b"bar") == ["ALL", "VENDOR_CLASS_foo"]
    assert v6_with() == ["ALL"]


def test_bootp_class_when_enabled():
    pkt = v4()
    pkt.options.remove_code(53)
    q = Query(pkt)
    Classifier([], bootp=True).classify(q)
    assert classes(q) == ["BOOTP", "ALL"]
    q = Query(v4())
    Classifier([], bootp=True).classify(q)
    assert classes(q) == ["ALL"]


def test_fixed_fields_and_option_lookup_order():
    clf = Classifier([
        {"name": "pxe", "test": "option[93].exists", "next-server": "10.0.0.5",
         "boot-file-name": "pxelinux.0"},
        {"name": "efi", "test": "option[93].hex == 0x0007", "boot-file-name": "grubx64.efi",
         "server-hostname": "tftp"},
    ])
    q = Query(v4((93, b"\x00\x07")))
    clf.classify(q)
    assert [c.name for c in clf.classes_in_order(q)] == ["pxe", "efi"]
    # Each field from the first class that sets it (ARM: "Setting Fixed Fields").
    assert clf.fixed_fields(q) == {"next-server": "10.0.0.5", "boot-file-name": "pxelinux.0",
                                   "server-hostname": "tftp"}


def test_guards():
    q = Query(v4())
    q.add_class("ALL")
    q.add_class("gold")
    assert Classifier.permits(None, q) and Classifier.permits("", q)
    assert Classifier.permits("gold", q) and not Classifier.permits("silver", q)


def test_option_43_is_unpacked_for_late_classes():
    clf = Classifier([{"name": "early", "test": "option[43].option[1].exists"},
                      {"name": "late", "test": "option[43].option[1].exists and "
                                               "member('UNKNOWN')"}])
    q = Query(v4((43, tlv4((1, b"x")))))
    clf.classify(q)
    clf.classify_known(q, known=False)
    assert classes(q) == ["ALL", "UNKNOWN", "late"]


def test_custom_option_defs_for_class_tests():
    clf = Classifier([{"name": "c", "test": "option[site-code].hex == 0x01"}],
                     option_defs=[{"name": "site-code", "code": 224, "type": "uint8"}])
    q = Query(v4((224, b"\x01")))
    clf.classify(q)
    assert "c" in q.classes


def test_server_logger_message_id_and_lazy_label(caplog):
    """A server passes its packet logger, Kea's message id and a label that is
    computed only when the line is written."""
    calls = []
    clf = Classifier([{"name": "gold", "test": "option[61].exists"}],
                     logger=logging.getLogger("tests.classify.server"),
                     assigned_id="DHCP4_CLASS_ASSIGNED")

    def label():
        calls.append(1)
        return "[hwtype=1 02:00:00:00:00:01], tid=0x1"
    clf.classify(Query(v4((61, b"\x01"))), label)
    assert calls == []  # debug off: no label built
    with caplog.at_level(logging.DEBUG, logger="tests.classify.server"):
        clf.classify(Query(v4((61, b"\x01"))), label)
    assert calls == [1]
    assert ("DHCP4_CLASS_ASSIGNED [hwtype=1 02:00:00:00:00:01], tid=0x1: client packet has "
            "been assigned to the following class(es): ALL, gold") in caplog.text


def test_refresh_sees_changed_options_and_adopts_an_index():
    clf = Classifier([{"name": "gold", "test": "option[61].exists"},
                      {"name": "late", "test": "option[61].exists and member('KNOWN')"}])
    pkt = v4((12, b"host"))
    q = Query(pkt)
    clf.classify(q)
    assert "gold" not in q.classes
    # A pkt4_receive callout adds option 61; the pass after the host lookup sees it.
    pkt.options.set(61, b"\x01")
    q.refresh()
    clf.classify_known(q, True)
    assert "late" in q.classes
    q = Query(pkt)
    q.refresh({61: b"\x01\x02"})
    assert q.option(61) == b"\x01\x02" and q.option(12) is None


def test_source_address_with_zone_and_converted_on_demand():
    from kea_tools.classify import compile_expression
    expr = compile_expression("pkt.src == fe80::1", 6)
    assert expr.evaluate(Query(v6(), src="fe80::1%eth0"))
    assert not expr.evaluate(Query(v6(), src="fe80::2"))
