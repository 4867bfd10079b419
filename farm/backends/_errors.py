"""The backend error taxonomy: what is retried, what ends a conversation, what ends a run."""

from __future__ import annotations


class BackendError(Exception):
    """A model call failed. `retryable` tells the retry loop whether another try can help."""

    retryable: bool = False
    #: Short machine-readable kind, stored in records and counted in reports.
    kind: str = "error"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TransientError(BackendError):
    """Transport error, timeout, server error or unreadable body: worth another try."""

    retryable = True
    kind = "transient"


class RequestTimeoutError(TransientError):
    """The server did not answer within the request timeout."""

    kind = "timeout"


class RateLimitError(TransientError):
    """The provider asked us to slow down (HTTP 429)."""

    kind = "rate_limit"

    def __init__(
        self, message: str, *, status: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        #: Seconds to wait that the provider requested in its headers, or None.
        self.retry_after = retry_after


class RequestRejectedError(BackendError):
    """The provider rejected the request itself (HTTP 400, 404, 422): retrying cannot help."""

    kind = "bad_request"


class ContextLengthError(RequestRejectedError):
    """The conversation no longer fits the model's context window."""

    kind = "context_exceeded"


class AuthenticationError(BackendError):
    """The API key is missing, wrong or lacks permission. The whole run stops."""

    kind = "authentication"

    def __init__(self, message: str, *, status: int | None = None, key_env: str | None = None):
        super().__init__(message, status=status)
        #: Environment variable that should hold the key, named in the message for the user.
        self.key_env = key_env


class RetriesExhaustedError(BackendError):
    """A retryable error kept happening until the retry budget or the maximum wait ran out."""

    kind = "retries_exhausted"

    def __init__(self, message: str, *, last_error: BackendError) -> None:
        super().__init__(message, status=last_error.status)
        self.last_error = last_error
