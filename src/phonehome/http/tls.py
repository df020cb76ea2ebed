"""TLS for the phone HTTPS listener: server certificate (reloadable) and optional client certificates."""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

from phonehome.errors import StartupError

log = logging.getLogger("phonehome.tls")

_VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


@dataclass
class _Stamp:
    cert_mtime: float = 0.0
    key_mtime: float = 0.0


class ServerTls:
    """One live ``SSLContext`` whose certificate is swapped in place when the files change.

    asyncio keeps the context it was given for the listener, so reloading means loading the new
    chain into that same object: new handshakes get the new certificate, open ones keep theirs.
    The files are first tried in a scratch context so a half-renewed pair (key and cert from
    different runs) never reaches the listener.
    """

    def __init__(
        self, cert_file: Path, key_file: Path, client_ca_files: list[Path], min_version: str = "TLSv1.2"
    ) -> None:
        self.cert_file = cert_file
        self.key_file = key_file
        self.client_ca_files = client_ca_files
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = _VERSIONS[min_version]
        # OPTIONAL: phones without a device certificate still connect; routes decide what they may do.
        self.context.verify_mode = ssl.CERT_OPTIONAL
        for ca in client_ca_files:
            try:
                self.context.load_verify_locations(cafile=str(ca))
            except (OSError, ssl.SSLError) as exc:
                raise StartupError(f"client CA file {ca}: {exc}") from exc
        self._stamp = _Stamp()
        if not self.reload():
            raise StartupError(f"cannot load the server certificate {cert_file} with key {key_file}")

    def _mtimes(self) -> _Stamp:
        try:
            return _Stamp(self.cert_file.stat().st_mtime, self.key_file.stat().st_mtime)
        except OSError:
            return _Stamp()

    def reload(self) -> bool:
        """Load the certificate and key into the live context; False (and no change) if they don't fit."""
        stamp = self._mtimes()
        scratch = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            scratch.load_cert_chain(str(self.cert_file), str(self.key_file))
            self.context.load_cert_chain(str(self.cert_file), str(self.key_file))
        except (OSError, ssl.SSLError) as exc:
            log.warning("server certificate not (re)loaded", extra={"error": str(exc)})
            return False
        self._stamp = stamp
        log.info("server certificate loaded", extra={"cert": str(self.cert_file)})
        return True

    def reload_if_changed(self) -> bool:
        stamp = self._mtimes()
        if stamp.cert_mtime and (stamp.cert_mtime, stamp.key_mtime) != (
            self._stamp.cert_mtime,
            self._stamp.key_mtime,
        ):
            return self.reload()
        return False
