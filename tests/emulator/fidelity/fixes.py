"""Patches to moto's models where moto differs from AWS's documented behaviour.

Each fix names the AWS behaviour it restores; tests/integration/emulator/ has a test per fix
that fails on plain moto.
"""

from __future__ import annotations

_INSTALLED = {"done": False}


def install() -> None:
    """Apply every fix once per process."""
    if _INSTALLED["done"]:
        return
    _INSTALLED["done"] = True
