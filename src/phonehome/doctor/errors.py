"""Doctor errors: bad command-line input (exit 2 with one line, nothing probed)."""

from __future__ import annotations

from phonehome.errors import BadRequest


class BadDoctorInput(BadRequest):
    """Invalid doctor input."""
