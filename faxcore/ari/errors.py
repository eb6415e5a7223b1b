"""ARI errors, from the HTTP status and Asterisk's own message."""

from __future__ import annotations

from faxcore.errors import FaxcoreError


class AriError(FaxcoreError):
    """An ARI request failed; ``status`` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0, method: str = "", path: str = "") -> None:
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        where = f"{method} {path}: " if method else ""
        code = f" (HTTP {status})" if status else ""
        super().__init__(f"ARI {where}{message}{code}")


class AriBadRequest(AriError):
    """400/422: Asterisk refused the parameters."""


class AriNotFound(AriError):
    """404: the channel, bridge, recording... does not exist (any more)."""


class AriConflict(AriError):
    """409/412: the object exists already or is in the wrong state."""


class AriUnavailable(AriError):
    """Asterisk cannot be reached, or answered 5xx/503."""


class AriRequestTimeout(AriUnavailable):
    """No answer in time: the channel or bridge it names may be stuck inside Asterisk."""


class AriResourceStuck(AriUnavailable):
    """Not sent: an earlier request about the same channel or bridge timed out.

    Every further request on a deadlocked channel would only add a blocked
    thread inside Asterisk, so faxcore stops issuing them.
    """


class AriApplicationTaken(AriError):
    """Another ARI client serves (or took over) the same application name."""


class AriProtocolError(AriError):
    """Asterisk sent something that is not the JSON ARI documents."""


_BY_STATUS: dict[int, type[AriError]] = {
    400: AriBadRequest,
    404: AriNotFound,
    409: AriConflict,
    412: AriConflict,
    422: AriBadRequest,
}


def error_for_status(status: int, message: str, method: str = "", path: str = "") -> AriError:
    """The ``AriError`` subclass for an HTTP status (pure, for the REST edge)."""
    if status >= 500:
        return AriUnavailable(message, status, method, path)
    cls = _BY_STATUS.get(status, AriError)
    return cls(message, status, method, path)
