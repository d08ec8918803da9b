"""A client for Kea's control channel: JSON over a UNIX stream socket.

One command per connection (Kea ARM, "Management API"): write one JSON object
``{"command": ..., "arguments": ...}``, read until the reply is one complete
JSON value (Kea sends no length prefix and then closes), decode it.
"""
import json
import socket
from dataclasses import dataclass, field

from kea_tools.errors import UserError

RESULT_SUCCESS = 0
RESULT_ERROR = 1
RESULT_UNSUPPORTED = 2
RESULT_EMPTY = 3


class ControlError(UserError):
    """The control channel could not be reached or answered nonsense."""


@dataclass(slots=True)
class ControlResponse:
    """One Kea answer: ``result`` code, ``text`` and ``arguments``."""

    result: int
    text: str = ""
    arguments: object = field(default=None)

    @property
    def ok(self):
        return self.result == RESULT_SUCCESS


@dataclass(slots=True)
class ControlClient:
    """Send commands to a Kea (or keactl) server's control socket."""

    path: str
    timeout: float = 30.0

    def send(self, command, arguments=None):
        """Run ``command`` and return the raw decoded reply (a dict, or a list via the CA)."""
        request = {"command": command}
        if arguments is not None:
            request["arguments"] = arguments
        payload = json.dumps(request).encode("utf-8")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(self.path)
                sock.sendall(payload)
                return self._receive(sock)
        except FileNotFoundError:
            raise ControlError(f"{self.path}: no control socket there") from None
        except ConnectionRefusedError:
            raise ControlError(f"{self.path}: no server is listening") from None
        except socket.timeout:
            raise ControlError(f"{self.path}: no answer within {self.timeout:g} s") from None
        except OSError as err:
            raise ControlError(f"{self.path}: {err.strerror or err}") from None

    def _receive(self, sock):
        decoder = json.JSONDecoder()
        buf = b""
        while True:
            chunk = sock.recv(65536)
            if chunk:
                buf += chunk
            text = buf.decode("utf-8", "replace").strip()
            if text:
                try:
                    value, end = decoder.raw_decode(text)
                    if not text[end:].strip():
                        return value
                except ValueError:
                    pass
            if not chunk:
                if not text:
                    raise ControlError(f"{self.path}: the server closed without answering")
                raise ControlError(f"{self.path}: the answer is not JSON: {text[:80]!r}")

    def call(self, command, arguments=None):
        """Run ``command``; a ControlResponse (a CA list answer gives its first entry)."""
        reply = self.send(command, arguments)
        if isinstance(reply, list):
            reply = reply[0] if reply else {}
        if not isinstance(reply, dict) or "result" not in reply:
            raise ControlError(f"{self.path}: unexpected answer to {command}")
        return ControlResponse(reply["result"], reply.get("text", ""), reply.get("arguments"))

    def check(self, command, arguments=None, *, allow_empty=True):
        """Like call(), but a failed command becomes a one-line ControlError."""
        response = self.call(command, arguments)
        if response.ok or (allow_empty and response.result == RESULT_EMPTY):
            return response
        raise ControlError(f"{command}: {response.text or 'failed'} (result {response.result})")
