"""keama's '%' directives, errors in ISC's reading order, server-duid in DHCPv4."""
import pytest

from kea_tools.errors import SourceError
from kea_tools.migrate import grammar
from kea_tools.migrate.convert import Converter
from kea_tools.migrate.emit import plain
from kea_tools.migrate.options import format_type

SPACE = "option space foo;\noption foo.bar code 1 = text;\n"


def convert(text, family=4):
    result = Converter(family).convert_text(text, "t.conf")
    return result, plain(result.doc)["Dhcp4" if family == 4 else "Dhcp6"]


def error(text, family=4):
    with pytest.raises(SourceError) as info:
        Converter(family).convert_text(text, "t.conf")
    err = info.value
    return err.line, err.col, err.message


# -- directives --------------------------------------------------------------------

@pytest.mark.parametrize("isc,kea,option_def", [("known", "unknown", True), ("known", "known", False),
                                                ("unknown", "known", False)])
def test_status_directive_decides_who_defines_the_option(isc, kea, option_def):
    _, out = convert(SPACE + f"% option foo.bar {isc} {kea};\noption foo.bar \"x\";\n")
    assert ("option-def" in out) is option_def
    assert out["option-data"] == [{"space": "foo", "name": "bar", "code": 1, "data": "x"}]


def test_known_by_nobody_is_an_error_at_its_line():
    assert error(SPACE + "\n% option foo.bar unknown unknown;\n") == (
        4, 18, "illicit combination: option foo.bar code 1 is known by nobody")


def test_local_keeps_the_definition_out_and_define_puts_it_back():
    _, out = convert(SPACE + "% option foo.bar local;\n")
    assert "option-def" not in out
    _, out = convert(SPACE + "% option foo.bar local;\n% option foo.bar define;\n")
    assert out["option-def"] == [{"space": "foo", "name": "bar", "code": 1, "type": "string"}]
    assert error(SPACE + "% option foo.bar define;\n")[2] == \
        "unexpected definition for option foo.bar code 1"
    assert error("% option domain-name local;\n")[2] == \
        "can't find option dhcp4.domain-name code 15 in definitions"


def test_alias_renames_only_options_the_file_defines():
    _, out = convert(SPACE + "% option foo.bar alias renamed;\noption foo.bar \"x\";\n")
    assert out["option-def"][0]["name"] == "renamed"
    assert out["option-data"][0]["name"] == "renamed"
    assert error("% option domain-name alias dn;\n")[2] == "attempt to rename dhcp4.domain-name to dn"
    _, out = convert("% option domain-name dynamic;\n% option domain-name alias dn;\n"
                     "option domain-name \"example.org\";\n")
    assert out["option-data"][0]["name"] == "dn"


def test_code_directive_defines_an_option_from_an_isc_format():
    _, out = convert("option space foo;\n% option foo.pair code 2 = \"IS\";\noption foo.pair 10.0.0.1 7;\n")
    assert out["option-def"] == [{"space": "foo", "name": "pair", "code": 2, "type": "record",
                                  "record-types": "ipv4-address, uint16"}]
    assert out["option-data"][0]["data"] == "10.0.0.1, 7"
    assert error(SPACE + "% option foo.bar code 1 = \"t\";\n")[2] == "attempt to redefine foo.bar code 1"
    assert error("option space foo;\n% option foo.x code 3 = \"Efoo.\";\n")[2] == \
        'failed to convert format "Efoo." for option foo.x code 3'


@pytest.mark.parametrize("fmt,kea", [("X", ("binary", False, [])), ("Ia", ("ipv4-address", True, [])),
                                     ("D", ("fqdn", True, [])), ("BSa", ("record", True, ["uint8", "uint16"])),
                                     ("Enwip.", None), ("Q", None)])
def test_format_type(fmt, kea):
    assert format_type(fmt) == kea


def test_space_directives():
    _, out = convert(SPACE + "% option space foo alias bar-space;\n")
    assert out["option-def"][0]["space"] == "bar-space"
    result, out = convert(SPACE + "% option space foo known unknown;\noption foo.bar \"x\";\n")
    assert "option-data" not in out and len(result.issues) == 1
    _, out = convert(SPACE + "% option space foo unknown known;\noption foo.bar \"x\";\n")
    assert "option-def" not in out and out["option-data"][0]["space"] == "foo"
    assert error(SPACE + "% option space foo unknown unknown;\n")[2] == \
        "illicit combination: space foo is known by nobody"
    assert error("% option space dhcp alias d4;\n")[2] == "attempt to rename dhcp4 to d4"
    assert error("% option space nope dynamic;\n")[2] == "can't find space 'nope'"


def test_directive_errors():
    assert error("subnet 10.0.0.0 netmask 255.0.0.0 {\n  % option domain-name dynamic;\n}\n")[:1] == (2,)
    assert error("% frob;\n")[2] == "unknown directive frob"
    assert error("% option domain-name sideways;\n")[2] == "unknown option directive sideways"
    assert error("% option domain-name known;\n")[2] == "expected KNOWN or UNKNOWN"


def test_percent_is_still_modulo_inside_an_expression():
    stmts = grammar.parse_text("if 7 % 3 = 1 { }\n", "t")
    assert [t.type for t in stmts[0].words[1:4]] == ["NUMBER", "%", "NUMBER"]


# -- errors in ISC's reading order ---------------------------------------------------

def test_statement_before_a_lexical_error_fails_first():
    text = "option no-such-option 1;\noption domain-name \"unterminated;\n"
    assert error(text) == (1, 8, "unknown option dhcp.no-such-option")
    assert error("option domain-name \"x\";\noption host-name \"oops;\n") == (2, 18, "unterminated string")


def test_subclass_checks_its_class_before_the_rest_of_the_statement():
    assert error('subclass "nope" "abc {\n') == (1, 1, "no class named nope")
    text = 'class "c" { match if option host-name = "x"; }\nsubclass "c" "abc {\n'
    assert error(text)[2] == "found class name c but it is not a suitable superclass"
    text = 'class "c" { match option host-name; }\nsubclass "c" "abc {\n'
    assert error(text) == (2, 14, "unterminated string")


def test_lexical_error_inside_blocks_and_includes(tmp_path):
    assert error("subnet 10.0.0.0 netmask 255.0.0.0 {\n  pool {\n    range \"x;\n")[:2] == (3, 11)
    assert error("on commit {\n  log (\"never closed);\n}\n")[2] == "unterminated string"
    inc = tmp_path / "inc.conf"
    inc.write_text("option domain-name \"a;\n")
    with pytest.raises(SourceError) as info:
        Converter(4).convert_text(f'include "{inc}";\n', "t.conf")
    assert (info.value.file, info.value.line) == (str(inc), 1)


def test_misplaced_keyword_is_reported_where_isc_stopped_reading():
    assert error("group {\n  interface \"eth0\";\n}\n") == (1, 7, "expecting a parameter or declaration")
    assert error("default-lease-time 60;\nmatch if true;\n") == (1, 22, "expecting a parameter or declaration")


# -- server-duid in a DHCPv4 configuration -----------------------------------------------

def test_server_duid_is_refused_in_dhcpv4():
    text = "default-lease-time 60;\nserver-duid llt ethernet 1 00:11:22:33:44:55;\n"
    assert error(text) == (2, 1, "expecting a parameter or declaration")
    _, out = convert(text, 6)
    assert out["server-id"]["type"] == "LLT"


def test_server_duid_errors_come_before_the_dhcpv4_refusal():
    assert error("server-duid llt ethernet a8:11:22:33:44:55;\n")[2] == "timestamp expected"
    assert error("server-duid ll;\nserver-duid en 2 \"x\";\n")[:1] == (2,)
    assert error("server-duid ll;\nserver-duid en 2 \"x\";\n")[2] == "there is already a server-id"
