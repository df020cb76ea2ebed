"""The BRURI lines an admin pastes into 46xxsettings.txt for one account (pure)."""

from __future__ import annotations

from urllib.parse import quote


def bruri_lines(
    account: str, password: str | None, server: str, http_port: int, https_port: int, prefix: str
) -> list[str]:
    """Basic over HTTP, Basic over HTTPS, and the certificate-only form (as a comment)."""
    secret = quote(password, safe="") if password else "<password>"
    user = quote(account, safe="")
    return [
        f"SET BRURI http://{user}:{secret}@{server}:{http_port}{prefix}",
        f"SET BRURI https://{user}:{secret}@{server}:{https_port}{prefix}",
        f"# with a device certificate (CN={account}): SET BRURI https://{server}:{https_port}{prefix}",
    ]
