"""The simulator's errors: bad options (exit 2) and a run that saw errors (exit 1)."""

from __future__ import annotations

from phonehome.errors import ConfigError, PhonehomeError


class BadSimulation(ConfigError):
    """The simulation options are not usable."""


class SimulationHadErrors(PhonehomeError):
    """The simulated phones saw errors."""
