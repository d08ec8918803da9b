"""Client classes: definitions from the configuration and Kea's evaluation order.

Independent of sockets: the server builds a :class:`Query` per packet and calls

1. ``drop = classifier.classify(query)`` right after parsing (Kea's steps 1-5:
   ALL, the vendor class, every class whose test does not depend on KNOWN/UNKNOWN
   and is not only-if-required, in configuration order; then the DROP check);
2. after subnet selection and host lookup,
   ``drop = classifier.classify_known(query, known, host_classes)`` (KNOWN or
   UNKNOWN, the reservation's classes, the classes that depend on KNOWN/UNKNOWN,
   the DROP check again);
3. after pool selection, ``classifier.evaluate_required(query, names)`` with the
   shared network's, then the subnet's, then the pool's require-client-classes.

``classes_in_order(query)`` gives the definitions of the assigned classes in the
order they were assigned, which is the order option-data is looked up in (the
first class that sets an option wins); ``fixed_fields(query)`` gives the v4
next-server / server-hostname / boot-file-name the classes set, and
``permits(client_class, query)`` applies a subnet's, shared network's or pool's
``client-class`` guard.
"""
import logging
from dataclasses import dataclass, field

from kea_tools.classify.compiler import compile_expression
from kea_tools.classify.errors import EvalError, ExpressionError
from kea_tools.classify.optionspace import OptionDefs, vendor_class_tuples
from kea_tools.errors import UserError

log = logging.getLogger("kea_tools.classify")

BUILTIN_NAMES = ("ALL", "KNOWN", "UNKNOWN", "BOOTP")
BUILTIN_PREFIXES = ("VENDOR_CLASS_", "HA_", "AFTER_", "EXTERNAL_")
VENDOR_CLASS_PREFIX = "VENDOR_CLASS_"
DROP = "DROP"
# Kea's v6 vendor-class special cases (DOCSIS 3.0 cable modems and eRouters).
DOCSIS3_V6_CLASSES = ("docsis3.0", "eRouter1.0")

# Keys of a client-classes entry that this module interprets; the rest is kept
# in ClientClassDef.config for the server (valid-lifetime, user-context, ...).
_KNOWN_KEYS = {"name", "test", "only-if-required", "option-data", "option-def",
               "next-server", "server-hostname", "boot-file-name"}


def is_builtin(name):
    """Kea's isClientClassBuiltIn: a built-in name or a reserved prefix plus text."""
    return name in BUILTIN_NAMES or any(
        len(name) > len(p) and name.startswith(p) for p in BUILTIN_PREFIXES)


class ClientClassError(UserError):
    """A client-classes entry Kea would reject; ``cause`` may be an ExpressionError."""

    def __init__(self, class_name, message, cause=None):
        super().__init__(f"client class '{class_name}': {message}")
        self.class_name = class_name
        self.cause = cause


@dataclass(slots=True)
class ClientClassDef:
    """One entry of ``client-classes``."""

    name: str
    test: object = None            # compiled Expression, or None
    test_text: str = ""
    only_if_required: bool = False
    depend_on_known: bool = False
    option_data: list = field(default_factory=list)
    option_def: list = field(default_factory=list)
    next_server: str = "0.0.0.0"
    server_hostname: str = ""
    boot_file_name: str = ""
    config: dict = field(default_factory=dict)


class Classifier:
    """Compiled ``client-classes`` of one server configuration (Dhcp4 or Dhcp6)."""

    def __init__(self, client_classes=(), universe=4, option_defs=(), bootp=False,
                 logger=None, assigned_id="CLASS_ASSIGNED"):
        self.universe = universe
        self.bootp = bootp
        # A server logs class membership under its own logger and message id
        # (Kea's DHCP4_CLASS_ASSIGNED / DHCP6_CLASS_ASSIGNED).
        self.log = logger or log
        self.assigned_id = assigned_id
        self.defs = OptionDefs.coerce(option_defs, universe)
        self.classes = []
        self.by_name = {}
        self._early = []
        self._late = []
        for entry in client_classes:
            self._add(entry)

    # --- configuration ---------------------------------------------------------
    def _class_defined(self, name, seen_known):
        if is_builtin(name):
            if name in ("KNOWN", "UNKNOWN"):
                seen_known.append(name)
            return True
        found = self.by_name.get(name)
        if found is None:
            return False
        if found.depend_on_known:
            seen_known.append(name)
        return True

    def _add(self, entry):
        if isinstance(entry, ClientClassDef):
            self._register(entry)
            return
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise UserError("client class without a name")
        if name in self.by_name:
            raise ClientClassError(name, "has already been defined")
        text = entry.get("test", "")
        required = bool(entry.get("only-if-required", False))
        if name in BUILTIN_NAMES:
            if required:
                raise ClientClassError(name, "built-in class: only-if-required must be false")
            if text:
                raise ClientClassError(name, "built-in class: test expression must be empty")
        seen_known = []
        test = None
        if text:
            try:
                test = compile_expression(
                    text, self.universe, "bool", self.defs,
                    lambda n: self._class_defined(n, seen_known))
            except ExpressionError as err:
                raise ClientClassError(name, f"test: {err}", err) from None
        cdef = ClientClassDef(
            name, test, text, required, bool(seen_known),
            list(entry.get("option-data", ())), list(entry.get("option-def", ())),
            entry.get("next-server", "0.0.0.0"), entry.get("server-hostname", ""),
            entry.get("boot-file-name", ""),
            {k: v for k, v in entry.items() if k not in _KNOWN_KEYS})
        self._register(cdef)

    def _register(self, cdef):
        self.classes.append(cdef)
        self.by_name[cdef.name] = cdef
        # The classes each pass tests, kept apart so a packet's pass loops only
        # over classes that can match in it.
        if cdef.test is not None and not cdef.only_if_required:
            (self._late if cdef.depend_on_known else self._early).append(cdef)

    # --- per packet ---------------------------------------------------------------
    def classify(self, query, label=None):
        """Steps 1-5 of Kea's classification; True if the packet is to be dropped.
        ``label`` (text, or a callable giving it) names the packet in debug logs."""
        # This runs for every packet a server receives: class names go straight
        # into the query's ordered set, and the passes run only when there are
        # classes to test.
        classes = query.classes
        if self.universe == 4 and self.bootp and query.message.msg_type is None:
            classes["BOOTP"] = None
        classes["ALL"] = None
        vendor = self._vendor_class(query)
        if vendor is not None:
            classes[VENDOR_CLASS_PREFIX + vendor] = None
        if self._early:
            self._evaluate(query, depend_on_known=False)
        query.deferred_unpacked = True
        if self.log.isEnabledFor(logging.DEBUG):
            self._log_assigned(query, label)
        return DROP in classes

    def classify_known(self, query, known, host_classes=(), label=None):
        """Steps 8-10: after the host lookup; True if the packet is to be dropped."""
        classes = query.classes
        classes["KNOWN" if known else "UNKNOWN"] = None
        for name in host_classes:
            classes[name] = None
        if self._late:
            self._evaluate(query, depend_on_known=True)
        if self.log.isEnabledFor(logging.DEBUG):
            self._log_assigned(query, label)
        return DROP in classes

    def evaluate_required(self, query, names, label=None):
        """Step 12: evaluate the required classes ``names`` (shared network's, then
        subnet's, then pool's); Kea 2.2 adds only classes whose test matches."""
        for name in dict.fromkeys(names):
            cdef = self.by_name.get(name)
            if cdef is None:
                log.debug("required class %s has no definition", name)
                continue
            if cdef.test is None:
                log.debug("required class %s has no test expression", name)
                continue
            self._test(query, cdef)
        self._log_assigned(query, label)

    def classes_in_order(self, query):
        """Definitions of the query's classes in the order they were assigned."""
        return [self.by_name[n] for n in query.classes if n in self.by_name]

    def fixed_fields(self, query):
        """{"next-server", "server-hostname", "boot-file-name"} set by the classes:
        each field comes from the first class, in assignment order, that sets it
        (ARM, "Setting Fixed Fields in Classification")."""
        out = {}
        for cdef in self.classes_in_order(query):
            for key, value in (("next-server", cdef.next_server),
                               ("server-hostname", cdef.server_hostname),
                               ("boot-file-name", cdef.boot_file_name)):
                if value and value != "0.0.0.0":
                    out.setdefault(key, value)
        return out

    @staticmethod
    def permits(client_class, query):
        """Kea's guard on a subnet, shared network or pool: no ``client-class``, or a
        class the packet belongs to."""
        return not client_class or client_class in query.classes

    # --- internals -------------------------------------------------------------------
    def _vendor_class(self, query):
        if self.universe == 4:
            data = query.option(60)
            return None if data is None else data.rstrip(b"\0").decode("utf-8", "replace")
        data = query.option(16)
        parsed = None if data is None else vendor_class_tuples(6, data)
        if not parsed or not parsed[1]:
            return None
        texts = [t.decode("utf-8", "replace") for t in parsed[1]]
        for special in DOCSIS3_V6_CLASSES:
            if special in texts:
                return special
        return texts[0]

    def _evaluate(self, query, depend_on_known):
        for cdef in self._late if depend_on_known else self._early:
            self._test(query, cdef)

    def _test(self, query, cdef):
        try:
            status = cdef.test.evaluate(query)
        except EvalError as err:  # Kea logs the failure; the class does not match
            log.error("EVAL_RESULT Expression %s evaluated to %s", cdef.name, err)
            return False
        log.debug("EVAL_RESULT Expression %s evaluated to %s", cdef.name,
                  "true" if status else "false")
        if status:
            query.add_class(cdef.name)
        return status

    def _log_assigned(self, query, label=None):
        logger = self.log
        if logger.isEnabledFor(logging.DEBUG):
            if callable(label):
                label = label()
            logger.debug("%s %sclient packet has been assigned to the following "
                         "class(es): %s", self.assigned_id, f"{label}: " if label else "",
                         ", ".join(query.classes))
