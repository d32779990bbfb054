"""homelab: run a home lab of NixOS machines from YAML profiles kept in git."""

__version__ = "0.1.0"
