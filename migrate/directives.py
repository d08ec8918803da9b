"""keama's ``%`` directives: statements dhcpd skips and keama obeys.

They tell keama which side knows an option or a space and how Kea names it
(ISC keama/confparse.c, parse_directive). All are top-level statements::

    % option space NAME alias KEA-NAME | dynamic | ISC KEA
    % option SPACE.NAME alias KEA-NAME | dynamic | ISC KEA | local | define
    % option SPACE.NAME code N = "ISC-FORMAT"

where ISC and KEA are each ``known`` or ``unknown``: whether ISC DHCP and Kea
know the option (or space) natively. ``local`` keeps an option's definition out
of Kea's ``option-def`` (Kea defines it), ``define`` forces one; ``alias`` and
``code`` only apply to options and spaces the file itself defines (keama's
"dynamic" ones) unless a ``dynamic`` directive made a built-in one so.
"""
from kea_tools.migrate.options import format_type
from kea_tools.migrate.values import Cursor

STATUS_WORDS = ("known", "unknown")


def directive(conv, stmt, scope):
    """Apply one ``%`` statement to the conversion ``conv`` (a Converter)."""
    cur = Cursor(stmt.words, stmt, 1)
    if scope.kind != "root":
        raise conv.error(stmt, "directives are only supported at toplevel")
    tok = cur.peek()
    if cur.accept("option") is None:
        raise cur.error(f"unknown directive {tok.text if tok is not None else ''}".rstrip(), tok)
    if cur.accept("space") is not None:
        return _space_directive(conv, cur)
    name_tok = cur.peek()
    space, name = None, cur.name("expecting an option name")
    if cur.punct("."):
        space, name = name, cur.name("expecting an option name")
    word_tok = cur.peek()
    word = cur.accept("alias", "code", "dynamic", "local", "define", *STATUS_WORDS)
    if word == "code":
        return _code_directive(conv, stmt, cur, space, name, name_tok)
    d = conv.reg.lookup(space, name, name_tok)
    label = f"{d.kea_space}.{d.kea_name}"
    if word == "alias":
        alias = cur.name("expecting identifier after alias keyword.")
        if not d.dynamic:
            raise conv.error(stmt, f"attempt to rename {label} to {alias}", word_tok)
        d.kea_name = alias
    elif word == "dynamic":
        d.dynamic = True
    elif word in STATUS_WORDS:
        isc, kea = word == "known", _status(cur) == "known"
        if not isc and not kea:
            raise conv.error(stmt, f"illicit combination: option {label} code {d.code} "
                             "is known by nobody", word_tok)
        # Kea's own table decides the option-def: a Kea-known option needs none.
        d.kea_known = kea
        d.user = not kea and d.fmt != "u"
    elif word == "local":
        if not d.dynamic:
            raise conv.error(stmt, f"can't find option {label} code {d.code} in definitions",
                             word_tok)
        d.user = False
    elif word == "define":
        if d.user:
            raise conv.error(stmt, f"unexpected definition for option {label} code {d.code}",
                             word_tok)
        d.user = True
        d.kea_known = True
        if not any(entry is d for _, entry in conv.option_defs):
            conv.option_defs.append((stmt, d))
    else:
        raise cur.error(f"unknown option directive {word_tok.text if word_tok else ''}".rstrip(),
                        word_tok)
    cur.expect_end()


def _status(cur):
    word = cur.accept(*STATUS_WORDS)
    if word is None:
        raise cur.error("expected KNOWN or UNKNOWN")
    return word


def _space_directive(conv, cur):
    tok = cur.peek()
    name = cur.name("expecting identifier.")
    sp = conv.reg.spaces.get(name)
    if sp is None:
        raise cur.error(f"can't find space '{name}'", tok)
    word_tok = cur.peek()
    word = cur.accept("alias", "dynamic", *STATUS_WORDS)
    if word == "alias":
        alias = cur.name("expecting identifier after alias keyword.")
        if not sp.dynamic:
            raise cur.error(f"attempt to rename {sp.kea_name} to {alias}", word_tok)
        sp.kea_name = alias
        for d in conv.reg.defs.values():
            if d.isc_space == name:
                d.kea_space = alias
    elif word == "dynamic":
        sp.dynamic = True
    elif word in STATUS_WORDS:
        isc, kea = word == "known", _status(cur) == "known"
        if not isc and not kea:
            raise cur.error(f"illicit combination: space {sp.kea_name} is known by nobody", word_tok)
        sp.kea_defines, sp.kea_unknown = kea, not kea
    else:
        raise cur.error("expected KNOWN or UNKNOWN or DYNAMIC", word_tok)
    cur.expect_end()


def _code_directive(conv, stmt, cur, space, name, name_tok):
    """``code N = "FORMAT"``: define an option from its raw ISC format string."""
    code_tok = cur.peek()
    code = cur.number("expecting option code number.")
    existing = conv.reg.defs.get((space or "dhcp", name)) or conv.reg.by_code.get((space or "dhcp", code))
    if existing is not None:
        raise conv.error(stmt, f"attempt to redefine {existing.kea_space}.{existing.kea_name} "
                         f"code {code}", code_tok)
    if not cur.punct("="):
        raise cur.error('expecting "="')
    fmt_tok = cur.peek()
    if fmt_tok is None or fmt_tok.type != "STRING":
        raise cur.error("expecting format string")
    fmt = cur.next().text
    cur.expect_end()
    kea = format_type(fmt)
    if kea is None:
        raise conv.error(stmt, f'failed to convert format "{fmt}" for option '
                         f"{space or 'dhcp'}.{name} code {code}", fmt_tok)
    kea_type, array, record_types = kea
    d = conv.reg.define(space, name, code, fmt, kea_type, array, record_types, "", name_tok)
    if d.user:
        conv.option_defs.append((stmt, d))
