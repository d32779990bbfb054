"""`homelab show HOST --extra`: the extraConfig settings that could move into options:."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import RunCli

EXTRA = """\
extraConfig: |
  services.fwupd.enable = true;
  fileSystems."/srv/media" = {
    device = "/dev/disk/by-label/media";
    fsType = "ext4";
  };
  environment.systemPackages = with pkgs; [ git ];
  systemd.services.backup.script = ''
    ${pkgs.restic}/bin/restic backup /srv
  '';
  imports = [ ./more.nix ];
"""

PASTE = """\
options:
  # extraConfig line 1
  services.fwupd.enable: true
  # extraConfig lines 2-5
  fileSystems."/srv/media":
    device: /dev/disk/by-label/media
    fsType: ext4
  # extraConfig line 6
  environment.systemPackages: [!pkg git]
  # extraConfig lines 7-9, as Nix: string interpolation (`${…}`)
  systemd.services.backup.script: !nix |-
    ''
      ${pkgs.restic}/bin/restic backup /srv
    ''
"""


def with_extra(lab: Path, host: str = "alpha") -> Path:
    profile = lab / "hosts" / host / "profile.yaml"
    profile.write_text(profile.read_text() + EXTRA)
    (lab / "hosts" / host / "more.nix").write_text("{ }\n")
    return profile


def test_show_extra_prints_the_yaml_to_paste_and_what_stays(
    basic_lab: Path, run_cli: RunCli
) -> None:
    profile = with_extra(basic_lab)
    line = profile.read_text().splitlines().index("extraConfig: |") + 2
    code, out, err = run_cli("--lab", str(basic_lab), "show", "alpha", "--extra")
    assert (code, err) == (0, "")
    assert out == (
        f"alpha: extraConfig (hosts/alpha/profile.yaml, from line {line}) has 5 settings, "
        "4 can move into options: (1 with !nix values)\n"
        "\n"
        "Paste this at the profile's top level\n"
        "and delete the lines they come from in extraConfig:\n"
        "\n" + PASTE + "\n"
        "These stay in extraConfig:\n"
        "  line 10: imports = [ ./more.nix ];\n"
        "    `imports` belongs to the module itself, it is no option: list the modules under "
        "modules: instead\n"
    )


def test_what_show_extra_prints_can_be_pasted_as_it_is(basic_lab: Path, run_cli: RunCli) -> None:
    profile = with_extra(basic_lab)
    code, out, _ = run_cli("--lab", str(basic_lab), "show", "alpha", "--extra")
    assert code == 0
    paste = out[out.index("options:\n") : out.index("\nThese stay")]
    text = profile.read_text()
    before = text[: text.index("extraConfig: |")]
    profile.write_text(before + paste + "extraConfig: |\n  imports = [ ./more.nix ];\n")

    code, out, err = run_cli("--lab", str(basic_lab), "validate", "alpha")
    # the lab has no option index: one note says its options went unchecked, nothing else
    assert code == 0 and err.startswith("note: ") and err.count("\n") == 1, err
    code, out, err = run_cli("--lab", str(basic_lab), "show", "alpha")
    assert code == 0, err
    options = out[out.index("# ==> hosts/alpha/options.nix <==") :]
    for written in (
        "  environment.systemPackages = [ pkgs.git ];\n",
        '  fileSystems."/srv/media".device = "/dev/disk/by-label/media";\n',
        "  services.fwupd.enable = true;\n",
        "  systemd.services.backup.script = ''\n    ${pkgs.restic}/bin/restic backup /srv\n  '';\n",
    ):
        assert written in options, written
    # and what is left of extraConfig moves nothing more
    code, out, _ = run_cli("--lab", str(basic_lab), "show", "alpha", "--extra")
    assert code == 0
    assert "has 1 setting, 0 can move into options:\n" in out
    assert "Paste" not in out and "Add these" not in out


def test_a_profile_with_options_gets_entries_to_add_to_them(
    basic_lab: Path, run_cli: RunCli
) -> None:
    profile = with_extra(basic_lab)
    profile.write_text(
        profile.read_text() + "options:\n  services.tlp.enable: true\n  services.fwupd: {}\n"
    )
    code, out, _ = run_cli("--lab", str(basic_lab), "show", "alpha", "--extra")
    assert code == 0
    assert "has 5 settings, 3 can move into options: (1 with !nix values)\n" in out
    assert (
        "\nThe profile's options: set these already (keep one of the two):\n"
        "  line 1: services.fwupd.enable = true;\n"
        "    options: services.fwupd\n"
    ) in out
    assert "\nAdd these entries to the profile's options:\n" in out
    assert "\noptions:\n" not in out
    assert "services.fwupd.enable: true" not in out
    assert '\n  # extraConfig lines 2-5\n  fileSystems."/srv/media":\n' in out


def test_a_host_without_extra_config_says_so(basic_lab: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("--lab", str(basic_lab), "show", "alpha", "--extra")
    assert (code, out, err) == (0, "alpha has no extraConfig: nothing to move\n", "")


def test_an_unknown_host_is_refused(basic_lab: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("--lab", str(basic_lab), "show", "alpah", "--extra")
    assert code == 2 and out == ""
    assert "no host named 'alpah'" in err and "did you mean 'alpha'?" in err


def test_extra_config_that_is_not_nix_is_refused_with_where(
    basic_lab: Path, run_cli: RunCli
) -> None:
    profile = basic_lab / "hosts" / "alpha" / "profile.yaml"
    profile.write_text(profile.read_text() + "extraConfig: |\n  services.a.enable = true\n")
    code, out, err = run_cli("--lab", str(basic_lab), "show", "alpha", "--extra")
    assert code == 2 and out == ""
    assert "error: alpha: extraConfig (hosts/alpha/profile.yaml, from line" in err
    assert "is not valid Nix: 1:" in err
    assert "hint: run `homelab validate alpha`" in err


def test_an_invalid_profile_is_still_read(basic_lab: Path, run_cli: RunCli) -> None:
    # a mistake elsewhere in the profile does not hide its extraConfig
    profile = with_extra(basic_lab)
    profile.write_text(profile.read_text().replace("  docker: {}\n", "  no-such-service: {}\n"))
    code, _, _ = run_cli("--lab", str(basic_lab), "validate", "alpha")
    assert code == 2
    code, out, _ = run_cli("--lab", str(basic_lab), "show", "alpha", "--extra")
    assert code == 0
    assert PASTE in out
