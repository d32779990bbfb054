"""Option search over a small hand-made option set: the ranking (exact path, path prefix,
words in the path, words in the description), one typo forgiven, and an option's page."""

from __future__ import annotations

from typing import Any

from homelab.optionindex import model as m
from homelab.optionindex.describe import option_lines, summary, type_words
from homelab.optionindex.search import DESCRIPTION, EXACT, PATH, PREFIX, search

BOOL = m.OptionType(m.BOOL, "bool", "boolean")


def option(path: str, description: str = "", kind: m.OptionType = BOOL, **more: Any) -> m.Option:
    return m.Option(tuple(path.split(".")), kind, description, **more)


OPTIONS = m.OptionSet(
    {
        o.path: o
        for o in [
            option("programs.git.enable", "Whether to enable Git."),
            option("programs.git.aliases", "Git aliases to define."),
            option("programs.git.delta.enable", "Whether to enable delta."),
            option("programs.gitui.enable", "Whether to enable gitui."),
            option("programs.lazygit.enable", "Whether to enable lazygit."),
            option("programs.firefox.enable", "Whether to enable Firefox."),
            option("services.syncthing.enable", "Sync files with git-like ease."),
            option(
                "programs.git.extraConfig", "Old name.", renamed_to=("programs", "git", "settings")
            ),
            option("programs.git.settings", "Configuration written to ~/.config/git/config."),
            option("programs.clock.format", "How it shows the time (digits, or hands)."),
            option("programs.git.includes.*.path", "Path of the file to include."),
            option("home.file.<name>.source", "Path of the source file."),
        ]
    }
)


def names(words: str, limit: int | None = None) -> list[str]:
    return [h.option.name for h in search(OPTIONS, words, limit)]


def test_the_exact_path_comes_first_then_the_prefix_then_the_path_then_the_description() -> None:
    hits = search(OPTIONS, "programs.git.enable")
    assert hits[0].option.name == "programs.git.enable"
    assert hits[0].tier == EXACT
    tiers = {h.option.name: h.tier for h in search(OPTIONS, "programs.git", None)}
    assert tiers["programs.git.aliases"] == PREFIX
    tiers = {h.option.name: h.tier for h in search(OPTIONS, "git", None)}
    assert tiers["programs.lazygit.enable"] == PATH
    assert tiers["services.syncthing.enable"] == DESCRIPTION
    assert names("git")[-1] == "services.syncthing.enable"  # only its description says git


def test_a_word_that_is_a_part_of_the_path_finds_the_module_s_enable_first() -> None:
    found = names("git")
    assert found[0] == "programs.git.enable"
    # the parts equal to the word before parts that only hold it (gitui, lazygit)
    assert found.index("programs.git.aliases") < found.index("programs.gitui.enable")
    assert found.index("programs.git.delta.enable") < found.index("programs.lazygit.enable")


def test_a_path_with_names_put_in_finds_the_option_it_sets() -> None:
    hits = search(OPTIONS, "home.file.gitconfig.source")
    assert hits[0].option.name == "home.file.<name>.source" and hits[0].tier == EXACT
    assert names("programs.git.includes.0.path")[0] == "programs.git.includes.*.path"
    assert names("home.file.x.nothing") == []


def test_a_prefix_ends_at_a_part_before_it_runs_into_longer_names() -> None:
    found = names("programs.git")
    assert found[0] == "programs.git.enable"
    assert found.index("programs.git.settings") < found.index("programs.gitui.enable")


def test_a_renamed_option_comes_after_the_ones_that_can_be_set() -> None:
    found = names("programs.git")
    assert found.index("programs.git.settings") < found.index("programs.git.extraConfig")


def test_every_word_must_match_in_the_path_or_the_description() -> None:
    assert names("git enable") == [
        "programs.git.enable",
        "programs.git.delta.enable",
        "programs.gitui.enable",
        "programs.lazygit.enable",
        "services.syncthing.enable",  # git in its description
    ]
    assert names("firefox aliases") == []
    assert names("sync ease") == ["services.syncthing.enable"]


def test_a_word_in_a_description_is_one_that_starts_with_it() -> None:
    assert "programs.clock.format" not in names("git", limit=None)  # digits
    assert names("digit") == ["programs.clock.format"]
    assert names("hands") == ["programs.clock.format"]  # "hands)": punctuation is no word


def test_one_typo_in_a_word_is_forgiven() -> None:
    assert names("firefx") == ["programs.firefox.enable"]  # a letter missing
    assert names("fierfox") == ["programs.firefox.enable"]  # two swapped
    assert names("syncthink") == ["services.syncthing.enable"]  # one changed
    assert names("gti") == []  # short words must be right: too much is one typo from them
    assert names("programs.firefx")[0] == "programs.firefox.enable"  # a path with a typo


def test_words_are_case_blind_and_the_limit_holds() -> None:
    assert names("FIREFOX") == ["programs.firefox.enable"]
    assert len(names("enable", limit=2)) == 2
    assert search(OPTIONS, "  ") == []


def test_an_option_s_page_says_its_type_default_example_source_and_description() -> None:
    port = m.OptionType(
        m.INT, "port", "16 bit unsigned integer; between 0 and 65535 (both inclusive)"
    )
    page = option_lines(
        option(
            "services.openssh.ports",
            "Specifies on which ports the SSH daemon listens.\n\nMore words.",
            m.OptionType(m.LIST, "listOf", of=(port,)),
            default="[\n  22\n]",
            example="[ 22 2222 ]",
            declared_in=("nixos/modules/services/networking/ssh/sshd.nix",),
        ),
        "NixOS",
    )
    assert page == [
        "services.openssh.ports  (NixOS)",
        "type: list of (16 bit unsigned integer; between 0 and 65535 (both inclusive))",
        "default:",
        "  [",
        "    22",
        "  ]",
        "example: [ 22 2222 ]",
        "declared in: nixos/modules/services/networking/ssh/sshd.nix",
        "",
        "Specifies on which ports the SSH daemon listens.",
        "",
        "More words.",
    ]
    renamed = option_lines(OPTIONS.options[("programs", "git", "extraConfig")])
    assert renamed[1] == "renamed: set programs.git.settings instead"
    gone = option_lines(option("services.old.enable", removed="It was unmaintained."))
    assert gone[1] == "removed: It was unmaintained."


def test_types_without_lib_s_words_are_said_from_their_structure() -> None:
    level = m.OptionType(m.ENUM, values=("info", "debug", None))
    assert type_words(level) == 'one of "info", "debug", null'
    assert type_words(m.OptionType(m.INT, low=1, high=10)) == "integer between 1 and 10"
    assert type_words(m.OptionType(m.NULL_OR, of=(m.OptionType(m.STR),))) == "null or (string)"


def test_a_summary_is_the_first_sentence_on_one_line() -> None:
    text = "Whether to enable\nGit. It is a version control system."
    assert summary(option("programs.git.enable", text)) == "Whether to enable Git."
    assert summary(option("a.b", "x" * 100), width=10) == "xxxxxxxxx…"
    roles = "Written to {file}`~/.config/git/config`, see {option}`programs.git.enable`."
    assert summary(option("a.b", roles)) == (
        "Written to `~/.config/git/config`, see `programs.git.enable`."
    )
