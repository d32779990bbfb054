"""Which health checks a host gets: its services' (the catalogue's) and its profile's,
which of them its profile turned off, and how long each may keep failing."""

from __future__ import annotations

from pathlib import Path

from homelab.catalog import Checks
from homelab.deploy.checks import Check, checks_for, plan_checks
from homelab.deploy.models import (
    CheckPlan,
    CheckResult,
    HostResult,
    PlannedCheck,
    SkippedChecks,
)
from homelab.deploy.report import checks_line, report
from homelab.lab import Lab
from homelab.profile.model import Deploy, Profile
from tests.deploy.labs import make_lab

KUMA = [
    Check("unit", "uptime-kuma.service"),
    Check("tcp", "3001"),
    Check("http", "http://127.0.0.1:3001/"),
]
EXPORTER = [
    Check("unit", "prometheus-node-exporter.service"),
    Check("tcp", "9101"),
    Check("http", "http://127.0.0.1:9101/metrics"),
]


def profile_of(tmp_path: Path, deploy_checks: str) -> tuple[Profile, Lab]:
    lab_root = make_lab(tmp_path / "lab", [], commit=False)
    folder = lab_root / "hosts" / "box"
    folder.mkdir()
    (folder / "profile.yaml").write_text(
        'host: {stateVersion: "24.05"}\n'
        "services:\n  uptime-kuma: {}\n  prometheus-node-exporter: {port: 9101}\n"
        "deploy:\n  checks:\n" + deploy_checks
    )
    lab = Lab(lab_root)
    state = lab.load()
    profile = state.hosts["box"].profile
    assert profile is not None, state.hosts["box"].problems
    return profile, lab


def test_checks_come_from_the_catalogue_and_the_profile(tmp_path: Path) -> None:
    profile, lab = profile_of(
        tmp_path, "    units: [extra.service, uptime-kuma.service]\n    tcp: [8443]\n"
    )
    checks = checks_for(profile, lab.load().catalog)
    assert Check("unit", "uptime-kuma.service") in checks
    assert Check("unit", "prometheus-node-exporter.service") in checks
    assert Check("tcp", "9101") in checks  # the catalogue's template, with the host's setting
    assert Check("http", "http://127.0.0.1:9101/metrics") in checks
    assert Check("unit", "extra.service") in checks and Check("tcp", "8443") in checks
    assert len(checks) == len(set(checks))  # uptime-kuma.service only once


def test_a_service_turned_off_is_not_checked_and_is_counted_as_skipped(tmp_path: Path) -> None:
    profile, lab = profile_of(
        tmp_path,
        "    units: [extra.service]\n    services:\n      uptime-kuma: {enable: false}\n",
    )
    plan = plan_checks(profile, lab.load().catalog)
    ran = [p.check for p in plan.checks]
    assert ran == [*EXPORTER, Check("unit", "extra.service")]
    assert plan.skipped == (SkippedChecks("uptime-kuma", 3, "off in deploy.checks"),)


def test_a_check_the_person_asks_for_still_runs_when_its_service_is_off(tmp_path: Path) -> None:
    profile, lab = profile_of(
        tmp_path,
        "    units: [uptime-kuma.service]\n    services:\n      uptime-kuma: {enable: false}\n",
    )
    plan = plan_checks(profile, lab.load().catalog)
    assert Check("unit", "uptime-kuma.service") in [p.check for p in plan.checks]
    assert plan.skipped == (SkippedChecks("uptime-kuma", 2, "off in deploy.checks"),)


def test_a_host_with_checks_off_runs_none_and_says_how_many_were_skipped(tmp_path: Path) -> None:
    profile, lab = profile_of(tmp_path, "    enable: false\n    tcp: [8443]\n")
    plan = plan_checks(profile, lab.load().catalog)
    assert plan.checks == ()
    assert plan.skipped == (SkippedChecks("", 7, "off in deploy.checks"),)


def test_each_check_gets_its_services_grace_else_the_hosts(tmp_path: Path) -> None:
    profile, lab = profile_of(
        tmp_path,
        "    grace: 60\n    firstGrace: 300\n    units: [extra.service]\n"
        "    services:\n      uptime-kuma: {grace: 120, firstGrace: 900, tcp: [3002]}\n",
    )
    plan = plan_checks(profile, lab.load().catalog)
    by_check = {p.check: p for p in plan.checks}
    for check in [*KUMA, Check("tcp", "3002")]:
        assert by_check[check] == PlannedCheck(check, "uptime-kuma", 120, 900)
    for check in EXPORTER:
        assert by_check[check] == PlannedCheck(check, "prometheus-node-exporter", 60, 300)
    # the host's own checks are no service that starts: no first grace
    assert by_check[Check("unit", "extra.service")] == PlannedCheck(
        Check("unit", "extra.service"), "", 60, None
    )


def test_without_a_grace_the_apply_decides(tmp_path: Path) -> None:
    profile, lab = profile_of(tmp_path, "    tcp: [8443]\n")
    plan = plan_checks(profile, lab.load().catalog)
    assert {(p.grace, p.first_grace) for p in plan.checks} == {(None, None)}
    assert plan.units_to_see_first() == {}  # nothing to ask the machine before the switch


def test_a_first_start_waits_the_longer_grace() -> None:
    check = PlannedCheck(Check("tcp", "2283"), "immich", grace=60, first_grace=900)
    assert check.wait(30, first_start=False) == 60
    assert check.wait(30, first_start=True) == 900
    assert PlannedCheck(Check("tcp", "1")).wait(30, first_start=True) == 30
    # a first grace never shortens the wait
    assert PlannedCheck(Check("tcp", "1"), "x", 60, 10).wait(30, first_start=True) == 60


def test_only_services_with_a_longer_first_grace_are_asked_about(tmp_path: Path) -> None:
    profile, lab = profile_of(tmp_path, "    services:\n      uptime-kuma: {firstGrace: 900}\n")
    plan = plan_checks(profile, lab.load().catalog)
    assert plan.units_to_see_first() == {"uptime-kuma": ("uptime-kuma.service",)}


def test_no_checks_skips_them_all_with_its_reason() -> None:
    plan = CheckPlan(
        (PlannedCheck(Check("tcp", "22")),), (SkippedChecks("immich", 2, "off in deploy.checks"),)
    )
    assert plan.none_run("--no-checks") == CheckPlan((), (SkippedChecks("", 3, "--no-checks"),))
    assert CheckPlan().none_run("--no-checks") == CheckPlan()


def result(checks: tuple[CheckResult, ...], skipped: tuple[SkippedChecks, ...]) -> HostResult:
    return HostResult("web", "web", "done", "ok", checks=checks, checks_skipped=skipped)  # type: ignore[arg-type]


def test_the_summary_says_what_ran_and_what_was_skipped_and_why() -> None:
    ok = CheckResult(Check("tcp", "22"), True, "listening")
    bad = CheckResult(Check("tcp", "80"), False, "nothing listening")
    late = CheckResult(Check("tcp", "81"), False, "nothing listening", given_up=True)
    off = (
        SkippedChecks("immich", 2, "off in deploy.checks"),
        SkippedChecks("nextcloud", 1, "off in deploy.checks"),
    )
    assert checks_line(result((ok, ok), off)) == (
        "checks: 2 ran (2 ok), 3 skipped (immich, nextcloud: off in deploy.checks)"
    )
    assert checks_line(result((ok, bad, late), ())) == (
        "checks: 3 ran (1 ok, 1 failed, 1 not waited for)"
    )
    nothing = result((), (SkippedChecks("", 4, "--no-checks"),))
    assert checks_line(nothing) == "checks: none ran, 4 skipped (--no-checks)"
    assert checks_line(result((), ())) == ""
    assert "web: checks: none ran, 4 skipped (--no-checks)" in report([nothing]).lines()


def test_a_profiles_checks_are_the_catalogues_kind_of_checks() -> None:
    assert type(Deploy().checks.extra) is Checks
    assert type(Deploy().checks.of("any").extra) is Checks
