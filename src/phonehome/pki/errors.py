"""PKI errors, each with its HTTP status and CLI exit code (see phonehome.errors)."""

from __future__ import annotations

from phonehome.errors import BadRequest, Conflict, NotFound, PhonehomeError


class PkiError(PhonehomeError):
    """PKI error."""


class BadCaMaterial(BadRequest):
    """The CA certificate, key or chain cannot be used."""


class CaKeyLocked(PhonehomeError):
    """The CA key is encrypted: set pki.ca_key_passphrase_file."""

    exit_code = 3


class BadCertsrvQuery(BadRequest):
    """Unsupported certsrv query."""


class CertsrvNotFound(NotFound):
    """No such CA certificate."""


class BadScepMessage(BadRequest):
    """Not a SCEP message this server can answer."""


class UnknownScepOperation(BadRequest):
    """Unknown SCEP operation."""


class BadAccount(BadRequest):
    """Invalid account name."""


class TransactionNotFound(NotFound):
    """No such SCEP transaction."""


class TransactionNotPending(Conflict):
    """The SCEP transaction is not pending."""


class CertificateNotFound(NotFound):
    """No such certificate."""
