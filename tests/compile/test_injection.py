"""No Nix injection: any text a person types comes back from Nix as exactly that text.

Arbitrary Unicode (quotes, backslashes, `${`, `''`, newlines, control characters) goes
into every free-text field of a profile; the compiled host must parse and evaluate, with
the real nix-instantiate, to the same values.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homelab.lab import Lab
from tests.compiled import REPO, evaluate_host

# NUL cannot be held by a Nix string: validation refuses it (tested with the bad profiles)
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
    max_size=40,
) | st.sampled_from(["${x}", "''", "'''", "$${", "\\", '"', "\\${", "''${", "\r\n", " \t\n  x"])
KEY = TEXT.filter(lambda s: s != "")


def _write_lab(root: Path, profile: dict[str, Any]) -> Lab:
    if root.exists():
        shutil.rmtree(root)
    (root / "hosts/h").mkdir(parents=True)
    shutil.copytree(REPO / "services", root / "services")
    (root / "hosts/h/profile.yaml").write_text(
        yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8"
    )
    return Lab(root)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    description=TEXT,
    timezone=KEY,
    locale=KEY,
    file_path=KEY,
    file_text=TEXT,
    variables=st.dictionaries(KEY, TEXT, max_size=3),
    program_settings=st.dictionaries(
        KEY, TEXT | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.booleans(), max_size=3
    ),
    environment=st.dictionaries(KEY, TEXT, max_size=3),
    device=KEY,
    mount=TEXT.map(lambda s: "/" + s),
    domain=TEXT,
    volume=TEXT,
)
def test_any_text_round_trips_through_nix(
    tmp_path_factory: Any,
    description: str,
    timezone: str,
    locale: str,
    file_path: str,
    file_text: str,
    variables: dict[str, str],
    program_settings: dict[str, Any],
    environment: dict[str, str],
    device: str,
    mount: str,
    domain: str,
    volume: str,
) -> None:
    profile = {
        "host": {"stateVersion": "25.11", "timezone": timezone, "locale": locale},
        "hardware": {"fileSystems": {mount: {"device": device, "fsType": locale}}},
        "users": {
            "someone": {
                "description": description,
                "home": {
                    "files": {file_path: {"text": file_text}},
                    "sessionVariables": variables,
                    "programs": {"starship": {"enable": True, "settings": program_settings}},
                },
            }
        },
        "services": {"caddy": {"domain": domain}, "jellyfin": {}},
        "containers": {
            "c1": {"image": description or "x", "environment": environment, "volumes": [volume]}
        },
    }
    lab = _write_lab(tmp_path_factory.mktemp("inj") / "lab", profile)
    state = lab.load()
    assert not state.all_problems(), state.all_problems()
    config = evaluate_host(lab, "h")

    # what the profile says is what YAML reads from it (YAML folds a few line-break
    # characters such as U+0085 on its own); Nix must give exactly that back
    said = yaml.safe_load((lab.root / "hosts/h/profile.yaml").read_text(encoding="utf-8"))
    user = said["users"]["someone"]
    ((mount, fs),) = said["hardware"]["fileSystems"].items()
    assert config["time"]["timeZone"] == said["host"]["timezone"]
    assert config["i18n"]["defaultLocale"] == said["host"]["locale"]
    assert config["fileSystems"][mount] == fs
    assert config["users"]["users"]["someone"]["description"] == user["description"]
    home = config["home-manager"]["users"]["someone"]
    assert home["home"]["file"] == user["home"]["files"]
    assert home["home"].get("sessionVariables", {}) == user["home"]["sessionVariables"]
    assert home["programs"]["starship"] == {
        "enable": True,
        "settings": user["home"]["programs"]["starship"]["settings"],
    }
    container = config["virtualisation"]["oci-containers"]["containers"]["c1"]
    said_container = said["containers"]["c1"]
    assert container.get("environment", {}) == said_container["environment"]
    assert container["volumes"] == said_container["volumes"]
    assert container["image"] == said_container["image"]
    vhosts = config["services"]["caddy"]["virtualHosts"]
    assert list(vhosts) == ["jellyfin." + said["services"]["caddy"]["domain"]]
