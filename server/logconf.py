"""Kea's ``loggers`` configuration (ARM logging.rst) on Python logging.

A ``loggers`` entry names a logger (``kea-dhcp4``, or one below it such as
``kea-dhcp4.packets``, ``kea-dhcp4.leases``, ``kea-dhcp4.bad-packets``), a
``severity`` (FATAL, ERROR, WARN, INFO, DEBUG, NONE), a ``debuglevel`` (0-99:
with DEBUG, debug messages up to that level are written) and
``output_options``: ``stdout``, ``stderr``, ``syslog`` / ``syslog:NAME`` or a
file path, with ``flush`` (write each line through), ``maxsize`` / ``maxver``
(rotate the file at maxsize bytes, keeping maxver old versions, as
``FILE.1`` .. ``FILE.N``) and ``pattern`` (log4cplus conversion characters).

Messages start with Kea's message id. A debug message may carry its Kea debug
level as ``extra={"debuglevel": N}``; untagged debug messages (the server's
per-decision lines) count as level 0, so ``"severity": "DEBUG"`` alone shows
them.
"""
import logging
import logging.handlers
import sys
import time
from pathlib import Path

SEVERITIES = {"FATAL": logging.CRITICAL, "ERROR": logging.ERROR, "WARN": logging.WARNING,
              "INFO": logging.INFO, "DEBUG": logging.DEBUG, "NONE": logging.CRITICAL + 10}
KEA_LEVEL_NAMES = {logging.CRITICAL: "FATAL", logging.ERROR: "ERROR", logging.WARNING: "WARN",
                   logging.INFO: "INFO", logging.DEBUG: "DEBUG"}
# Kea's default layouts (log4cplus), for files/streams and for syslog.
DEFAULT_PATTERN = "%D{%Y-%m-%d %H:%M:%S.%q} %-5p [%c/%i.%t] %m\n"
SYSLOG_PATTERN = "%-5p [%c.%t] %m\n"
# Kea refuses smaller maxsize values (other than 0: no rotation).
MIN_MAXSIZE = 204800


class KeaPatternFormatter(logging.Formatter):
    """log4cplus's PatternLayout: %d / %D{strftime, %q = milliseconds} the time
    (UTC / local), %p the severity, %c the logger, %i the process id, %t the
    thread, %m the message, %n a newline, %% a percent sign; an optional
    ``-`` and width pad a field."""

    FIELDS = {
        "p": lambda r: KEA_LEVEL_NAMES.get(r.levelno, r.levelname),
        "c": lambda r: r.name,
        "i": lambda r: str(r.process),
        "t": lambda r: str(r.thread),
        "m": lambda r: r.getMessage(),
        "n": lambda r: "\n",
    }

    def __init__(self, pattern):
        super().__init__()
        self.parts = self._compile(pattern)

    def _compile(self, pattern):
        parts, i, n, text = [], 0, len(pattern), ""
        while i < n:
            ch = pattern[i]
            if ch != "%" or i + 1 >= n:
                text += ch
                i += 1
                continue
            j = i + 1
            if pattern[j] == "%":
                text += "%"
                i = j + 1
                continue
            left = pattern[j] == "-"
            j += left
            digits = ""
            while j < n and pattern[j].isdigit():
                digits += pattern[j]
                j += 1
            if j >= n:
                text += pattern[i:]
                break
            conv, j = pattern[j], j + 1
            arg = None
            if j < n and pattern[j] == "{":
                close = pattern.find("}", j)
                if close > 0:
                    arg, j = pattern[j + 1:close], close + 1
            if text:
                parts.append(text)
                text = ""
            parts.append((conv, arg, left, int(digits or 0)))
            i = j
        if text:
            parts.append(text)
        return parts

    @staticmethod
    def _time(record, arg, local):
        fmt = (arg or "%Y-%m-%d %H:%M:%S.%q").replace("%q", f"{int(record.msecs):03d}")
        stamp = time.localtime(record.created) if local else time.gmtime(record.created)
        return time.strftime(fmt, stamp)

    def format(self, record):
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            conv, arg, left, width = part
            if conv in ("d", "D"):
                value = self._time(record, arg, conv == "D")
            else:
                field = self.FIELDS.get(conv)
                value = field(record) if field else f"%{conv}"
            out.append(value.ljust(width) if left else value.rjust(width))
        text = "".join(out)
        if record.exc_info:
            text = text.rstrip("\n") + "\n" + self.formatException(record.exc_info) + "\n"
        # Handlers add their own line end.
        return text[:-1] if text.endswith("\n") else text


class DebugLevelFilter(logging.Filter):
    """Kea's debuglevel: a debug message is written when its level (extra
    ``debuglevel``, 0 when untagged) is at most the logger's."""

    def __init__(self, debuglevel):
        super().__init__()
        self.debuglevel = debuglevel

    def filter(self, record):
        return record.levelno != logging.DEBUG or \
            getattr(record, "debuglevel", 0) <= self.debuglevel


class _UnflushedStream(logging.StreamHandler):
    """``"flush": false``: lines stay in the stream's buffer until it fills (or the
    handler closes), which is cheaper per message."""

    def flush(self):
        pass

    def close(self):
        try:
            logging.StreamHandler.flush(self)
        finally:
            super().close()


class _Unflushed:
    """Kea's "flush": false: records reach the file when the stream's buffer
    fills or the handler closes, not after each one."""

    def flush(self):
        pass

    def close(self):
        self.acquire()
        try:
            if self.stream is not None:
                self.stream.flush()
        finally:
            self.release()
        super().close()


class _UnflushedFile(_Unflushed, logging.FileHandler):
    pass


class _UnflushedRotating(_Unflushed, logging.handlers.RotatingFileHandler):
    pass


def _stream(stream, flush):
    return logging.StreamHandler(stream) if flush else _UnflushedStream(stream)


def make_handler(option):
    """One ``output_options`` entry -> a handler with its formatter."""
    output = getattr(option, "output", None) or "stdout"
    flush = getattr(option, "flush", True)
    pattern = getattr(option, "pattern", "") or ""
    if output == "stdout":
        handler = _stream(sys.stdout, flush)
    elif output == "stderr":
        handler = _stream(sys.stderr, flush)
    elif output == "syslog" or output.startswith("syslog:"):
        ident = output.partition(":")[2] or "kea"
        try:
            handler = logging.handlers.SysLogHandler(
                address="/dev/log", facility=logging.handlers.SysLogHandler.LOG_USER)
            handler.ident = ident + ": "
        except OSError:  # no syslog daemon here: the messages still go somewhere
            handler = _stream(sys.stderr, flush)
        pattern = pattern or SYSLOG_PATTERN
    else:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        maxsize, maxver = getattr(option, "maxsize", 0) or 0, getattr(option, "maxver", 0) or 0
        if maxsize and maxver:
            cls = logging.handlers.RotatingFileHandler if flush else _UnflushedRotating
            handler = cls(output, maxBytes=max(maxsize, MIN_MAXSIZE), backupCount=maxver)
        else:
            handler = logging.FileHandler(output) if flush else _UnflushedFile(output)
    handler.setFormatter(KeaPatternFormatter(pattern or DEFAULT_PATTERN))
    return handler


def _reset(logger):
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    for flt in list(logger.filters):
        logger.removeFilter(flt)


def apply_loggers(loggers, root_name, debug=False):
    """Configure ``root_name`` (kea-dhcp4 / kea-dhcp6) and the configured loggers
    below it; loggers configured before and no longer named are reset to
    inherit from the root."""
    root = logging.getLogger(root_name)
    configured = {}
    for entry in loggers:
        name = entry.name
        if name == root_name or name.startswith(root_name + "."):
            configured.setdefault(name, entry)
    # Children configured by an earlier configuration go back to inheriting.
    prefix = root_name + "."
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if name.startswith(prefix) and isinstance(logger, logging.Logger) \
                and getattr(logger, "_kea_configured", False):
            _reset(logger)
            logger.setLevel(logging.NOTSET)
            logger.propagate = True
            logger._kea_configured = False
    entry = configured.pop(root_name, None)
    _configure(root, entry, debug, default_output=True)
    root.propagate = False
    for name, entry in configured.items():
        logger = logging.getLogger(name)
        _configure(logger, entry, debug, default_output=False)
        # A logger with its own outputs writes only there (log4cplus additivity
        # off, as Kea configures it); without outputs it uses the root's.
        logger.propagate = not entry.output_options
        logger._kea_configured = True


def _configure(logger, entry, debug, default_output):
    _reset(logger)
    severity = (entry.severity if entry is not None else "INFO").upper()
    level = SEVERITIES.get(severity, logging.INFO)
    debuglevel = entry.debuglevel if entry is not None else 0
    outputs = list(entry.output_options) if entry is not None else []
    if debug:
        # -d: DEBUG and debuglevel 99 whatever the configuration says (kea-dhcpN -d).
        level, debuglevel = logging.DEBUG, 99
    if not outputs and default_output:
        outputs = [_Option("stderr")]
    for option in outputs:
        handler = make_handler(option)
        # On the handler, so it also sees the records of child loggers.
        handler.addFilter(DebugLevelFilter(debuglevel))
        logger.addHandler(handler)
    logger.setLevel(level)


class _Option:
    """An output_options entry for the defaults (stderr)."""

    __slots__ = ("output", "flush", "maxsize", "maxver", "pattern")

    def __init__(self, output):
        self.output, self.flush, self.maxsize, self.maxver, self.pattern = output, True, 0, 0, ""
