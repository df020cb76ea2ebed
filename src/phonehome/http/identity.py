"""Who is at the other end of a TLS connection: the verified client certificate, parsed once."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID


@dataclass(frozen=True, slots=True)
class PeerIdentity:
    """A client certificate the HTTPS listener verified against the configured client CA(s)."""

    subject: str
    common_name: str | None
    dns_names: tuple[str, ...]
    uris: tuple[str, ...]
    emails: tuple[str, ...]
    serial: str  # hex, upper case, as admins read it in certificate viewers
    sha256: str  # fingerprint of the DER, lower-case hex
    issuer: str

    def names(self) -> tuple[str, ...]:
        """Every name this certificate can be mapped by: CN first, then SANs."""
        first = (self.common_name,) if self.common_name else ()
        return first + self.dns_names + self.uris + self.emails


@functools.lru_cache(maxsize=4096)
def identity_from_der(der: bytes) -> PeerIdentity:
    """Parse a DER certificate; cached, since a phone keeps its certificate across connections."""
    cert = x509.load_der_x509_certificate(der)
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = tuple(san.get_values_for_type(x509.DNSName))
        uris = tuple(san.get_values_for_type(x509.UniformResourceIdentifier))
        emails = tuple(san.get_values_for_type(x509.RFC822Name))
    except x509.ExtensionNotFound:
        dns = uris = emails = ()
    cn = cns[0].value if cns else None
    return PeerIdentity(
        subject=cert.subject.rfc4514_string(),
        common_name=cn if isinstance(cn, str) else None,
        dns_names=dns,
        uris=uris,
        emails=emails,
        serial=f"{cert.serial_number:X}",
        sha256=hashlib.sha256(der).hexdigest(),
        issuer=cert.issuer.rfc4514_string(),
    )
