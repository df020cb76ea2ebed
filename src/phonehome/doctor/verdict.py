"""Evidence → pass / warn / fail, and the fix. Pure: the probes' results and the site come in as arguments."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from phonehome.doctor import dhcpwire, fixes
from phonehome.doctor.fixes import Fix
from phonehome.doctor.probes import Answer, InformEvidence, NtpEvidence
from phonehome.doctor.walk import DC_SRV, NTP_SRV, Site, Step


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"  # an earlier step found nothing to test


ORDER = {Status.PASS: 0, Status.SKIP: 0, Status.WARN: 1, Status.FAIL: 2}


def worst(statuses: list[Status]) -> Status:
    return max(statuses, key=lambda s: ORDER[s], default=Status.PASS)


@dataclass(frozen=True, slots=True)
class Result:
    step: Step
    status: Status
    evidence: tuple[str, ...] = ()
    fix: Fix | None = None
    # What a later step needs: the address or target this step found.
    found: tuple[str, int | None] | None = field(default=None, compare=False)


def failed(step: Step, evidence: list[str], fix: Fix) -> Result:
    """A required step fails; an optional one only warns."""
    return Result(step, Status.FAIL if step.required else Status.WARN, tuple(evidence), fix)


def skipped(step: Step, why: str) -> Result:
    return Result(step, Status.SKIP, (why,))


def a_line(name: str, ip: str | None, what: str) -> str:
    return fixes.a_record(name, ip) if ip else f"{name}. {fixes.TTL} IN A <{what}>"


def first(answers: list[Answer]) -> Answer | None:
    return next((a for a in answers if a.ok), None)


def time_source(
    step: Step, site: Site, answers: list[Answer], diagnose: list[Answer], hints: fixes.Hints
) -> Result:
    evidence = [a.describe() for a in answers] or ["no time source is configured for this profile"]
    srv = f"{NTP_SRV}.{site.sip_domain}"
    winner = first(answers)
    if winner is not None:
        rec = winner.records[0]
        preferred = answers[0].query
        if winner.query.rdtype == "A" and preferred.rdtype == "SRV":
            fix = Fix(
                "only the hard-coded time.windows.com answers; publish the NTP SRV record in the SIP domain",
                fixes.planned(hints, srv, "SRV") or (fixes.srv_record(srv, hints.time_source, 123),),
            )
            return Result(step, Status.WARN, tuple(evidence), fix, (rec.host, rec.port))
        return Result(step, Status.PASS, tuple(evidence), None, (rec.host, rec.port))
    misplaced = first(diagnose)
    if misplaced is not None:
        rec = misplaced.records[0]
        why = f"{misplaced.query.name} exists, but the phone asks for {srv} (SIP domain)"
        evidence.append(f"(diagnosis) {misplaced.describe()}")
        return failed(step, evidence, Fix(why, (fixes.srv_record(srv, rec.host, rec.port or 123),)))
    lines = list(fixes.planned(hints, srv, "SRV") or (fixes.srv_record(srv, hints.time_source, 123),))
    why = "no time source: the phone cannot set its clock, so TLS to the pool fails"
    if "option42" in {a.query.via for a in answers} or not answers:
        lines.append("dhcp-option=option:ntp-server,<NTP server IP>")
    return failed(step, evidence, Fix(why, tuple(lines)))


MAX_OFFSET = 60.0  # seconds; beyond this certificates may look not-yet-valid or expired to the phone


def ntp(step: Step, source: str, evidence: NtpEvidence, record: str | None) -> Result:
    head = f"NTP v3 to {source} ({evidence.host}:{evidence.port})"
    if evidence.error is not None:
        lines = (record,) if record else ()
        why = f"nothing answers NTP at {evidence.host}:{evidence.port}: run an NTP server there or repoint"
        return failed(step, [f"{head} → {evidence.error}"], Fix(why, lines))
    text = f"{head} → stratum {evidence.stratum}, offset {evidence.offset:+.3f} s"
    if evidence.stratum is None or not 1 <= evidence.stratum <= 15:
        return failed(step, [text], Fix("the NTP server answers but is not synchronised (stratum 0/16)"))
    if evidence.offset is not None and abs(evidence.offset) > MAX_OFFSET:
        fix = Fix(f"the NTP server's clock is more than {MAX_OFFSET:.0f} s away from this host's")
        return Result(step, Status.WARN, (text,), fix)
    return Result(step, Status.PASS, (text,))


def sip(step: Step, site: Site, answers: list[Answer], target: Answer | None, hints: fixes.Hints) -> Result:
    evidence = [a.describe() for a in answers if a.ok] or [a.describe() for a in answers]
    wanted = f"_sipinternaltls._tcp.{site.sip_domain}"
    winner = first(answers)
    if winner is None:
        why = "no SIP record in any name the phone tries"
        if hints.registrar is None:
            pool = "<pool FQDN: set [site] registrar_fqdn>"
            lines: tuple[str, ...] = (
                f"{wanted}. {fixes.TTL} IN SRV 0 0 5061 {pool}.",
                f"{pool}. {fixes.TTL} IN A <pool IP>",
            )
        else:
            srv = fixes.planned(hints, wanted, "SRV") or (fixes.srv_record(wanted, hints.registrar, 5061),)
            pool_a = fixes.planned(hints, hints.registrar, "A")
            lines = (*srv, *(pool_a or (a_line(hints.registrar, hints.registrar_ip, "pool IP"),)))
        return failed(step, evidence, Fix(why, lines))
    rec = winner.records[0]
    if target is not None:
        evidence.append(target.describe())
        if not target.ok:
            why = f"the SRV target {rec.host} does not resolve"
            return failed(step, evidence, Fix(why, (a_line(rec.host, hints.registrar_ip, "pool IP"),)))
    found = (target.records[0].host if target else rec.host, rec.port)
    if winner.query.rdtype == "SRV" and winner.query.via == "SIP domain":
        return Result(step, Status.PASS, tuple(evidence), None, found)
    why = f"found only by {winner.query.via} ({winner.query.name}); publish the SRV record in the SIP domain"
    fix = Fix(
        why,
        (fixes.srv_record(wanted, rec.host if winner.query.rdtype == "SRV" else winner.query.name, 5061),),
    )
    return Result(step, Status.WARN, tuple(evidence), fix, found)


def dc_locator(step: Step, site: Site, answers: list[Answer], diagnose: list[Answer]) -> Result:
    evidence = [a.describe() for a in answers]
    winner = first(answers)
    if winner is not None:
        rec = winner.records[0]
        return Result(step, Status.PASS, tuple(evidence), None, (rec.host, rec.port))
    there = first(diagnose)
    if there is None:
        why = "no DC locator record anywhere near the site's domains: check AD DNS registration"
        line = f"{DC_SRV}.{site.dhcp_domain}. {fixes.TTL} IN SRV 0 100 389 <DC FQDN>."
        return failed(step, evidence, Fix(why, (line,)))
    evidence.append(f"(diagnosis) {there.describe()}")
    name = there.query.name
    if site.netbios is not None and name.startswith(f"{DC_SRV}.{site.netbios.lower()}."):
        suffix = name.removeprefix(f"{DC_SRV}.{site.netbios.lower()}.")
        search = [*(site.search_list or (site.dhcp_domain,)), suffix]
        why = f"{name} exists; a {site.netbios}\\user sign-in reaches it only with {suffix} in option 119"
        return failed(step, evidence, Fix(why, (fixes.domain_search_option(search),)))
    domain = name.removeprefix(f"{DC_SRV}.")
    if site.netbios is not None:
        why = (
            f"the AD domain {domain} is not NetBIOS name + a suffix: sign in UPN style "
            f"(user@{domain}) or {domain}\\user, or use WINS"
        )
        return failed(step, evidence, Fix(why))
    rec = there.records[0]
    why = (
        f"the DC locator record is only in {domain}, but the phone asks in the option 15 domain "
        f"{site.dhcp_domain} (call flow 11); publish it there too"
    )
    line = fixes.srv_record(f"{DC_SRV}.{site.dhcp_domain}", rec.host, rec.port or 389)
    return failed(step, evidence, Fix(why, (line,)))


def update_name(
    step: Step,
    site: Site,
    answers: list[Answer],
    diagnose: list[Answer],
    server_ip: str | None,
    hints: fixes.Hints | None = None,
) -> Result:
    evidence = [a.describe() for a in answers]
    winner = first(answers)
    if winner is not None:
        return Result(step, Status.PASS, tuple(evidence), None, (winner.query.name, None))
    wanted = answers[0].query.name
    elsewhere = first(diagnose)
    ip = server_ip
    why = f"no A record {wanted}: phones that never signed in cannot find the update service"
    if elsewhere is not None:
        evidence.append(f"(diagnosis) {elsewhere.describe()}")
        ip = ip or elsewhere.records[0].host
        why = f"{elsewhere.query.name} exists, but the phone appends the option 15 domain: {wanted}"
    lines = fixes.planned(hints, wanted, "A") if hints else ()
    return failed(step, evidence, Fix(why, lines or (a_line(wanted, ip, "IP of the Device Update server"),)))


def exchange(step: Step, answers: list[Answer], hints: fixes.Hints | None = None) -> Result:
    evidence = [a.describe() for a in answers]
    if first(answers) is not None:
        return Result(step, Status.PASS, tuple(evidence))
    name = answers[0].query.name
    why = "no autodiscover record: contacts, call logs and voice mail stay empty"
    lines = fixes.planned(hints, name, "A") if hints else ()
    return failed(step, evidence, Fix(why, lines or (a_line(name, None, "Exchange CAS IP"),)))


def dhcp_inform(step: Step, evidence: InformEvidence, hints: fixes.Hints) -> Result:
    """The ACK must carry option 43 (MS-UC-Client sub-options → the CertProv URL) and option 120."""
    head = f"DHCPINFORM from {evidence.address or '?'} on {evidence.iface}, vendor class MS-UC-Client, asks 43+120"
    option43 = fixes.ms_uc_client_options(hints.web_services, hints.web_port)
    option120 = fixes.sip_server_option(hints.registrar)
    if evidence.reply is None:
        why = "no DHCP server answered the INFORM: it must answer INFORM for vendor class MS-UC-Client"
        return failed(step, [f"{head} → {evidence.error}"], Fix(why, (*option43, option120)))
    reply = evidence.reply
    kind = "ACK" if reply.message_type == dhcpwire.ACK else f"message type {reply.message_type}"
    lines = [f"{head} → {kind} from {reply.server}"]
    problems: list[str] = []
    needed: list[str] = []
    url: str | None = None
    if 43 not in reply.options:
        problems.append("option 43 (MS-UC-Client) missing")
        needed += option43
    else:
        try:
            url = dhcpwire.read_option43(reply.options[43]).url
            lines.append(f"option 43 → {url}")
        except dhcpwire.WireError as exc:
            problems.append(f"option 43: {exc}")
            needed += option43
    if 120 not in reply.options:
        problems.append("option 120 (SIP server) missing")
        needed.append(option120)
    else:
        try:
            lines.append(f"option 120 → {', '.join(dhcpwire.read_option120(reply.options[120]))}")
        except dhcpwire.WireError as exc:
            problems.append(f"option 120: {exc}")
            needed.append(option120)
    if reply.message_type != dhcpwire.ACK:
        problems.insert(0, f"the server answered {kind}, not ACK")
    if problems:
        why = "; ".join(problems) + ": LPE phones cannot fetch the root chain or find the registrar"
        return failed(step, lines, Fix(why, tuple(needed)))
    return Result(step, Status.PASS, tuple(lines), None, (url, None) if url else None)
