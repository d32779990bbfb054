"""The Lab: finding it, choosing hosts, loading them (saved or not) with their problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab.errors import InvalidInput, Place
from homelab.lab import Lab, LabNotFound, find_lab
from tests.conftest import RunCli
from tests.hosts import PROFILE, with_host

# ---- finding the lab ----------------------------------------------------------------


def test_the_lab_option_comes_first(basic_lab: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "hosts").mkdir(parents=True)
    env = {"HOMELAB_LAB": str(other)}
    assert find_lab(str(basic_lab), env=env, cwd=other) == basic_lab.resolve()


def test_then_the_environment(basic_lab: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert find_lab(None, env={"HOMELAB_LAB": str(basic_lab)}, cwd=elsewhere) == basic_lab


def test_then_the_current_folder_or_a_parent(basic_lab: Path) -> None:
    deep = basic_lab / "hosts" / "alpha"
    assert find_lab(None, env={}, cwd=deep) == basic_lab
    assert find_lab(None, env={}, cwd=basic_lab) == basic_lab


def test_no_lab_is_said_with_the_way_out(tmp_path: Path) -> None:
    with pytest.raises(LabNotFound) as err:
        find_lab(None, env={}, cwd=tmp_path)
    assert str(tmp_path) in str(err.value)
    assert "homelab init" in str(err.value)
    assert "--lab" in str(err.value) and "HOMELAB_LAB" in str(err.value)


def test_a_lab_option_that_is_no_lab_is_refused(tmp_path: Path, basic_lab: Path) -> None:
    with pytest.raises(LabNotFound, match="has no hosts/ folder"):
        find_lab(str(tmp_path), env={}, cwd=basic_lab)
    with pytest.raises(LabNotFound, match="HOMELAB_LAB="):
        find_lab(None, env={"HOMELAB_LAB": str(tmp_path)}, cwd=basic_lab)


def test_the_cli_says_when_there_is_no_lab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOMELAB_LAB", raising=False)
    code, out, err = run_cli("validate")
    assert code == 2 and out == ""
    assert err.startswith("error: no lab found in")


def test_the_cli_reads_homelab_lab(
    basic_lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOMELAB_LAB", str(basic_lab))
    code, out, _ = run_cli("validate")
    assert code == 0 and "alpha, beta" in out


# ---- choosing hosts -----------------------------------------------------------------


def test_all_hosts_when_none_are_named(basic_lab: Path) -> None:
    lab = Lab(basic_lab)
    assert lab.select(lab.load(), []) == ["alpha", "beta"]


def test_hosts_by_folder_name_and_by_host_name(basic_lab: Path) -> None:
    state = with_host(basic_lab, "host: {stateVersion: '24.05', name: gamma-box}\n")
    lab = Lab(basic_lab)
    assert lab.select(state, ["beta", "gamma-box", "gamma", "beta"]) == ["beta", "gamma"]


def test_hosts_by_tag(basic_lab: Path) -> None:
    lab = Lab(basic_lab)
    state = lab.load()
    assert lab.select(state, ["@media"]) == ["alpha"]
    assert lab.select(state, ["@lab"]) == ["alpha", "beta"]
    assert lab.select(state, ["beta", "@lab"]) == ["beta", "alpha"]


def test_an_unknown_host_gets_a_did_you_mean(basic_lab: Path) -> None:
    lab = Lab(basic_lab)
    with pytest.raises(InvalidInput) as err:
        lab.select(lab.load(), ["alpah", "@nope", "zzz"])
    messages = [(p.message, p.hint) for p in err.value.problems]
    assert ("no host named 'alpah'", "did you mean 'alpha'?") in messages
    assert ("no host has the tag 'nope'", "") in messages
    assert ("no host named 'zzz'", "hosts: alpha, beta") in messages


def test_validate_one_tag_from_the_cli(basic_lab: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("--lab", str(basic_lab), "validate", "@board")
    assert (code, out, err) == (0, "1 host valid: beta\n", "")
    code, out, err = run_cli("--lab", str(basic_lab), "validate", "@nope")
    assert code == 2 and "no host has the tag 'nope'" in err


# ---- loading the hosts ---------------------------------------------------------------


def test_problems_of_several_hosts_sorted_by_file_and_line(basic_lab: Path) -> None:
    (basic_lab / "hosts" / "delta").mkdir()
    (basic_lab / "hosts" / "delta" / "profile.yaml").write_text("host: {}\nnope: 1\n")
    state = with_host(basic_lab, "host: {stateVersion: 1}\n")
    places = [p.place for p in state.all_problems()]
    delta = "hosts/delta/profile.yaml"
    assert [p.file for p in places] == [delta, delta, PROFILE]
    assert places == sorted(places)


def test_two_hosts_with_one_name_are_refused(basic_lab: Path) -> None:
    state = with_host(basic_lab, "host: {stateVersion: '24.05', name: alpha}\n")
    assert [(str(p.place), p.message) for p in state.problems] == [
        (PROFILE, "host name 'alpha' is also used by hosts/alpha")
    ]


def test_a_file_that_is_not_utf8(basic_lab: Path) -> None:
    (basic_lab / "hosts" / "gamma").mkdir()
    (basic_lab / "hosts" / "gamma" / "profile.yaml").write_bytes(b"host: {name: caf\xe9}\n")
    state = Lab(basic_lab).load()
    assert [(str(p.place), p.message) for p in state.hosts["gamma"].problems] == [
        (f"{PROFILE}:1:17", "not UTF-8 text")  # the place of the first bad byte
    ]


def test_unsaved_texts_are_checked_without_touching_the_disk(basic_lab: Path) -> None:
    rel = "hosts/beta/profile.yaml"
    before = (basic_lab / rel).read_text()
    edited = before.replace("tailscale: {}", "tailscale: {prot: 1}")
    state = Lab(basic_lab).load(texts={rel: edited})
    assert [p.message for p in state.hosts["beta"].problems] == ["unknown key 'prot'"]
    assert state.hosts["alpha"].valid
    assert (basic_lab / rel).read_text() == before
    assert Lab(basic_lab).load().hosts["beta"].valid


def test_an_unsaved_new_host_is_loaded(basic_lab: Path) -> None:
    state = Lab(basic_lab).load(texts={PROFILE: "host: {stateVersion: '24.05'}\n"})
    assert state.hosts["gamma"].valid
    assert not (basic_lab / "hosts" / "gamma").exists()


def test_an_invalid_host_has_no_profile_but_keeps_its_document(basic_lab: Path) -> None:
    state = with_host(basic_lab, "host: {stateVersion: 24.05}\n")
    gamma = state.hosts["gamma"]
    assert gamma.profile is None and not gamma.valid
    assert gamma.document is not None
    assert gamma.document.marks.values[("host", "stateVersion")] == Place(PROFILE, 1, 22)


def test_the_demo_lab_of_the_repository_is_valid(run_cli: RunCli) -> None:
    repo = Path(__file__).resolve().parents[1]
    code, out, err = run_cli("--lab", str(repo), "validate")
    # without an option index, one note for the whole lab says its options went unchecked
    assert code == 0 and err.startswith("note: ") and err.count("\n") == 1
    assert "homelab options update" in err
    assert out.startswith(f"{len(Lab(repo).host_folders())} hosts valid")
