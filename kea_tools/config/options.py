"""Option definitions and option data of a configuration, checked as Kea 2.2 does.

The wire encoding of ``option-data`` is the codec's (kea_tools.codec.optiondefs);
this module adds what belongs to configuration: Kea's rules for ``option-def``
entries, name/code agreement, and the client-class ``test`` expressions (compiled
with kea_tools.classify so a bad one fails ``serve -t`` as it fails Kea).
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from kea_tools.config import model

STD_OPTIONS = Path(__file__).resolve().parent.parent / "codec" / "data" / "std-options.json"

_NAME = re.compile(r"[A-Za-z0-9_-]+\Z")
MAX_CODE = {4: 254, 6: 65535}


@functools.cache
def _standard_codes():
    """(universe, code) of the options Kea 2.2 defines in dhcp4/dhcp6 (not overridable)."""
    with open(STD_OPTIONS, encoding="utf-8") as fh:
        rows = json.load(fh)["options"]
    return frozenset((r["universe"], r["code"]) for r in rows
                     if r["space"] == f"dhcp{r['universe']}" and r.get("in_kea_2_2", True))


@functools.cache
def _internal_spaces():
    """Kea's internal names of built-in vendor spaces (docsis3-v4 ...) -> config names."""
    with open(STD_OPTIONS, encoding="utf-8") as fh:
        rows = json.load(fh)["options"]
    return {(r["universe"], r["kea_internal_space"]): r["space"] for r in rows
            if r.get("kea_internal_space")}


def config_space(family, space):
    """The space name the codec knows for a space named in option-data."""
    return _internal_spaces().get((family, space), space)


def is_standard(family, code):
    return (family, code) in _standard_codes()


def valid_name(name):
    """Kea's rule for option names: letters, digits, '-' and '_', not only digits,
    not starting or ending with '-' or '_'."""
    return valid_space(name) and not name.isdigit()


def valid_space(name):
    """Kea's OptionSpace::validateName: as option names, but digits alone are fine
    (vendor spaces are often named by enterprise number, e.g. "339")."""
    return bool(_NAME.match(name)) and name[0] not in "-_" and name[-1] not in "-_"


def option_def(item, family, path, error):
    """One ``option-def`` map -> the codec's OptionDef, or ``error`` at its path."""
    from kea_tools.codec.errors import CodecError
    from kea_tools.codec.optiondefs import custom_def

    space = item.get("space", f"dhcp{family}")
    if not isinstance(space, str) or not valid_space(space):
        raise error(f"invalid option space name '{space}'", path + ("space",))
    encapsulate = item.get("encapsulate", "")
    if encapsulate and (not isinstance(encapsulate, str) or not valid_space(encapsulate)):
        raise error(f"invalid encapsulated option space name '{encapsulate}'",
                    path + ("encapsulate",))
    try:
        return custom_def(item, family)
    except CodecError as err:
        raise error(err.message, path) from None


def check_expression(text, path, error, family=4, defs=None, classes=None):
    """Compile a client class ``test`` so a bad expression fails like Kea's.

    ``classes`` is the set of class names defined before this one (Kea rejects
    member() of a class not yet defined, built-in classes excepted).
    """
    if not text:
        return None
    from kea_tools.classify.errors import ExpressionError
    from kea_tools.classify.grammar import parse

    option_code = None
    if defs is not None:
        option_code = functools.partial(_option_code, defs, family)
    class_defined = None
    if classes is not None:
        class_defined = classes.__contains__
    try:
        return parse(text, universe=family, kind="bool", option_code=option_code,
                     class_defined=class_defined)[0]
    except ExpressionError as err:
        raise error(f"expression: [{text}] error: {err.message} at column {err.col}",
                    path) from None


def _option_code(defs, family, name):
    d = defs.by_name(f"dhcp{family}", name)
    return None if d is None else d.code


def registry(family, custom_defs):
    """The option definitions in force: the standard ones plus ``custom_defs``."""
    from kea_tools.codec.optiondefs import OptionDefs

    return OptionDefs.standard(family).with_custom(custom_defs, family)


def resolve(reg, family, item, path, error):
    """One ``option-data`` map -> :class:`model.OptionData` with its wire payload."""
    from kea_tools.codec.errors import CodecError
    from kea_tools.codec.optiondefs import encode_option_data

    name, code = item.get("name"), item.get("code")
    top = f"dhcp{family}"
    space = config_space(family, item.get("space", top))
    csv = item.get("csv-format", True)
    data = item.get("data", "")
    if name is None and code is None:
        raise error("option data configuration requires one of 'code' or 'name' parameters "
                    "to be specified", path)
    if not valid_space(space):
        raise error(f"invalid option space name '{space}'", path + ("space",))
    if space == f"dhcp{10 - family}":
        raise error(f"option space '{space}' is reserved for DHCPv{10 - family}",
                    path + ("space",))
    if code is not None:
        if family == 4 and space == top and code in (0, 255):
            raise error(f"invalid option code '{code}': reserved for PAD/END", path + ("code",))
        if not 0 < code <= MAX_CODE[family]:
            raise error(f"invalid option code '{code}': it must be between 1 and "
                        f"{MAX_CODE[family]}", path + ("code",))
    if name is not None and not valid_name(name):
        raise error(f"invalid option name '{name}'", path + ("name",))
    d = reg.by_name(space, name) if name is not None else reg.get(space, code)
    if name is not None and code is not None:
        by_code = reg.get(space, code)
        if d is None and by_code is not None or d is not None and d.code != code:
            shown = by_code.name if by_code is not None else "(none)"
            raise error(f"specified option name '{name}' does not match the option definition: "
                        f"'{space}.{shown}'", path + ("name",))
    if d is None:
        if csv or code is None:
            raise error(f"definition for the option '{space}.{name or ''}' having code "
                        f"'{code or 0}' does not exist", path)
    else:
        code = d.code
    never = item.get("never-send", False)
    if never and "data" not in item:
        # Kea 2.6: an entry that only says "never send this option" needs no data.
        return model.OptionData(code, space, b"", name if name is not None else
                                (d.name if d is not None else None), "", csv,
                                item.get("always-send", False), True)
    try:
        payload = encode_option_data(reg, space, data, code=code, name=name,
                                     csv_format=csv, universe=family)
    except CodecError as err:
        raise error(f"option data does not match option definition (space: {space}, code: "
                    f"{code}): {err.message}", path + ("data",)) from None
    return model.OptionData(code, space, payload, name if name is not None else
                            (d.name if d is not None else None),
                            data, csv, item.get("always-send", False), never)
