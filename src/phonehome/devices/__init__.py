"""The admin UI's fleet view: device list and pages, dashboard panels (reads updates, backups, pki)."""
