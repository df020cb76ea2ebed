from __future__ import annotations

from phonehome.backups.bruri import bruri_lines


def test_lines_quote_the_credentials_and_name_the_real_ports() -> None:
    lines = bruri_lines("4711", "p@ss:w/rd", "ucupdates-r2.contoso.com", 8080, 8443, "/backup/")
    assert lines == [
        "SET BRURI http://4711:p%40ss%3Aw%2Frd@ucupdates-r2.contoso.com:8080/backup/",
        "SET BRURI https://4711:p%40ss%3Aw%2Frd@ucupdates-r2.contoso.com:8443/backup/",
        "# with a device certificate (CN=4711): SET BRURI https://ucupdates-r2.contoso.com:8443/backup/",
    ]


def test_without_a_password_a_placeholder_says_where_it_goes() -> None:
    assert bruri_lines("4711", None, "h", 1, 2, "/b/")[0] == "SET BRURI http://4711:<password>@h:1/b/"
