"""The declarations of ACME certificates, caddy's and nginx's virtual hosts and the
firewall's extra rules (tests/nixos-options.nix, tests/nixos-options/acme.nix) hold what a
reverse proxy for a lab's domain sets, with nixpkgs' types and defaults, and refuse what
nixpkgs refuses."""

from __future__ import annotations

import pytest

from tests.modulesystem import eval_nixos

# a wildcard certificate by DNS-01, served by caddy and by nginx, and one port opened to
# one machine
PROXY = """\
{ ... }:
{
  security.acme = {
    acceptTerms = true;
    defaults.email = "admin@example.org";
    certs."home.example.org" = {
      extraDomainNames = [ "*.home.example.org" ];
      dnsProvider = "cloudflare";
      environmentFile = "/run/agenix/cf";
      group = "caddy";
    };
  };
  services.caddy = {
    enable = true;
    virtualHosts."photos.home.example.org" = {
      useACMEHost = "home.example.org";
      extraConfig = "reverse_proxy 127.0.0.1:2283";
    };
  };
  services.nginx = {
    enable = true;
    recommendedProxySettings = true;
    virtualHosts."vault.home.example.org" = {
      forceSSL = true;
      useACMEHost = "home.example.org";
      locations."/" = {
        proxyPass = "http://127.0.0.1:8222";
        proxyWebsockets = true;
      };
    };
  };
  networking.firewall.extraCommands = ''
    iptables -A nixos-fw -p tcp -s 192.168.1.2 --dport 8222 -j nixos-fw-accept
  '';
}
"""

CERT = 'security.acme.certs."home.example.org"'
VAULT = 'services.nginx.virtualHosts."vault.home.example.org"'
PHOTOS = 'services.caddy.virtualHosts."photos.home.example.org"'


def _host(text: str) -> dict[str, str]:
    return {"hosts/proxy/configuration.nix": text}


def test_a_wildcard_certificate_by_dns_and_the_proxies_that_use_it_evaluate() -> None:
    found = eval_nixos(
        _host(PROXY),
        [
            f"{CERT}.domain",
            f"{CERT}.directory",
            f"{CERT}.extraDomainNames",
            f"{CERT}.environmentFile",
            f"{CERT}.email",
            f"{CERT}.webroot",
            f"{PHOTOS}.hostName",
            f"{PHOTOS}.useACMEHost",
            f'{VAULT}.locations."/".proxyWebsockets',
            f'{VAULT}.locations."/".recommendedProxySettings',
            f"{VAULT}.acmeRoot",
            "networking.firewall.extraCommands",
            "networking.nftables.enable",
        ],
    )
    assert found[f"{CERT}.domain"] == "home.example.org"
    assert found[f"{CERT}.directory"] == "/var/lib/acme/home.example.org"
    assert found[f"{CERT}.extraDomainNames"] == ["*.home.example.org"]
    assert found[f"{CERT}.environmentFile"] == "/run/agenix/cf"
    # security.acme.defaults is where a cert's unset options come from
    assert found[f"{CERT}.email"] == "admin@example.org"
    assert found[f"{CERT}.webroot"] is None
    assert found[f"{PHOTOS}.hostName"] == "photos.home.example.org"
    assert found[f"{PHOTOS}.useACMEHost"] == "home.example.org"
    assert found[f'{VAULT}.locations."/".proxyWebsockets'] is True
    # a location follows services.nginx.recommendedProxySettings unless it says otherwise
    assert found[f'{VAULT}.locations."/".recommendedProxySettings'] is True
    assert found[f"{VAULT}.acmeRoot"] == "/var/lib/acme/acme-challenge"
    assert "--dport 8222 -j nixos-fw-accept" in found["networking.firewall.extraCommands"]
    assert found["networking.nftables.enable"] is False


def test_a_cert_that_does_not_inherit_the_defaults_keeps_its_own() -> None:
    text = """\
{ ... }:
{
  security.acme.defaults = { email = "admin@example.org"; group = "nginx"; };
  security.acme.certs."other.example.org".inheritDefaults = false;
}
"""
    cert = 'security.acme.certs."other.example.org"'
    found = eval_nixos(_host(text), [f"{cert}.email", f"{cert}.group", f"{cert}.server"])
    assert found == {
        f"{cert}.email": None,
        f"{cert}.group": "acme",
        f"{cert}.server": "https://acme-v02.api.letsencrypt.org/directory",
    }


def test_the_old_name_of_a_certs_environment_file_still_reaches_it() -> None:
    text = """\
{ ... }:
{
  security.acme.certs."home.example.org".credentialsFile = "/run/agenix/cf";
}
"""
    found = eval_nixos(_host(text), [f"{CERT}.environmentFile"])
    assert found[f"{CERT}.environmentFile"] == "/run/agenix/cf"


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        (
            "proxyWebsockets = true;",
            'proxyWebsockets = "yes";',
            r"proxyWebsockets' is not of type `boolean'",
        ),
        (
            "forceSSL = true;",
            "forceSSL = true; enableHSTS = true;",
            r"The option `services\.nginx\.virtualHosts\."
            r"\"vault\.home\.example\.org\"\.enableHSTS' does not exist",
        ),
        (
            'useACMEHost = "home.example.org";\n      extraConfig',
            'useACMEHost = "home.example.org"; tls = "internal";\n      extraConfig',
            r"The option `services\.caddy\.virtualHosts\.\"photos\.home\.example\.org\"\.tls' "
            r"does not exist",
        ),
        (
            'extraDomainNames = [ "*.home.example.org" ];',
            'extraDomainNames = "*.home.example.org";',
            r"extraDomainNames' is not of type `list of string'",
        ),
        (
            "networking.firewall.extraCommands",
            "networking.firewall.extraInputRules = 1;\n  networking.firewall.extraCommands",
            r"extraInputRules' is not of type `strings concatenated with \"\\n\"'",
        ),
    ],
    ids=["wrong-type", "undeclared-nginx-option", "undeclared-caddy-option", "cert-list", "nft"],
)
def test_a_wrong_value_or_an_undeclared_option_fails_evaluation(
    replace: str, by: str, message: str
) -> None:
    assert PROXY.count(replace) == 1
    text = PROXY.replace(replace, by)
    with pytest.raises(AssertionError, match=message):
        eval_nixos(_host(text), [f"{CERT}.domain", "*"])


def test_every_option_the_proxy_host_sets_is_declared_and_typed() -> None:
    defined = eval_nixos(_host(PROXY), ["*"])["*"]
    assert defined["security.acme.acceptTerms"] is True
    assert defined["services.caddy.enable"] is True
    vhosts = defined["services.nginx.virtualHosts"]
    # a lab's own virtual hosts replace the module's default one (localhost)
    assert list(vhosts) == ["vault.home.example.org"]
    assert vhosts["vault.home.example.org"]["forceSSL"] is True
