"""Each operator and function, with the edge cases Kea defines."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kea_tools.classify import EvalError, ExpressionError, Query, compile_expression
from tests.classify.packets import v4


def value(expr, query=None):
    return compile_expression(expr, 4, "string")(query or Query(v4()))


def truth(expr, query=None):
    return compile_expression(expr, 4, "bool")(query or Query(v4()))


# --- literals ---------------------------------------------------------------------
@pytest.mark.parametrize("expr,expected", [
    ("''", b""),
    ("'with spaces and \"quotes\"'", b'with spaces and "quotes"'),
    ("'caf\u00e9'", "caf\u00e9".encode()),
    ("0x0", b"\x00"),
    ("0xabc", b"\x0a\xbc"),       # odd digit count: a leading 0
    ("0XABCD", b"\xab\xcd"),
    ("0", bytes(4)),
    ("4294967295", b"\xff\xff\xff\xff"),
    ("00000000000000000001", b"\x00\x00\x00\x01"),
    ("::", bytes(16)),
    ("::ffff:192.0.2.1", bytes(10) + b"\xff\xff\xc0\x00\x02\x01"),
    ("255.255.255.255", b"\xff" * 4),
])
def test_literals(expr, expected):
    assert value(expr) == expected


def test_parentheses_around_strings_and_booleans():
    assert value("(('a') + ('b'))") == b"ab"
    assert truth("((('a' == 'a')))") is True


# --- == not and or --------------------------------------------------------------------
def test_equal_is_bytewise():
    assert truth("'A' == 'a'") is False
    assert truth("0x41 == 'A'") is True
    assert truth("1 == 0x00000001") is True
    assert truth("1 == 0x01") is False          # integers are 4 bytes
    assert truth("10.0.0.1 == 0x0a000001") is True
    assert truth("'' == ''") is True
    assert truth("option[99].hex == ''") is True  # absent option is the empty string


def test_not_binds_tighter_than_and_which_binds_tighter_than_or():
    t, f = "'x' == 'x'", "'x' == 'y'"
    assert truth(f"not {f} and {f}") is False      # (not f) and f
    assert truth(f"not ({f} and {f})") is True
    assert truth(f"{t} or {t} and {f}") is True    # t or (t and f)
    assert truth(f"{f} and {t} or {t}") is True    # (f and t) or t
    assert truth(f"not not {t}") is True


def test_and_or_evaluate_both_operands_as_kea_2_2():
    # Kea 2.2 does not short-circuit: an operand that fails fails the whole test.
    failing = "addrtotext(0x010203) == ''"
    for expr in (f"'x' == 'y' and {failing}", f"'x' == 'x' or {failing}"):
        with pytest.raises(EvalError):
            truth(expr)


# --- concat and + -----------------------------------------------------------------------
def test_concat_and_plus():
    assert value("concat('', '')") == b""
    assert value("'a' + 0x00 + 1") == b"a\x00\x00\x00\x00\x01"
    assert truth("'a' == 'b' + 'c'") is False
    assert truth("'bc' == 'b' + 'c'") is True
    assert truth("'b' + 'c' == 'bc'") is True


# --- substring ---------------------------------------------------------------------------
@pytest.mark.parametrize("start,length,expected", [
    (0, "all", b"foobar"), (5, "all", b"r"), (6, "all", b""), (-6, "all", b"foobar"),
    (-7, "all", b""), (0, 0, b""), (0, 100, b"foobar"), (2, -100, b"fo"),
    (0, -1, b""), (-1, 1, b"r"), (5, -5, b"fooba"), (5, -6, b"fooba"), (3, -1, b"o"),
])
def test_substring(start, length, expected):
    assert value(f"substring('foobar', {start}, {length})") == expected


def test_substring_of_empty_string_is_empty_even_with_bad_numbers():
    assert value("substring('', 5000000000, 1)") == b""
    with pytest.raises(EvalError):
        value("substring('x', 5000000000, 1)")
    with pytest.raises(EvalError):
        value("substring('x', 0, -5000000000)")


@given(st.binary(max_size=20), st.integers(-25, 25))
def test_substring_all_is_a_slice(data, start):
    q = Query(v4((250, data)))
    got = value(f"substring(option[250].hex, {start}, all)", q)
    if not data or not -len(data) <= start < len(data):
        assert got == b""
    else:
        assert got == data[start:]


@given(st.binary(min_size=1, max_size=20), st.integers(0, 19), st.integers(1, 25))
def test_substring_negative_length_takes_bytes_before_start(data, start, back):
    start %= len(data)
    got = value(f"substring(option[250].hex, {start}, -{back})", Query(v4((250, data))))
    assert got == data[max(0, start - back):start]


# --- split -----------------------------------------------------------------------------------
@pytest.mark.parametrize("args,expected", [
    ("'a.b.c', '.', 1", b"a"), ("'a.b.c', '.', 3", b"c"), ("'a.b.c', '.', 0", b""),
    ("'a.b.c', '.', -1", b""), ("'a.b.c', '.', 4", b""),
    ("'.a.', '.', 1", b""), ("'.a.', '.', 3", b""), ("'.a.', '.', 2", b"a"),
    ("'a,b;c', ',;', 2", b"b"), ("'a,b;c', ',;', 3", b"c"),
    ("'a.b', '', 1", b"a.b"), ("'a.b', '', 7", b"a.b"),   # no delimiters: the input
    ("'', '.', 1", b""),
    ("'a]b[c', ']', 2", b"b[c"), ("'a-b^c', '^-', 3", b"c"),   # regex characters
])
def test_split(args, expected):
    assert value(f"split({args})") == expected


def test_split_field_out_of_int_range_fails_only_on_non_empty_input():
    assert value("split('', '.', 99999999999)") == b""
    with pytest.raises(EvalError):
        value("split('a', '.', 99999999999)")


# --- ifelse --------------------------------------------------------------------------
def test_ifelse():
    assert value("ifelse('a' == 'a', 'yes', 'no')") == b"yes"
    assert value("ifelse(not ('a' == 'a'), 'yes', 'no')") == b"no"
    with pytest.raises(EvalError):  # both branches are evaluated in Kea 2.2
        value("ifelse('a' == 'a', 'yes', addrtotext(0x01))")


# --- hexstring -----------------------------------------------------------------------
@pytest.mark.parametrize("args,expected", [
    ("0x0a1b2c3e, ':'", b"0a:1b:2c:3e"), ("0xABCD, ''", b"abcd"), ("'', ':'", b""),
    ("0x00, '--'", b"00"), ("0x0001, '::'", b"00::01"),
])
def test_hexstring(args, expected):
    assert value(f"hexstring({args})") == expected


# --- conversions ---------------------------------------------------------------------
@pytest.mark.parametrize("expr,expected", [
    ("addrtotext('')", b""), ("addrtotext(0xc0000201)", b"192.0.2.1"),
    ("addrtotext(::1)", b"::1"), ("addrtotext(::ffff:10.0.0.1)", b"::ffff:10.0.0.1"),
    ("int8totext(0x80)", b"-128"), ("int8totext(0x7f)", b"127"), ("int8totext('')", b""),
    ("int16totext(0x8000)", b"-32768"), ("int32totext(0x80000000)", b"-2147483648"),
    ("uint8totext(0x80)", b"128"), ("uint16totext(0x8000)", b"32768"),
    ("uint32totext(0x80000000)", b"2147483648"), ("uint32totext(7)", b"7"),
    ("uint32totext('')", b""),
])
def test_conversions(expr, expected):
    assert value(expr) == expected


@pytest.mark.parametrize("expr", [
    "addrtotext(0x010203)", "addrtotext(0x0102030405)", "int8totext(0x0102)",
    "int16totext(0x01)", "int32totext(0x010203)", "uint8totext(1)", "uint16totext(1)",
    "uint32totext(0x01)",
])
def test_conversions_need_the_exact_size(expr):
    with pytest.raises(EvalError):
        value(expr)


# --- later Kea additions ---------------------------------------------------------------
def test_lcase_ucase_match():
    assert value("lcase('AbC-1')") == b"abc-1"
    assert value("ucase('AbC-1')") == b"ABC-1"
    assert truth("match('^foo[0-9]+$', 'foo42')") is True
    assert truth("match('bar', 'foo42')") is False
    with pytest.raises(ExpressionError, match="invalid regular expression") as err:
        compile_expression("match('(', 'x')")
    assert err.value.col == 7
    for expr in ("lcase('A') == 'a'", "match('a', 'a')"):
        with pytest.raises(ExpressionError, match="Invalid character"):
            compile_expression(expr, kea_2_2_only=True)


# --- member ------------------------------------------------------------------------------
def test_member_checks_definitions_at_compile_time():
    defined = {"ALL", "gold"}.__contains__
    compile_expression("member('gold')", class_defined=defined)
    with pytest.raises(ExpressionError, match="Not defined client class 'silver'") as err:
        compile_expression("member('silver')", class_defined=defined)
    assert (err.value.col, err.value.end_col) == (8, 15)
    expr = compile_expression("member('gold') or member('ALL') or member('gold')",
                              class_defined=defined)
    assert expr.members == ("gold", "ALL")
    assert expr.depends_on({"gold"}) and not expr.depends_on({"KNOWN", "UNKNOWN"})


# --- constant folding ----------------------------------------------------------------------
def test_constant_sub_expressions_are_folded():
    expr = compile_expression("substring('foobar', 0, 3) + 'x' == 'foox'")
    assert expr.evaluate(None) is True  # needs no packet at all
    # A constant that fails stays a run-time failure, as in Kea.
    expr = compile_expression("addrtotext(0x01) == ''")
    with pytest.raises(EvalError):
        expr.evaluate(None)


@given(st.text(max_size=40))
def test_any_text_parses_or_fails_with_an_expression_error(text):
    try:
        compile_expression(text)
    except ExpressionError as err:
        assert err.line >= 1 and err.col >= 1
