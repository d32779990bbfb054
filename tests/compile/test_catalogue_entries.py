"""Every catalogue entry, used by a host of tests/labs/catalogue with settings that are not
its defaults, evaluates through the real module system against option declarations
written from its NixOS module (tests/nixos-options/), and passes `homelab catalogue check`
against those declarations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from homelab.catalog import service_state
from homelab.lab import Lab
from homelab.labfiles import LabState
from homelab.profile.options import parse_key
from tests.compiled import REPO, copy_lab
from tests.conftest import RunCli
from tests.modulesystem import DEFINED, Case, eval_many, render_path
from tests.optionindex import home_manager_index

CATALOGUE_LAB = Path(__file__).resolve().parents[1] / "labs" / "catalogue"
ENTRIES = sorted(p.stem for p in (REPO / "services").glob("*.yaml"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return Lab(copy_lab(CATALOGUE_LAB, tmp_path_factory.mktemp("catalogue") / "lab"))


@pytest.fixture(scope="module")
def state(lab: Lab) -> LabState:
    return lab.load()


@pytest.fixture(scope="module")
def evaluated(lab: Lab, state: LabState) -> dict[str, dict[str, Any]]:
    """Every valid host's defined options, in one nix-instantiate run; {} when one of them
    fails (each test then evaluates its own host, to say which)."""
    folders = [f for f in ENTRIES if f in state.hosts and state.hosts[f].valid]
    try:
        values = eval_many([Case(lab.generated(state, [f]), [DEFINED]) for f in folders])
    except AssertionError:
        return {}
    return {f: v[DEFINED] for f, v in zip(folders, values, strict=True)}


def expected(entry: str) -> dict[str, Any]:
    path = CATALOGUE_LAB / "hosts" / entry / "expect.yaml"
    assert path.is_file(), f"tests/labs/catalogue/hosts/{entry}/expect.yaml is missing"
    found = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(found, dict) and found, f"{path.name} of {entry}: option path -> value"
    return found


def test_every_host_of_the_lab_is_an_entry_of_the_catalogue(state: LabState) -> None:
    assert sorted(state.hosts) == ENTRIES


@pytest.mark.parametrize("entry", ENTRIES)
def test_the_entrys_host_uses_it_with_two_settings_that_are_not_its_defaults(
    entry: str, state: LabState
) -> None:
    host = state.hosts.get(entry)
    assert host is not None, f"no host tests/labs/catalogue/hosts/{entry}/"
    assert host.valid, "\n".join(str(p) for p in host.problems)
    assert host.profile is not None
    uses = {u.name: u for u in host.profile.services}
    assert entry in uses, f"the host {entry} does not name the service {entry}"
    service = state.catalog.get(entry)
    assert service is not None
    defaults = {
        name: spec.get("default")
        for name, spec in service.settings_schema.get("properties", {}).items()
    }
    use = uses[entry]
    changed = [k for k in use.given if use.settings.get(k) != defaults.get(k)]
    assert len(changed) >= 2, f"{entry}: settings given that are not defaults: {changed}"


@pytest.mark.parametrize("entry", ENTRIES)
def test_the_entrys_host_evaluates_to_what_its_settings_say(
    entry: str, lab: Lab, state: LabState, evaluated: dict[str, dict[str, Any]]
) -> None:
    expect = expected(entry)
    host = state.hosts.get(entry)
    assert host is not None and host.valid, f"the host {entry} is missing or not valid"
    defined = evaluated.get(entry)
    if defined is None:  # the batch failed: this host alone says whether it is the one
        defined = eval_many([Case(lab.generated(state, [entry]), [DEFINED])])[0][DEFINED]
    for path, value in expect.items():
        assert value_at(defined, path, entry) == value, f"{entry}: {path}"


def value_at(defined: dict[str, Any], path: str, entry: str) -> Any:
    """The value at an option path, or inside an option's value (a freeform `settings`)."""
    parts = parse_key(path)
    for cut in range(len(parts), 0, -1):
        option = render_path(parts[:cut])
        if option in defined:
            value = defined[option]
            for part in parts[cut:]:
                assert isinstance(value, dict) and part in value, (
                    f"{entry}: {path}: {option} has no {render_path(parts[: cut + 1])}"
                )
                value = value[part]
            return value
    raise AssertionError(f"{entry}: {path} is not set; set are {sorted(defined)}")


def test_catalogue_check_passes_on_every_entry_against_the_declarations(
    lab: Lab, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    declared = home_manager_index()  # its NixOS side: tests/nixos-options.nix
    monkeypatch.setattr(Lab, "option_index", lambda self: declared, raising=False)
    code, out, _ = run_cli("--lab", str(lab.root), "catalogue", "check")
    assert code == 0, out
    assert out.splitlines()[-1].startswith(f"{len(ENTRIES)} entries setting ")


def test_the_readme_lists_every_entry_of_the_catalogue() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The service catalogue", 1)[1].split("\n## ", 1)[0]
    table = " ".join(line for line in section.splitlines() if line.startswith("| "))
    listed = {word.strip(" ,|") for word in table.split()}
    assert [e for e in ENTRIES if e not in listed] == []
    assert f"{len(ENTRIES)} services home labs run" in section


# entries whose service keeps nothing a backup needs: what they run on is declared
STATELESS = {
    "blocky": "its lists are downloaded again at start",
    "homepage-dashboard": "its dashboard is the profile's settings",
    "nfs": "it serves folders other entries or the person own",
    "nut": "it watches a UPS; its settings are the profile's",
    "prometheus-node-exporter": "it reads the machine's figures as they are",
    "restic": "its cache is rebuilt from the repository, which is the backup itself",
    "smartd": "it watches disks",
    "zfs": "the pools are the data themselves, backed up as what they hold",
}


@pytest.mark.parametrize("entry", ENTRIES)
def test_an_entry_names_the_folders_a_backup_of_it_needs(entry: str, state: LabState) -> None:
    service = state.catalog.get(entry)
    assert service is not None
    folders = service_state(service, service.with_defaults({}))
    if entry in STATELESS:
        assert folders == (), f"{entry} keeps {folders}: remove it from STATELESS"
    else:
        assert folders, f"{entry}: give `state:` the folders it keeps, or say why it has none"
        assert all(f.startswith("/") for f in folders), folders
