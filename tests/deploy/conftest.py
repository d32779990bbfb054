"""Fixtures of the deploy tests: the SSH test rig (real sshd processes on loopback)."""

from tests.sshd.fixtures import home, rig

__all__ = ["home", "rig"]
