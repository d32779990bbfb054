"""Nix's own error text for a host whose files do not evaluate, as a machine prints it.

`real_error(files)` evaluates a host's compiled files with the real module system
(tests/modulesystem.py: nixpkgs' real ``lib.evalModules``, the real ``nix-instantiate``)
and returns what Nix printed, with one change: the temporary folder the files were written
to is named as the machine's Nix names the lab it copied, ``/nix/store/HASH-source/``
(HASH is the one Nix gives that folder as a path named "source", as a flake's copy is).
The wording is Nix 2.8's (the one here); newer Nix adds a trace before it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from tests.modulesystem import DEFINED, eval_nixos
from tests.nixtools import _run

_FOLDER = re.compile(r"(/[^\s`']+?/\d+/)hosts/")


def real_error(
    files: Mapping[str, str], *, attrs: Sequence[str] = (DEFINED,), declarations: str = "{ }"
) -> str:
    """`attrs`: what to read (every NixOS option the files define; a home-manager user's
    with ``home-manager.users.NAME.*``)."""
    try:
        eval_nixos(files, attrs, declarations=declarations)
    except AssertionError as err:
        text = str(err)
    else:
        raise AssertionError("the files evaluated: there is no error to capture")
    text = text.split("\n", 1)[1]  # after "nix-instantiate ... failed (exit 1):"
    m = _FOLDER.search(text)
    if m is None:
        return text
    folder = m.group(1).rstrip("/")
    expr = f'builtins.toString (builtins.path {{ path = {folder}; name = "source"; }})'
    store = json.loads(_run(["--eval", "--json", "-E", expr]))
    return text.replace(folder + "/", store + "/")
