"""`include:` and the merge rules at the top of homelab/profile/include.py."""

from __future__ import annotations

from pathlib import Path

from homelab.errors import Place, Problem
from homelab.lab import Lab
from homelab.profile.include import resolve
from homelab.yamlfile import Document, load_text
from tests.hosts import BASE as HOST
from tests.hosts import problems_of

P = "hosts/web/profile.yaml"
BASE = "hosts/common/base.yaml"
USERS = "hosts/common/users.yaml"


def merged(files: dict[str, str], top: str = P) -> tuple[Document, list[Problem]]:
    """The profile `top` with its includes resolved, every file read from `files`."""
    fetched: list[str] = []

    def fetch(rel: str) -> tuple[Document | None, list[Problem]]:
        fetched.append(rel)
        if rel not in files:
            return None, [Problem(Place(rel), f"no such file {rel}")]
        return load_text(rel, files[rel])

    doc, problems = load_text(top, files[top])
    assert doc is not None, problems
    out, found = resolve(doc, fetch)
    return out, [*problems, *found]


def ok(files: dict[str, str]) -> Document:
    doc, problems = merged(files)
    assert problems == [], problems
    return doc


def test_maps_merge_key_by_key() -> None:
    doc = ok(
        {
            BASE: "host: {timezone: Etc/UTC, locale: en_US.UTF-8}\nnix: {gc: {automatic: true}}\n",
            P: "include: [../common/base.yaml]\nhost: {stateVersion: '24.05'}\n"
            "nix: {gc: {dates: weekly}}\n",
        }
    )
    assert doc.data == {
        "host": {"timezone": "Etc/UTC", "locale": "en_US.UTF-8", "stateVersion": "24.05"},
        "nix": {"gc": {"automatic": True, "dates": "weekly"}},
    }
    assert "include" not in doc.data
    assert doc.file == P


def test_lists_concatenate_included_items_first_without_repeats() -> None:
    doc = ok(
        {
            BASE: "packages: [git, vim]\nusers: {alice: {groups: [wheel]}}\n",
            P: "include: [../common/base.yaml]\npackages: [htop, git]\n"
            "users: {alice: {groups: [wheel, docker]}}\n",
        }
    )
    assert doc.data["packages"] == ["git", "vim", "htop"]
    assert doc.data["users"]["alice"]["groups"] == ["wheel", "docker"]


def test_lists_of_maps_do_not_repeat_equal_items() -> None:
    doc = ok(
        {
            BASE: "hardware: {swap: [{device: /swap}]}\n",
            P: "include: [../common/base.yaml]\n"
            "hardware: {swap: [{device: /swap}, {device: /b}]}\n",
        }
    )
    assert doc.data["hardware"]["swap"] == [{"device": "/swap"}, {"device": "/b"}]


def test_the_including_file_wins_on_scalars() -> None:
    doc = ok(
        {
            BASE: "host: {timezone: Etc/UTC}\nnetworking: {firewall: {enable: true}}\n",
            P: "include: [../common/base.yaml]\nhost: {timezone: Europe/Berlin}\n"
            "networking: {firewall: {enable: false}}\n",
        }
    )
    assert doc.data["host"]["timezone"] == "Europe/Berlin"
    assert doc.data["networking"]["firewall"]["enable"] is False


def test_the_including_file_wins_when_the_kinds_differ() -> None:
    doc = ok(
        {
            BASE: "services: {openssh: {port: 22}}\npackages: [git]\nextraConfig: [a]\n",
            P: "include: [../common/base.yaml]\nservices: {openssh: null}\npackages: none\n"
            "extraConfig: 'x = 1;'\n",
        }
    )
    assert doc.data["services"] == {"openssh": None}
    assert doc.data["packages"] == "none"
    assert doc.data["extraConfig"] == "x = 1;"


def test_includes_apply_in_order_later_ones_on_top() -> None:
    doc = ok(
        {
            BASE: "host: {timezone: Etc/UTC, locale: C}\npackages: [git]\n",
            USERS: "host: {timezone: Europe/Paris}\npackages: [vim]\n",
            P: "include: [../common/base.yaml, ../common/users.yaml]\nhost: {locale: fr_FR}\n",
        }
    )
    assert doc.data["host"] == {"timezone": "Europe/Paris", "locale": "fr_FR"}
    assert doc.data["packages"] == ["git", "vim"]
    swapped = ok(
        {
            BASE: "host: {timezone: Etc/UTC, locale: C}\npackages: [git]\n",
            USERS: "host: {timezone: Europe/Paris}\npackages: [vim]\n",
            P: "include: [../common/users.yaml, ../common/base.yaml]\n",
        }
    )
    assert swapped.data["host"]["timezone"] == "Etc/UTC"
    assert swapped.data["packages"] == ["vim", "git"]


def test_a_single_include_may_be_written_without_a_list() -> None:
    doc = ok({BASE: "packages: [git]\n", P: "include: ../common/base.yaml\n"})
    assert doc.data == {"packages": ["git"]}


def test_fragments_include_fragments_relative_to_themselves() -> None:
    doc = ok(
        {
            "hosts/common/keys/alice.yaml": "users: {alice: {sshKeys: [k1]}}\n",
            USERS: "include: [keys/alice.yaml]\nusers: {alice: {admin: true}}\n",
            BASE: "include: [users.yaml]\npackages: [git]\n",
            P: "include: [../common/base.yaml]\nusers: {alice: {groups: [wheel]}}\n",
        }
    )
    assert doc.data == {
        "users": {"alice": {"sshKeys": ["k1"], "admin": True, "groups": ["wheel"]}},
        "packages": ["git"],
    }


def test_one_fragment_reached_twice_is_not_a_cycle() -> None:
    doc = ok(
        {
            USERS: "packages: [vim]\n",
            BASE: "include: [users.yaml]\npackages: [git]\n",
            P: "include: [../common/base.yaml, ../common/users.yaml]\n",
        }
    )
    assert doc.data["packages"] == ["vim", "git"]


def test_merged_values_keep_the_place_of_the_file_they_came_from() -> None:
    doc = ok(
        {
            BASE: "# base\nhost:\n  timezone: Etc/UTC\npackages:\n  - git\n",
            P: "include: [../common/base.yaml]\nhost:\n  stateVersion: '24.05'\npackages: [htop]\n",
        }
    )
    at, keys = doc.marks.values, doc.marks.keys
    assert at[("host", "timezone")] == Place(BASE, 3, 13)
    assert keys[("host", "timezone")] == Place(BASE, 3, 3)
    assert at[("host", "stateVersion")] == Place(P, 3, 17)
    assert keys[("host", "stateVersion")] == Place(P, 3, 3)
    assert at[("packages", 0)] == Place(BASE, 5, 5)
    assert at[("packages", 1)] == Place(P, 4, 12)
    # a map both give points at the including file's own
    assert at[("host",)] == Place(P, 3, 3)


def test_a_value_the_profile_overrides_points_at_the_profile() -> None:
    doc = ok(
        {
            BASE: "host:\n  timezone: Etc/UTC\n",
            P: "include: [../common/base.yaml]\nhost: {timezone: Europe/Rome}\n",
        }
    )
    assert doc.marks.values[("host", "timezone")] == Place(P, 2, 18)


def test_nested_fragments_keep_their_own_places() -> None:
    doc = ok(
        {
            USERS: "users:\n  alice: {admin: true}\n",
            BASE: "include: [users.yaml]\n",
            P: "include: [../common/base.yaml]\n",
        }
    )
    assert doc.marks.values[("users", "alice", "admin")] == Place(USERS, 2, 18)


def test_an_include_written_between_sections_leaves_no_mark() -> None:
    doc = ok(
        {
            BASE: "packages: [git]\n",
            P: "host: {stateVersion: '24.05'}\ninclude: [../common/base.yaml]\n"
            "packages:\n  - htop\n",
        }
    )
    assert doc.data == {"packages": ["git", "htop"], "host": {"stateVersion": "24.05"}}
    assert not [path for path in doc.marks.values if path[:1] == ("include",)]
    assert doc.marks.values[("host", "stateVersion")] == Place(P, 1, 22)
    assert doc.marks.values[("packages", 1)] == Place(P, 4, 5)
    assert doc.marks.values[("packages", 0)] == Place(BASE, 1, 12)


def test_a_fragment_whose_include_fails_keeps_its_places() -> None:
    doc, problems = merged(
        {
            "hosts/common/a.yaml": "packages: [git]\ninclude: [gone.yaml]\n"
            "nix: {gc: {automatic: true}}\n",
            P: "include: [../common/a.yaml]\nnix: {gc: {dates: weekly}}\n",
        }
    )
    assert [p.message for p in problems] == [
        "include 'gone.yaml': no such file hosts/common/gone.yaml"
    ]
    assert doc.marks.values[("packages", 0)] == Place("hosts/common/a.yaml", 1, 12)
    assert doc.marks.values[("nix", "gc", "automatic")] == Place("hosts/common/a.yaml", 3, 23)
    assert doc.marks.values[("nix", "gc", "dates")] == Place(P, 2, 19)
    assert not [path for path in doc.marks.values if path[:1] == ("include",)]


def test_hosts_sharing_a_fragment_each_get_their_own_values() -> None:
    files = {
        BASE: "packages: [git]\nusers: {alice: {groups: [wheel]}}\n",
        USERS: "users: {bob: {admin: true}}\n",
        P: "include: [../common/base.yaml, ../common/users.yaml]\npackages: [htop]\n",
    }
    first = ok(files)
    first.data["packages"].append("vim")
    first.data["users"]["alice"]["groups"].append("docker")
    second = ok(files)
    assert second.data == {
        "packages": ["git", "htop"],
        "users": {"alice": {"groups": ["wheel"]}, "bob": {"admin": True}},
    }
    assert second.marks.values[("users", "bob", "admin")] == Place(USERS, 1, 22)


def test_a_cycle_is_reported_where_it_closes() -> None:
    _, problems = merged(
        {
            "hosts/common/a.yaml": "include: [b.yaml]\n",
            "hosts/common/b.yaml": "packages: [git]\ninclude: [a.yaml]\n",
            P: "include: [../common/a.yaml]\n",
        }
    )
    assert len(problems) == 1
    assert problems[0].place == Place("hosts/common/b.yaml", 2, 11)
    assert problems[0].message == (
        "include cycle: hosts/web/profile.yaml -> hosts/common/a.yaml -> "
        "hosts/common/b.yaml -> hosts/common/a.yaml"
    )


def test_a_file_including_itself_is_a_cycle() -> None:
    _, problems = merged({P: "packages: [git]\ninclude: [profile.yaml]\n"})
    assert [(p.place.line, p.message.split(":")[0]) for p in problems] == [(2, "include cycle")]


def test_a_missing_fragment_is_reported_at_its_entry() -> None:
    doc, problems = merged({P: "include:\n  - ../common/nope.yaml\npackages: [git]\n"})
    assert [(str(p.place), p.message) for p in problems] == [
        (f"{P}:2:5", "include '../common/nope.yaml': no such file hosts/common/nope.yaml")
    ]
    assert doc.data == {"packages": ["git"]}


def test_an_include_outside_the_lab_is_refused_without_reading_it() -> None:
    files = {P: "include: [../../../etc/passwd, /etc/passwd, ../../flake.nix]\n"}
    _, problems = merged(files)
    assert [p.place.column for p in problems] == [11, 32, 45]
    assert all("points outside the lab" in p.message for p in problems[:2])
    # inside the lab but not there: an ordinary missing file
    assert problems[2].message.startswith("include '../../flake.nix': no such file flake.nix")


def test_syntax_errors_in_a_fragment_name_the_fragment() -> None:
    _, problems = merged({BASE: "packages: [git\n", P: "include: [../common/base.yaml]\n"})
    assert len(problems) == 1
    assert problems[0].place.file == BASE
    assert problems[0].place.line >= 1
    assert problems[0].message.startswith("YAML syntax")


def test_bad_include_entries() -> None:
    _, problems = merged({P: "include:\n  -\n  - 7\n  - ''\n"})
    assert [(p.place.line, p.message) for p in problems] == [
        (2, "include entry is empty"),
        (3, "an include entry must be a file name"),
        (4, "include entry is empty"),
    ]
    _, problems = merged({P: "include: {a: b}\n"})
    assert [p.message for p in problems] == ["include must be a list of file names"]


# ---- through the Lab, on disk ---------------------------------------------------------


def test_a_host_lists_the_fragments_it_pulled_in(basic_lab: Path) -> None:
    state = Lab(basic_lab).load()
    alpha = state.hosts["alpha"]
    assert alpha.valid
    assert alpha.includes == ("hosts/common/base.yaml", "hosts/common/users.yaml")
    assert state.hosts["beta"].includes == ("hosts/common/base.yaml",)
    assert alpha.profile is not None and alpha.profile.includes == alpha.includes


def test_the_lab_merges_fragments_into_the_profile(basic_lab: Path) -> None:
    state = Lab(basic_lab).load()
    alpha = state.hosts["alpha"].profile
    assert alpha is not None
    assert alpha.packages == ("git", "htop")
    assert [s.name for s in alpha.services] == ["openssh", "jellyfin", "docker"]
    assert alpha.deploy.tags == ("lab", "server", "media")
    (alice,) = alpha.users
    assert alice.admin and alice.groups == ("docker",)
    assert alpha.host.timezone == "Europe/Berlin"
    beta = state.hosts["beta"].profile
    assert beta is not None and beta.host.timezone == "Etc/UTC"


def test_a_missing_fragment_hint_lists_the_fragments_there(basic_lab: Path) -> None:
    profile = basic_lab / "hosts" / "beta" / "profile.yaml"
    profile.write_text(profile.read_text().replace("base.yaml", "bsae.yaml"))
    state = Lab(basic_lab).load()
    (problem,) = state.hosts["beta"].problems
    assert problem.place == Place("hosts/beta/profile.yaml", 2, 11)
    assert problem.hint == "fragments here: ../common/base.yaml, ../common/users.yaml"


def test_an_error_in_a_shared_fragment_is_reported_once(basic_lab: Path) -> None:
    base = basic_lab / "hosts" / "common" / "base.yaml"
    base.write_text(base.read_text().replace("openssh: {}", "opensh: {}"))
    state = Lab(basic_lab).load()
    problems = state.all_problems()
    assert [(str(p.place), p.message) for p in problems] == [
        ("hosts/common/base.yaml:9:3", "unknown service 'opensh'")
    ]
    assert problems[0].hint == "did you mean 'openssh'?"
    assert not state.hosts["alpha"].valid and not state.hosts["beta"].valid


def test_a_nul_or_a_number_nix_cannot_hold_in_a_fragment_is_found(basic_lab: Path) -> None:
    # the profile itself has neither (nor a backslash): what its fragment has still counts
    (basic_lab / "hosts/common/odd.yaml").write_text(
        'users:\n  bob:\n    description: "Bob\\0"\n'
        "    home:\n      programs:\n        starship:\n"
        "          settings: {scan_timeout: 99999999999999999999}\n"
    )
    found = problems_of(basic_lab, "include: [../common/odd.yaml]\n" + HOST)
    assert [(place, message) for place, message, _ in found] == [
        ("hosts/common/odd.yaml:3:18", "text contains a NUL character, which Nix cannot hold"),
        (
            "hosts/common/odd.yaml:7:36",
            "99999999999999999999 cannot be held by Nix, whose numbers are 64-bit",
        ),
    ]
