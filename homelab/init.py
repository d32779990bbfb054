"""`homelab init DIR`: a new lab from the skeleton and the standard catalogue.

`make_lab` is the way any lab is made (`make demo` makes its copy of the demo lab with it):
the files are written into a staging folder that then takes the lab's place whole, and
everything goes into a first commit of a repository of its own."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from homelab import labconfig
from homelab.errors import InvalidInput, Place, Problem
from homelab.labconfig.flake import flake_text
from homelab.profile import edit
from homelab.profile.new import NewProfile, new_profile

SCHEMA_LINE = "# yaml-language-server: $schema={url}\n"


def _copy_tree(src: Traversable, dst: Path, skip: tuple[str, ...] = ()) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        if item.name in ("__pycache__", "__init__.py", *skip):
            continue
        target = dst / item.name
        if item.is_dir():
            _copy_tree(item, target)
        else:
            target.write_bytes(item.read_bytes())


def init_lab(path: Path) -> Path:
    """Make the lab; refuses a folder that has anything in it."""
    return make_lab(path, _example_and_catalogue)


# the example host: a new profile as any other (homelab.profile.new), with a first user
EXAMPLE = NewProfile(
    "example",
    loader="systemd-boot",
    # the root file system as the NixOS manual's installation labels it: a machine with
    # no root file system does not build
    root_device="/dev/disk/by-label/nixos",
    root_fs_type="ext4",
    address="example.lan",
    user="root",
    includes=["../common/base.yaml"],
    notes=["A starting point: change it, then `homelab validate` and `homelab build`."],
)
EXAMPLE_MORE: tuple[tuple[tuple[str, ...], object], ...] = (
    (("networking", "networkmanager"), True),
    (("users", "me"), {"description": "Me", "admin": True, "sshKeys": []}),
    (("packages",), ["git", "vim"]),
)


def example_profile() -> str:
    """The example host's profile, as `homelab init` writes it."""
    text = new_profile(EXAMPLE)
    for path, value in EXAMPLE_MORE:
        text = edit.set_value(text, path, value)
    return SCHEMA_LINE.format(url="../.profile.schema.json") + text


def _example_and_catalogue(staging: Path) -> None:
    _copy_tree(resources.files("homelab").joinpath("skeleton").joinpath("hosts"), staging / "hosts")
    _copy_tree(resources.files("homelab").joinpath("catalogue"), staging / "services")
    example = staging / "hosts" / "example" / "profile.yaml"
    example.parent.mkdir()
    example.write_text(example_profile())
    _lab_yaml(staging)


def _lab_yaml(staging: Path) -> None:
    """lab.yaml, and the flake.nix generated from it in place of the skeleton's."""
    text = labconfig.lab_yaml_text(EXAMPLE.release)
    config, problems = labconfig.parse(text)
    if config is None:  # pragma: no cover - the text above is valid
        raise InvalidInput(problems)
    (staging / labconfig.LAB_YAML).write_text(text)
    (staging / labconfig.FLAKE).write_text(flake_text(config))


def make_lab(path: Path, fill: Callable[[Path], None]) -> Path:
    """A new lab at path, in a repository of its own with everything in a first commit:
    the skeleton's flake.nix and .gitignore, the profile schema for editors, and what fill
    writes into the staging folder (hosts, a catalogue). Refuses a folder that has
    anything in it."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise InvalidInput(
            [
                Problem(
                    Place(str(path)),
                    "this folder is not empty: a new lab needs an empty or new folder",
                    hint="choose another folder, or run `homelab validate` if it already is a lab",
                )
            ]
        )
    staging = path.with_name(f".{path.name}.homelab-init")
    if staging.exists():
        shutil.rmtree(staging)
    try:
        _copy_tree(resources.files("homelab").joinpath("skeleton"), staging, skip=("hosts",))
        (staging / "gitignore").rename(staging / ".gitignore")
        fill(staging)
        schema = staging / "hosts" / ".profile.schema.json"
        schema.parent.mkdir(exist_ok=True)
        schema.write_text(
            resources.files("homelab.profile").joinpath("schema/profile.schema.json").read_text()
        )
        if path.exists():
            path.rmdir()
        staging.rename(path)  # the lab appears whole or not at all
    finally:
        if staging.exists():
            shutil.rmtree(staging)

    from homelab.history import init_repository

    init_repository(path)
    return path
