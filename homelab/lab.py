"""Lab: one lab repository. The one API that the CLI and the editor call.

It is the lab's files (homelab.labfiles: load, select, build) and, above them, the
questions and jobs the front ends have about history, deploys and editing, each one call
here so that the command line and the editor can never drift apart.
"""

from __future__ import annotations

from homelab.labfiles import COMMON, PROFILE, HostState, LabFiles, LabNotFound, LabState, find_lab

__all__ = ["COMMON", "PROFILE", "HostState", "Lab", "LabNotFound", "LabState", "find_lab"]


class Lab(LabFiles):
    """A lab repository: hosts/, services/, flake.nix, and its git history."""
