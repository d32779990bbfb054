"""`homelab build`: only what changed, atomically, never over a person's edits."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from homelab.cli import main
from tests.compiled import copy_lab

FULL = Path(__file__).resolve().parent / "labs" / "full"


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    return copy_lab(FULL, tmp_path / "lab")


def build(lab: Path, *args: str) -> int:
    return main(["--lab", str(lab), "build", *args])


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_build_writes_every_host_then_a_second_build_touches_nothing(
    lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build(lab) == 0
    out = capsys.readouterr().out
    assert "wrote hosts/alpha/configuration.nix" in out
    assert "wrote hosts/gamma/configuration.nix" in out
    before = snapshot(lab)
    assert build(lab) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert snapshot(lab) == before  # same bytes, same modification times


def test_two_builds_of_the_same_lab_are_byte_identical(tmp_path: Path) -> None:
    a = copy_lab(FULL, tmp_path / "a")
    b = copy_lab(FULL, tmp_path / "b")
    assert build(a) == 0 and build(b) == 0
    files_a = {p.relative_to(a): p.read_bytes() for p in a.rglob("*.nix")}
    files_b = {p.relative_to(b): p.read_bytes() for p in b.rglob("*.nix")}
    assert files_a == files_b


def test_build_of_one_host_leaves_the_others_alone(lab: Path) -> None:
    assert build(lab, "beta") == 0
    assert (lab / "hosts/beta/configuration.nix").exists()
    assert not (lab / "hosts/alpha/configuration.nix").exists()


def test_removed_service_and_removed_host_lose_their_files(lab: Path) -> None:
    assert build(lab) == 0
    profile = lab / "hosts/gamma/profile.yaml"
    profile.write_text(
        profile.read_text().replace("services:\n  dokuwiki: {title: Family wiki}\n", "")
    )
    # gamma still has openssh from the fragment: services.nix stays; drop it from the fragment
    base = lab / "hosts/common/base.yaml"
    base.write_text(base.read_text().replace("services:\n  openssh: {}\n", ""))
    assert build(lab) == 0
    assert not (lab / "hosts/gamma/services.nix").exists()
    assert "./services.nix" not in (lab / "hosts/gamma/configuration.nix").read_text()
    # a host whose profile is gone: its generated files go, a person's files stay
    (lab / "hosts/beta/notes.txt").write_text("mine\n")
    (lab / "hosts/beta/profile.yaml").unlink()
    assert build(lab) == 0
    assert not list((lab / "hosts/beta").glob("*.nix"))
    assert (lab / "hosts/beta/notes.txt").read_text() == "mine\n"


def test_a_hand_edited_file_is_never_overwritten_without_force(
    lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build(lab) == 0
    target = lab / "hosts/alpha/networking.nix"
    edited = target.read_text().replace('hostName = "alpha";', 'hostName = "mine";')
    target.write_text(edited)
    profile = lab / "hosts/alpha/profile.yaml"
    profile.write_text(profile.read_text().replace("domain: lab.example", "domain: lab.test"))
    capsys.readouterr()
    before = snapshot(lab)
    assert build(lab) == 2
    err = capsys.readouterr().err
    assert "hosts/alpha/networking.nix" in err and "edited by hand" in err
    assert "--force" in err
    assert snapshot(lab) == before  # nothing written, not even the other changed files
    assert build(lab, "--force") == 0
    assert 'domain = "lab.test"' in target.read_text()


def test_a_persons_own_file_in_the_way_is_not_overwritten(lab: Path) -> None:
    (lab / "hosts/alpha/boot.nix").write_text("{ }\n")
    assert build(lab) == 2
    assert (lab / "hosts/alpha/boot.nix").read_text() == "{ }\n"


def test_check_lists_stale_and_missing_files_and_writes_nothing(
    lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(lab)
    assert build(lab, "--check") == 1
    out = capsys.readouterr().out
    assert "stale: hosts/alpha/configuration.nix" in out
    assert snapshot(lab) == before
    assert build(lab) == 0
    assert build(lab, "--check") == 0
    profile = lab / "hosts/beta/profile.yaml"
    profile.write_text(
        profile.read_text().replace("gateway: 192.168.7.1\n", "gateway: 192.168.7.254\n")
    )
    capsys.readouterr()
    assert build(lab, "--check") == 1
    assert capsys.readouterr().out.strip() == "stale: hosts/beta/networking.nix"


def test_writes_are_atomic_no_temporary_files_left(lab: Path) -> None:
    assert build(lab) == 0
    leftovers = [p for p in lab.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    mode = (lab / "hosts/alpha/configuration.nix").stat().st_mode & 0o777
    assert mode == 0o644


def test_a_leftover_of_a_stopped_write_does_not_block_the_next(lab: Path) -> None:
    from homelab.write import atomic_write

    target = lab / "hosts" / "alpha" / "new" / "x.nix"  # its folder made on the way
    target.parent.mkdir()
    leftover = target.parent / f".x.nix.{os.getpid()}.tmp"
    leftover.write_text("half a file")
    old = os.umask(0o077)
    try:
        atomic_write(target, "{ }\n")
        atomic_write(lab / "hosts" / "alpha" / "deeper" / "y.nix", "é\r\n")
    finally:
        os.umask(old)
    assert target.read_text() == "{ }\n"
    assert (target.stat().st_mode & 0o777) == 0o644  # readable, whatever the umask
    assert (lab / "hosts" / "alpha" / "deeper" / "y.nix").read_bytes() == "é\r\n".encode()
    assert sorted(p.name for p in target.parent.iterdir()) == [leftover.name, "x.nix"]


def test_invalid_lab_builds_nothing(lab: Path) -> None:
    profile = lab / "hosts/alpha/profile.yaml"
    profile.write_text(profile.read_text().replace("cpu: intel", "cpu: intle"))
    before = snapshot(lab)
    assert build(lab) == 2
    assert snapshot(lab) == before


def test_show_prints_the_hosts_modules(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lab", str(lab), "show", "gamma"]) == 0
    out = capsys.readouterr().out
    assert "# ==> hosts/gamma/configuration.nix <==" in out
    assert "generated by homelab from hosts/gamma/profile.yaml" in out
    assert not list(lab.rglob("*.nix")) or all(
        "hardware-configuration" in p.name for p in lab.rglob("*.nix")
    )


def test_build_does_not_follow_into_other_folders(lab: Path) -> None:
    # hosts/common holds fragments, never a host: nothing is generated there
    assert build(lab) == 0
    assert not list((lab / "hosts/common").glob("*.nix"))
    shutil.rmtree(lab / "hosts/gamma")
    assert build(lab) == 0
    assert not os.path.exists(lab / "hosts/gamma")


def test_an_unchanged_lab_is_known_without_compiling(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert build(lab) == 0
    assert (lab / ".homelab/build.json").exists()

    def no_compile(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled although nothing changed")

    monkeypatch.setattr("homelab.labload.generated", no_compile)
    before = snapshot(lab)
    assert build(lab) == 0
    assert build(lab, "--check") == 0
    assert build(lab, "alpha") == 0
    assert snapshot(lab) == before


@pytest.mark.parametrize(
    "change",
    [
        "fragment",  # a fragment the hosts include
        "catalogue",  # a catalogue entry
        "deleted output",  # a generated file someone removed
        "new host",
    ],
)
def test_any_change_to_what_a_build_reads_or_writes_means_a_real_build(
    lab: Path, change: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build(lab) == 0
    if change == "fragment":
        base = lab / "hosts/common/base.yaml"
        base.write_text(base.read_text().replace("dates: weekly", "dates: daily"))
        expect = "wrote hosts/alpha/system.nix"
    elif change == "catalogue":
        entry = lab / "services/jellyfin.yaml"
        entry.write_text(entry.read_text().replace("default: jellyfin", "default: media"))
        expect = "wrote hosts/alpha/services.nix"
    elif change == "deleted output":
        (lab / "hosts/beta/boot.nix").unlink()
        expect = "wrote hosts/beta/boot.nix"
    else:
        shutil.copytree(
            lab / "hosts/gamma", lab / "hosts/delta", ignore=shutil.ignore_patterns("*.nix")
        )
        expect = "wrote hosts/delta/configuration.nix"
    capsys.readouterr()
    assert build(lab) == 0
    assert expect in capsys.readouterr().out


def test_a_cache_from_another_version_is_ignored(lab: Path) -> None:
    assert build(lab) == 0
    cache = lab / ".homelab/build.json"
    cache.write_text(cache.read_text().replace('"version": "', '"version": "0.0.0-old'))
    (lab / "hosts/alpha/users.nix").unlink()
    assert build(lab) == 0
    assert (lab / "hosts/alpha/users.nix").exists()


def test_a_cache_made_by_another_compiler_of_the_same_version_is_ignored(
    lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a homelab whose generated Nix is laid out anew must rewrite the files of a lab an
    # older one built, even when the version number did not move
    assert build(lab) == 0
    cache = lab / ".homelab/build.json"
    cache.write_text(cache.read_text().replace('"compiler": "', '"compiler": "older'))
    users = lab / "hosts/alpha/users.nix"
    header, mark, body = users.read_text().partition("homelab-hash: ")
    body = body.split("\n", 1)[1].replace("{\n", "{\n\n", 1)  # laid out otherwise
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    users.write_text(f"{header}{mark}{digest}\n{body}")
    capsys.readouterr()
    assert build(lab) == 0
    assert "wrote hosts/alpha/users.nix" in capsys.readouterr().out
