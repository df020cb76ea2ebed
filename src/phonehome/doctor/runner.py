"""Walk the plan against the network: each step asks its probes, hands the evidence to a verdict, and
passes what it found (an NTP server, the pool, the update host) on to the later steps."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography import x509

from phonehome.doctor import probes, verdict, verdict_web
from phonehome.doctor.fixes import Fix, Hints, srv_record
from phonehome.doctor.probes import Answer, Dns, HttpEvidence
from phonehome.doctor.verdict import Result, Status
from phonehome.doctor.walk import FACTS, NTP_SRV, Kind, Profile, Query, Site, Step, plan
from phonehome.pki import certprov as certprov_codec
from phonehome.updates import ucdevice

UPX = "/RequestHandler/ucdevice.upx"
CERTSRV = "/certsrv/certnew.p7b?ReqID=CACert&Renewal=-1&Enc=b64"
CERTPROV = "/CertProv/CertProvisioningService.svc"
PROFILE_DEVICE = {
    Profile.CX700_522: ("Polycom", "CX700", "1.0.522.101"),
    Profile.CX700_35: ("Polycom", "CX700", "3.5.6907.35"),
    Profile.LPE_40: ("Polycom", "CX600", "4.0.7577.4363"),
}


@dataclass(frozen=True, slots=True)
class Options:
    site: Site
    profile: Profile = Profile.LPE_40
    dns_server: str | None = None
    dns_port: int = 53
    ca_file: Path | None = None
    http_port: int = 80  # what phones use; tests and odd set-ups override
    https_port: int = 443
    ntp_port: int | None = None  # None: the SRV record's port, else 123
    server_ip: str | None = None  # where ucupdates-r2 should point, for the fix line
    timeout: float = 3.0
    now: dt.datetime | None = None
    dhcp_iface: str | None = None  # send a DHCPINFORM there (root)
    dhcp_server_port: int = 67
    dhcp_client_port: int = 68
    hints: Hints = field(default_factory=Hints)


# The doctor checks in under a serial of its own, so the inventory shows which row it left.
DOCTOR_SERIAL = "phonehome-doctor"


def checkin_body(profile: Profile) -> bytes:
    """A check-in naming vendor, model and version, in the updates slice's request shape."""
    vendor, model, version = PROFILE_DEVICE.get(profile, ("Polycom", "CX700", "0.0.0.0"))
    checkin = ucdevice.CheckIn(
        device_type="UCPhone",
        serial=DOCTOR_SERIAL,
        vendor=vendor,
        model=model,
        revision="A",
        locale="ENU",
        modules=(ucdevice.Module("CPE.nbt", version, ""),),
    )
    return ucdevice.render_request(checkin)


class Walker:
    def __init__(self, options: Options) -> None:
        self.o = options
        self.dns = Dns(options.dns_server, options.dns_port, options.timeout)
        self.facts = FACTS[options.profile]
        self.now = options.now or dt.datetime.now(dt.UTC)
        self.cafile = str(options.ca_file) if options.ca_file else None
        self.ca = x509.load_pem_x509_certificate(options.ca_file.read_bytes()) if options.ca_file else None
        self.ntp: tuple[str, str, int, str | None] | None = None  # name, address, port, record line
        self.pool: tuple[str, int] | None = None  # FQDN, port
        self.pool_ip: str | None = None
        self.update: tuple[str, str] | None = None  # FQDN, address
        self.image: str | None = None
        self.checked_in = False
        self.tls_ok = False  # the update service certificate passed (or only warned)
        self.certprov_url: str | None = None  # from option 43

    def ask(self, step: Step, queries: tuple[Query, ...] | None = None) -> list[Answer]:
        """Ask in order and stop at the first answer, as the phone does."""
        answers: list[Answer] = []
        for query in step.queries if queries is None else queries:
            answers.append(self.dns.ask(query))
            if answers[-1].ok:
                break
        return answers

    def diagnose(self, step: Step, answers: list[Answer]) -> list[Answer]:
        if any(a.ok for a in answers):
            return []
        return [self.dns.ask(q) for q in step.diagnose]

    def address_of(self, host: str) -> Answer:
        return self.dns.address(host)

    def run(self) -> list[Result]:
        handlers: dict[Kind, Callable[[Step], Result]] = {
            Kind.TIME_DNS: self.time_dns,
            Kind.TIME_NTP: self.time_ntp,
            Kind.SIP_DNS: self.sip,
            Kind.DC_LOCATOR: self.dc,
            Kind.UPDATE_DNS: self.update_dns,
            Kind.UPDATE_TLS: self.update_tls,
            Kind.UPDATE_CHECKIN: self.checkin,
            Kind.UPDATE_CHECKIN_HTTPS: self.checkin_https,
            Kind.UPDATE_DOWNLOAD: self.download,
            Kind.POOL_TLS: self.pool_tls,
            Kind.TRUST_CERTSRV: self.certsrv,
            Kind.TRUST_CERTPROV: self.certprov,
            Kind.EXCHANGE: self.exchange,
            Kind.DHCP_INFORM: self.inform,
        }
        steps = plan(self.o.site, self.o.profile, dhcp_inform=self.o.dhcp_iface is not None)
        return [handlers[step.kind](step) for step in steps]

    def inform(self, step: Step) -> Result:
        assert self.o.dhcp_iface is not None
        evidence = probes.dhcp_inform(
            self.o.dhcp_iface,
            self.o.timeout,
            server_port=self.o.dhcp_server_port,
            client_port=self.o.dhcp_client_port,
        )
        result = verdict.dhcp_inform(step, evidence, self.o.hints)
        if result.found is not None:
            self.certprov_url = result.found[0]
        return result

    def time_dns(self, step: Step) -> Result:
        answers = self.ask(step)
        result = verdict.time_source(step, self.o.site, answers, self.diagnose(step, answers), self.o.hints)
        winner = verdict.first(answers)
        if winner is not None and result.found is not None:
            host, port = result.found
            address = host
            if winner.query.rdtype == "SRV":
                target = self.address_of(host)
                if not target.ok:
                    why = f"the NTP SRV target {host} does not resolve"
                    evidence = [*result.evidence, target.describe()]
                    return verdict.failed(
                        step, evidence, Fix(why, (verdict.a_line(host, None, "NTP server IP"),))
                    )
                address = target.records[0].host
            record = srv_record(f"{NTP_SRV}.{self.o.site.sip_domain}", self.o.hints.time_source, 123)
            port = self.o.ntp_port or (port if winner.query.rdtype == "SRV" and port else 123)
            self.ntp = (host, address, port, record)
        return result

    def time_ntp(self, step: Step) -> Result:
        if self.ntp is None:
            return verdict.skipped(step, "no time source found (see the time source step)")
        name, address, port, record = self.ntp
        evidence = probes.ntp_query(address, port, self.o.timeout)
        return verdict.ntp(step, name, evidence, record)

    def sip(self, step: Step) -> Result:
        answers = self.ask(step)
        winner = verdict.first(answers)
        target = None
        if winner is not None and winner.query.rdtype == "SRV":
            target = self.address_of(winner.records[0].host)
        result = verdict.sip(step, self.o.site, answers, target, self.o.hints)
        if result.status is not Status.FAIL and winner is not None:
            rec = winner.records[0]
            name = rec.host if winner.query.rdtype == "SRV" else winner.query.name
            self.pool = (name, rec.port or 5061)
            self.pool_ip = target.records[0].host if target and target.ok else rec.host
        return result

    def dc(self, step: Step) -> Result:
        answers = self.ask(step)
        return verdict.dc_locator(step, self.o.site, answers, self.diagnose(step, answers))

    def update_dns(self, step: Step) -> Result:
        answers = self.ask(step)
        server_ip = self.o.server_ip or self.pool_ip  # the guide: ucupdates-r2 → the pool's address
        diagnosis = self.diagnose(step, answers)
        result = verdict.update_name(step, self.o.site, answers, diagnosis, server_ip, self.o.hints)
        winner = verdict.first(answers)
        if winner is not None:
            self.update = (winner.query.name, winner.records[0].host)
        return result

    def update_tls(self, step: Step) -> Result:
        if self.update is None:
            return verdict.skipped(step, "the update service name does not resolve")
        fqdn, address = self.update
        short = fqdn.split(".", 1)[0]
        # The phone resolves the FQDN but connects with the short name (LPE article): SNI and SAN both.
        tls = probes.inspect_tls(address, self.o.https_port, short, self.cafile, self.o.timeout)
        names = (short, fqdn)
        result = verdict_web.certificate(step, tls, names, now=self.now, sha2=self.facts.sha2, ca=self.cafile)
        self.tls_ok = result.status in (Status.PASS, Status.WARN) and tls.error is None
        return result

    def pool_tls(self, step: Step) -> Result:
        if self.pool is None or self.pool_ip is None:
            return verdict.skipped(step, "no pool found by SIP discovery")
        fqdn, port = self.pool
        tls = probes.inspect_tls(self.pool_ip, port, fqdn, self.cafile, self.o.timeout)
        return verdict_web.certificate(step, tls, (fqdn,), now=self.now, sha2=self.facts.sha2, ca=self.cafile)

    def http(self, method: str, path: str, body: bytes | None = None, **headers: str) -> HttpEvidence:
        assert self.update is not None
        fqdn, address = self.update
        url = f"http://{address}:{self.o.http_port}{path}"
        # A browser's Host: the port only when it is not 80 (the offered BaseURL is built from it).
        host = fqdn if self.o.http_port == 80 else f"{fqdn}:{self.o.http_port}"
        return probes.http(method, url, host, self.o.timeout, body=body, headers=headers or None)

    def checkin(self, step: Step) -> Result:
        if self.update is None:
            return verdict.skipped(step, "the update service name does not resolve")
        get = self.http("GET", UPX)
        answers = [get]
        if get.error is None and get.status == 200:
            body = checkin_body(self.o.profile)
            answers.append(self.http("POST", UPX, body, **{"Content-Type": "text/xml"}))
        server_ip = self.o.server_ip or self.pool_ip
        result, self.image = verdict_web.checkin(step, self.update[0], answers, server_ip)
        self.checked_in = result.status is Status.PASS
        return result

    def checkin_https(self, step: Step) -> Result:
        """LPE: POST over HTTPS to the address of the FQDN, but by the short name (SNI and Host)."""
        if self.update is None:
            return verdict.skipped(step, "the update service name does not resolve")
        fqdn, address = self.update
        short = fqdn.split(".", 1)[0]
        answer = None
        if self.tls_ok:
            url = f"https://{address}:{self.o.https_port}{UPX}"
            host = short if self.o.https_port == 443 else f"{short}:{self.o.https_port}"
            body = checkin_body(self.o.profile)
            headers = {"Content-Type": "text/xml"}
            answer = probes.http(
                "POST", url, host, self.o.timeout, body=body, headers=headers, cafile=self.cafile, sni=short
            )
        return verdict_web.checkin_https(step, short, answer)

    def fetch(
        self, link: str, method: str = "GET", body: bytes | None = None, **headers: str
    ) -> HttpEvidence:
        """GET a URL whose host the phone resolves through the site's DNS (https: SNI and CA as given)."""
        url = httpx.URL(link)
        host = url.host
        header = host if url.port is None else f"{host}:{url.port}"
        if not _is_address(host):
            answer = self.address_of(host)
            if not answer.ok:
                return HttpEvidence("GET", link, header, error=f"{host} does not resolve: {answer.error}")
            url = url.copy_with(host=answer.records[0].host)
        sni = host if url.scheme == "https" else None
        return probes.http(
            method, str(url), header, self.o.timeout, body=body, headers=headers, cafile=self.cafile, sni=sni
        )

    def download(self, step: Step) -> Result:
        if self.image is None:
            if not self.checked_in:
                return verdict.skipped(step, "no usable check-in answer (see the check-in step)")
            return verdict_web.download(step, None, None)
        fetched = self.fetch(self.image, Range="bytes=0-1023")
        return verdict_web.download(step, self.image, fetched)

    def certsrv(self, step: Step) -> Result:
        if self.update is None:
            return verdict.skipped(step, "no host to ask: the update service name does not resolve")
        return verdict_web.certsrv(step, self.http("GET", CERTSRV), self.ca)

    def certprov(self, step: Step) -> Result:
        """A real GetRootCertChains SOAP call, at the option 43 URL when the INFORM found one."""
        body = certprov_codec.render_request()
        headers = {
            "Content-Type": certprov_codec.CONTENT_TYPES[certprov_codec.SOAP11],
            "SOAPAction": f'"{certprov_codec.AUTH_NS}{certprov_codec.GET_ROOT_CERT_CHAINS}"',
        }
        if self.certprov_url is not None:
            return verdict_web.certprov(step, self.fetch(self.certprov_url, "POST", body, **headers), self.ca)
        if self.update is None:
            return verdict.skipped(step, "no host to ask: the update service name does not resolve")
        return verdict_web.certprov(step, self.http("POST", CERTPROV, body, **headers), self.ca)

    def exchange(self, step: Step) -> Result:
        return verdict.exchange(step, self.ask(step), self.o.hints)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def run(options: Options) -> list[Result]:
    return Walker(options).run()
