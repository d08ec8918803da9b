"""The lexer chooses tokens the way Kea's flex lexer does (longest match, then
the earlier rule)."""
import pytest

from kea_tools.classify import ExpressionError
from kea_tools.classify.lexer import tokenize


def kinds(text):
    return [t[0] for t in tokenize(text)]


@pytest.mark.parametrize("text,expected", [
    ("notmember('x')", ["NOT", "MEMBER", "LPAREN", "STRING", "RPAREN"]),
    ("option[vendor-class]", ["OPTION", "LBRACKET", "OPTION_NAME", "RBRACKET"]),
    ("option[exists ]", ["OPTION", "LBRACKET", "OPTION_NAME", "RBRACKET"]),
    ("vendor-class[1].data", ["VENDOR_CLASS", "LBRACKET", "INTEGER", "RBRACKET", "DOT", "DATA"]),
    ("vendor.enterprise", ["VENDOR", "DOT", "ENTERPRISE"]),
    ("fe80::1", ["IP_ADDRESS"]),
    ("dead::beef", ["IP_ADDRESS"]),
    ("10.0.0.1", ["IP_ADDRESS"]),
    ("1.2.3", ["INTEGER", "DOT", "INTEGER", "DOT", "INTEGER"]),
    ("0x1f", ["HEXSTRING"]),
    ("-12+3", ["INTEGER", "PLUS", "INTEGER"]),
    ("'a'=='b'", ["STRING", "EQUAL", "STRING"]),
    ("all*,", ["ALL", "ANY", "COMA"]),
])
def test_longest_match(text, expected):
    assert kinds(text) == expected


def test_values():
    toks = tokenize("option[ host-name\t] 0xABC 'x y' 42 ::1")
    assert toks[2][:2] == ("OPTION_NAME", "host-name")
    assert toks[4][1] == b"\x0a\xbc"
    assert toks[5][1] == b"x y"
    assert toks[6][1] == "42"
    assert toks[7][1] == bytes(15) + b"\x01"


def test_newlines_count_lines_and_columns():
    with pytest.raises(ExpressionError) as err:
        tokenize("option[1].exists and\n  option[2].exists and\n   #")
    assert (err.value.line, err.value.col) == (3, 4)
    assert err.value.caret() == "   #\n   ^"


@pytest.mark.parametrize("text,message,col", [
    ("99999999999999999999", "Failed to convert 99999999999999999999 to an integer.", 1),
    ("  1.2.3.256", "Failed to convert 1.2.3.256 to an IP address.", 3),
    ("'a' ! 'b'", "Invalid character: !", 5),
    ("'open", "Invalid character: '", 1),
    ("Option", "Invalid character: O", 1),
])
def test_errors(text, message, col):
    with pytest.raises(ExpressionError) as err:
        tokenize(text)
    assert (err.value.message, err.value.col) == (message, col)
