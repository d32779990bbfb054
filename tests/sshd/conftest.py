"""Fixtures of the rig's own tests: the SSH test rig (real sshd processes on loopback)."""

from tests.sshd.fixtures import rig

__all__ = ["rig"]
