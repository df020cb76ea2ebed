"""What the doctor asks the network: DNS, NTP, a TLS handshake, HTTP. Every call has a timeout and
returns evidence (never raises for a network failure); judging it is verdict.py's job."""

from __future__ import annotations

import fcntl
import secrets
import socket
import ssl
import struct
import time
from dataclasses import dataclass

import dns.exception
import dns.resolver
import httpx
import ntplib
from cryptography import x509

from phonehome.doctor import dhcpwire
from phonehome.doctor.walk import Query

MAX_BODY = 256 * 1024


@dataclass(frozen=True, slots=True)
class Record:
    """An answer: an address (A, option 42) or a target and port (SRV)."""

    host: str
    port: int | None
    text: str


@dataclass(frozen=True, slots=True)
class Answer:
    query: Query
    records: tuple[Record, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.records)

    def describe(self) -> str:
        head = f"{self.query.rdtype} {self.query.name}"
        if self.records:
            return f"{head} → {', '.join(r.text for r in self.records)}"
        return f"{head} → {self.error}"


class Dns:
    """A resolver pinned to one server (``--dns-server``) with no search list: names are asked as given."""

    def __init__(self, server: str | None, port: int = 53, timeout: float = 3.0) -> None:
        if server is None:
            self.resolver = dns.resolver.Resolver(configure=True)
        else:
            self.resolver = dns.resolver.Resolver(configure=False)
            self.resolver.nameservers = [server]
        self.resolver.port = port
        self.resolver.lifetime = timeout
        self.resolver.timeout = timeout
        self.resolver.search = []

    def ask(self, query: Query) -> Answer:
        if query.rdtype == "OPT":
            return Answer(query, (Record(query.name, query.port, f"option 42 {query.name}"),))
        try:
            rrset = self.resolver.resolve(f"{query.name}.", query.rdtype, search=False)
        except dns.resolver.NXDOMAIN:
            return Answer(query, error="NXDOMAIN")
        except dns.resolver.NoAnswer:
            return Answer(query, error=f"no {query.rdtype} record")
        except dns.resolver.LifetimeTimeout:
            return Answer(query, error="timeout (DNS server did not answer)")
        except dns.resolver.NoNameservers:
            return Answer(query, error="REFUSED/SERVFAIL (no server answers for this name)")
        except dns.exception.DNSException as exc:
            return Answer(query, error=f"DNS error: {exc}")
        records: list[Record] = []
        for rdata in rrset:
            if query.rdtype == "SRV":
                target = rdata.target.to_text(omit_final_dot=True)
                records.append(Record(target, int(rdata.port), f"SRV {rdata.to_text()}"))
            else:
                records.append(Record(rdata.to_text(), query.port, f"A {rdata.to_text()}"))
        if query.rdtype == "SRV":
            records.sort(key=lambda r: int(r.text.split()[1]))  # lowest priority first
        return Answer(query, tuple(records))

    def address(self, host: str) -> Answer:
        return self.ask(Query(host, "A", "target"))


@dataclass(frozen=True, slots=True)
class NtpEvidence:
    host: str
    port: int
    stratum: int | None = None
    offset: float | None = None
    error: str | None = None


def ntp_query(host: str, port: int, timeout: float) -> NtpEvidence:
    try:
        stats = ntplib.NTPClient().request(host, version=3, port=port, timeout=timeout)
    except ntplib.NTPException as exc:
        return NtpEvidence(host, port, error=str(exc))
    except OSError as exc:
        return NtpEvidence(host, port, error=f"{type(exc).__name__}: {exc}")
    return NtpEvidence(host, port, stratum=int(stats.stratum), offset=float(stats.offset))


@dataclass(frozen=True, slots=True)
class TlsEvidence:
    address: str
    port: int
    sni: str
    leaf: x509.Certificate | None = None
    chain_error: str | None = None  # None: chains to the CA given (or the system store)
    error: str | None = None  # no handshake at all


def _handshake(address: str, port: int, sni: str, ctx: ssl.SSLContext, timeout: float) -> bytes:
    with (
        socket.create_connection((address, port), timeout=timeout) as sock,
        ctx.wrap_socket(sock, server_hostname=sni) as tls,
    ):
        return tls.getpeercert(binary_form=True) or b""


def inspect_tls(address: str, port: int, sni: str, cafile: str | None, timeout: float) -> TlsEvidence:
    """Fetch the server certificate (no verification), then verify the chain alone (names are judged apart,
    because the phone's rule on names (short name and FQDN) is stricter than a browser's)."""
    loose = ssl.create_default_context()
    loose.check_hostname = False
    loose.verify_mode = ssl.CERT_NONE
    try:
        der = _handshake(address, port, sni, loose, timeout)
        leaf = x509.load_der_x509_certificate(der)
    except (OSError, ValueError) as exc:
        return TlsEvidence(address, port, sni, error=f"{type(exc).__name__}: {exc}")
    strict = ssl.create_default_context(cafile=cafile)
    strict.check_hostname = False
    try:
        _handshake(address, port, sni, strict, timeout)
    except ssl.SSLCertVerificationError as exc:
        return TlsEvidence(address, port, sni, leaf, chain_error=exc.verify_message or str(exc))
    except OSError as exc:
        return TlsEvidence(address, port, sni, leaf, chain_error=f"{type(exc).__name__}: {exc}")
    return TlsEvidence(address, port, sni, leaf)


@dataclass(frozen=True, slots=True)
class HttpEvidence:
    method: str
    url: str
    host: str
    status: int | None = None
    content_type: str = ""
    content_range: str = ""
    body: bytes = b""
    error: str | None = None

    def describe(self) -> str:
        head = f"{self.method} {self.url} (Host: {self.host})"
        if self.error:
            return f"{head} → {self.error}"
        return f"{head} → {self.status} {self.content_type or 'no Content-Type'}"


def http(
    method: str,
    url: str,
    host: str,
    timeout: float,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    cafile: str | None = None,
    sni: str | None = None,
) -> HttpEvidence:
    """One request to ``url`` (an address) with the ``Host`` header (and for https the SNI) the phone
    would send; body capped."""
    all_headers = {"Host": host, **(headers or {})}
    extensions = {"sni_hostname": sni} if sni else None
    try:
        with (
            httpx.Client(timeout=timeout, verify=cafile or True, follow_redirects=False) as client,
            client.stream(method, url, content=body, headers=all_headers, extensions=extensions) as response,
        ):
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= MAX_BODY:
                    break
            return HttpEvidence(
                method,
                url,
                host,
                response.status_code,
                response.headers.get("content-type", ""),
                response.headers.get("content-range", ""),
                b"".join(chunks)[:MAX_BODY],
            )
    except httpx.HTTPError as exc:
        return HttpEvidence(method, url, host, error=f"{type(exc).__name__}: {exc}")


SIOCGIFADDR, SIOCGIFHWADDR = 0x8915, 0x8927


@dataclass(frozen=True, slots=True)
class InformEvidence:
    iface: str
    address: str = ""
    reply: dhcpwire.Reply | None = None
    error: str | None = None


def _interface(iface: str) -> tuple[str, bytes]:
    """The interface's IPv4 address and MAC (Linux ioctls)."""
    request = struct.pack("256s", iface.encode()[:15])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        address = socket.inet_ntoa(fcntl.ioctl(sock.fileno(), SIOCGIFADDR, request)[20:24])
        mac = fcntl.ioctl(sock.fileno(), SIOCGIFHWADDR, request)[18:24]
    return address, mac


def dhcp_inform(
    iface: str, timeout: float, *, server_port: int = 67, client_port: int = 68
) -> InformEvidence:
    """Broadcast one DHCPINFORM on ``iface`` (needs root) and wait for the matching ACK until ``timeout``."""
    try:
        address, mac = _interface(iface)
    except OSError as exc:
        return InformEvidence(iface, error=f"interface {iface}: {exc.strerror or exc}")
    xid = secrets.randbits(32)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
            sock.bind(("", client_port))
            sock.sendto(dhcpwire.render_inform(xid, mac, address), ("255.255.255.255", server_port))
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                packet = sock.recv(4096)
                try:
                    reply = dhcpwire.parse_reply(packet)
                except dhcpwire.WireError:
                    continue  # someone else's traffic on the port
                if reply.xid == xid:
                    return InformEvidence(iface, address, reply)
    except TimeoutError:
        pass
    except OSError as exc:
        return InformEvidence(iface, address, error=f"{type(exc).__name__}: {exc}")
    return InformEvidence(iface, address, error=f"no DHCPACK within {timeout:g} s")
