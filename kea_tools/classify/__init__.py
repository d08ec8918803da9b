"""Kea's client-classification expression language, compiled to Python callables.

    expr = compile_expression("substring(option[61].hex,0,3) == 'foo'", universe=4)
    expr(Query(packet4, iface="eth0"))          # -> True / False

:func:`compile_expression` parses once (PLY, built lazily) and returns an
:class:`Expression` whose ``evaluate(query)`` is a chain of closures; bad
expressions raise :class:`ExpressionError` with the column. :class:`Classifier`
applies a configuration's ``client-classes`` in Kea's order. See HACKING.md.
"""
from kea_tools.classify.classes import (
    BUILTIN_NAMES, ClientClassDef, ClientClassError, Classifier, is_builtin)
from kea_tools.classify.compiler import Expression, compile_expression
from kea_tools.classify.errors import EvalError, ExpressionError
from kea_tools.classify.optionspace import OptionDefs
from kea_tools.classify.query import Query

__all__ = [
    "BUILTIN_NAMES", "ClientClassDef", "ClientClassError", "Classifier", "EvalError",
    "Expression", "ExpressionError", "OptionDefs", "Query", "compile_expression",
    "is_builtin",
]
