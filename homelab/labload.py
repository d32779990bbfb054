"""Reading and checking a lab's files (profiles, fragments, the catalogue, lab.yaml, the
option checks), and compiling and writing what they make: the work behind
homelab.labfiles.LabFiles, which calls in here when a command first needs it.

Over 500 lines for now: loading shares its state (the fetcher, the catalogue, lab.yaml)
between the whole lab's load, one host's and the build."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homelab import builds, gcpause, labconfig, webplan, wiring
from homelab.builds import Builds
from homelab.catalog import Catalog, Service, service_from_document
from homelab.doubled import doubled
from homelab.errors import InvalidInput, Place, Problem
from homelab.labconfig import lock
from homelab.labstate import COMMON, PROFILE, HostState, LabState
from homelab.optionindex.check import Checked
from homelab.optionindex.model import OptionIndex
from homelab.profile import advice, include, model, options, secretrefs, validate
from homelab.secrets.view import AGENIX, LabSecrets, lab_secrets, names_in
from homelab.source import DiskSource, Overlay, Source, Unreadable, present, read_bytes
from homelab.webplan import WebPlan
from homelab.wiring import Wiring
from homelab.yamlfile import Document, Path_, copied, load_text

if TYPE_CHECKING:  # write is imported where it is used: compiling pulls in the compiler
    from homelab.write import BuildResult, Plan


def host_folders(source: Source) -> list[str]:
    """The folders under hosts/ that hold a profile (hosts/common holds fragments). A
    profile that is there but cannot be read still makes a host: one with a problem,
    never one that silently disappears (and whose generated files a build would delete)."""
    try:
        names = source.listdir("hosts")
    except Unreadable as err:
        raise InvalidInput([Problem(Place("hosts/"), err.reason, hint=err.hint)]) from None
    return [name for name in names if name != COMMON and present(source, f"hosts/{name}/{PROFILE}")]


def _unreadable(rel: str, err: Exception) -> Problem:
    if isinstance(err, UnicodeDecodeError):
        data = err.object
        line = data[: err.start].count(b"\n") + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        return Problem(
            Place(rel, line, column),
            "not UTF-8 text",
            hint="save the file as UTF-8 (your editor's encoding setting)",
        )
    assert isinstance(err, Unreadable)
    return Problem(Place(rel), err.reason, hint=err.hint)


def _listing(source: Source, rel: str) -> list[str]:
    try:
        return source.listdir(rel)
    except Unreadable:
        return []


def fetcher(source: Source, read: dict[str, str] | None = None) -> include.Fetch:
    """Reads and parses each lab file once; `read` collects the texts when given."""
    cache: dict[str, tuple[Document | None, list[Problem]]] = {}

    def fetch(rel: str) -> tuple[Document | None, list[Problem]]:
        if rel not in cache:
            try:
                text = source.read(rel)
            except (UnicodeDecodeError, Unreadable) as err:
                cache[rel] = (None, [_unreadable(rel, err)])
                return cache[rel]
            if text is None:
                available = sorted(
                    f"../{COMMON}/{name}"
                    for name in _listing(source, f"hosts/{COMMON}")
                    if name.endswith(".yaml")
                )
                hint = "fragments here: " + ", ".join(available) if available else ""
                cache[rel] = (None, [Problem(Place(rel), f"no such file {rel}", hint=hint)])
                return cache[rel]
            if read is not None:
                read[rel] = text
            cache[rel] = load_text(rel, text, options.tags_allowed)
        return cache[rel]

    return fetch


# Catalogue entries parsed, by their file's text: the loads of one command (the working
# tree, HEAD, a deployed commit) mostly share every entry, and parsing them is most of a
# small lab's load.
_ENTRIES: dict[tuple[str, str], tuple[Service | None, tuple[Problem, ...]]] = {}
_MOST_ENTRIES = 2000


def _catalogue_entry(
    rel: str, fetch: include.Fetch, source: Source, read: dict[str, str] | None
) -> tuple[Service | None, tuple[Problem, ...]]:
    text = _text(source, rel)
    if text is not None and (rel, text) in _ENTRIES:
        if read is not None:
            read[rel] = text  # as fetch would have noted it
        return _ENTRIES[(rel, text)]
    doc, found = fetch(rel)
    entry: tuple[Service | None, tuple[Problem, ...]] = (None, tuple(found))
    if doc is not None:
        service, more = service_from_document(
            rel.removeprefix("services/").removesuffix(".yaml"), doc
        )
        entry = (service, (*found, *more))
    if text is not None:
        if len(_ENTRIES) >= _MOST_ENTRIES:
            _ENTRIES.clear()
        _ENTRIES[(rel, text)] = entry
    return entry


def _text(source: Source, rel: str) -> str | None:
    """A lab file's text, None when it is not there or cannot be read."""
    try:
        return source.read(rel)
    except (UnicodeDecodeError, Unreadable):
        return None


def _lab_config(source: Source) -> tuple[labconfig.LabConfig | None, list[Problem]]:
    """lab.yaml read and checked: (None, []) when the lab has none; one that is there but
    cannot be read is said, never taken for none."""
    try:
        text = source.read(labconfig.LAB_YAML)
    except (UnicodeDecodeError, Unreadable) as err:
        return None, [_unreadable(labconfig.LAB_YAML, err)]
    if text is None:
        return None, []
    return labconfig.parse(text, lambda rel: _text(source, rel))


def _reader(source: Source) -> Callable[[str], str | None]:
    """A file's text for advice (hardware-configuration.nix), None when it cannot be read."""

    def read(rel: str) -> str | None:
        try:
            return source.read(rel)
        except (UnicodeDecodeError, Unreadable):
            return None

    return read


def _secrets(
    source: Source, hosts: Mapping[str, HostState], config: labconfig.LabConfig | None
) -> LabSecrets:
    """The lab's encrypted secrets, checked against the valid hosts that use them."""
    try:
        names = names_in(source.listdir(secretrefs.FOLDER))
    except Unreadable:
        names = []
    valid = [
        (folder, h.profile, h.document)
        for folder, h in sorted(hosts.items())
        if h.profile is not None and not h.problems
    ]
    admins = [(a.name, a.key) for a in config.admins] if config is not None else []
    has_input = AGENIX in config.input_names if config is not None else None
    invalid_yaml = config is None and present(source, labconfig.LAB_YAML)
    if invalid_yaml:
        has_input = True  # lab.yaml is invalid: it says so itself
    # a host with a mistake still uses its secrets: they are not "unused" meanwhile
    elsewhere = {
        name
        for h in hosts.values()
        if (h.profile is None or h.problems) and h.document is not None
        for name in secretrefs.names_in_data(h.document.data)
    }
    if getattr(source, "partial", False):
        elsewhere = set(names)  # some hosts only: another may use any of them
    return lab_secrets(
        valid,
        admins,
        names,
        lambda rel: read_bytes(source, rel),
        has_input,
        named_elsewhere=elsewhere,
        admins_known=not invalid_yaml,
    )


def _web_plan(
    hosts: dict[str, HostState],
    config: labconfig.LabConfig | None,
    catalog: Catalog,
    lab_problems: list[Problem],
) -> WebPlan | None:
    """The lab's names (lab.yaml's domain, the profiles' `web: {name: ...}`) from the valid
    hosts; its problems go to their hosts (or the lab's). Hosts change in place."""
    found, problems = webplan.plan(
        config.domain if config is not None else None, _valid(hosts), catalog, _place_of(hosts)
    )
    _said(hosts, problems, lab_problems)
    return found


def _wiring(
    hosts: dict[str, HostState],
    config: labconfig.LabConfig | None,
    catalog: Catalog,
    web: WebPlan | None,
    lab_problems: list[Problem],
) -> Wiring | None:
    """The lab's roles (lab.yaml's wiring:) from the valid hosts; problems as _web_plan's."""
    if config is None or not config.wiring:
        return None
    found, problems = wiring.plan(
        config.wiring,
        _valid(hosts),
        catalog,
        _place_of(hosts),
        web,
        config.domain.name if config.domain is not None else None,
        frozenset(
            name
            for h in hosts.values()
            if (h.profile is None or h.problems)
            and h.document is not None
            and isinstance(h.document.data, dict)
            for name in h.document.data.get("services") or {}
        ),
    )
    _said(hosts, problems, lab_problems)
    return found


def _builds(
    hosts: dict[str, HostState],
    config: labconfig.LabConfig | None,
    lab_problems: list[Problem],
) -> Builds | None:
    """Where the systems are built (lab.yaml's builds:, the profiles' deploy.buildOn) from
    the valid hosts; problems as _web_plan's."""
    found, problems = builds.plan(
        config.builds if config is not None else None, _valid(hosts), _place_of(hosts)
    )
    _said(hosts, problems, lab_problems)
    return found


def _said(
    hosts: dict[str, HostState],
    problems: Iterable[tuple[str | None, Problem]],
    lab_problems: list[Problem],
) -> None:
    for folder, problem in problems:
        if folder is None:
            lab_problems.append(problem)
        else:
            hosts[folder] = _with_problems(hosts[folder], [problem])


def _valid(hosts: Mapping[str, HostState]) -> dict[str, model.Profile]:
    return {f: h.profile for f, h in hosts.items() if h.profile is not None and not h.problems}


def _place_of(hosts: Mapping[str, HostState]) -> webplan.PlaceOf:
    def place_of(folder: str, path: Path_) -> Place:
        doc = hosts[folder].document
        top = Place(f"hosts/{folder}/{PROFILE}")
        return doc.marks.value(path, top) if doc is not None else top

    return place_of


def _lab_secret_uses(
    hosts: dict[str, HostState],
    web: WebPlan | None,
    wired: Wiring | None,
    built: Builds | None = None,
) -> None:
    """The secrets the lab gives hosts (the proxy's DNS credentials, the backup and MQTT
    passwords, the build and signing keys) join their profiles' own: encrypted to them,
    sent to them."""
    for folder, host in list(hosts.items()):
        if host.profile is None:
            continue
        part = web.hosts.get(folder) if web is not None else None
        uses = (
            *webplan.secret_uses(part),
            *(wired.secrets_of(folder) if wired else ()),
            *(built.secrets_of(folder) if built else ()),
        )
        if uses:
            hosts[folder] = replace(host, profile=replace(host.profile, lab_secrets=uses))


def _with_problems(host: HostState, found: Iterable[Problem]) -> HostState:
    errors = tuple(p for p in found if not p.warning)
    warnings = tuple(p for p in found if p.warning)
    return replace(host, problems=(*host.problems, *errors), warnings=(*host.warnings, *warnings))


def _module_files(host: HostState) -> tuple[str, ...]:
    return host.profile.module_files if host.profile is not None else ()


def _profile(
    folder: str, merged: Document, catalog: Catalog, used: tuple[str, ...]
) -> model.Profile:
    """The profile of a host's merged document, once it is known valid."""
    rel = f"hosts/{folder}/{PROFILE}"
    data = merged.data
    settings = {
        name: _settings_used(service, (data.get("services") or {}).get(name), name)
        for name in (data.get("services") or {})
        if (service := catalog.get(name)) is not None
    }
    top = Place(rel)
    return model.build(
        data, folder, rel, settings, used, lambda path: merged.marks.value(path, top).file
    )


# Hosts mostly give a service the same settings: their defaults and secret uses are
# worked out once by service and settings text (the service kept alive with them, so
# that its id is not another's), and each host gets its own copy.
_USED: dict[tuple[int, str, str], tuple[Service, Any]] = {}
_MOST_USED = 4096


def _settings_used(service: Service, given: Any, name: str) -> Any:
    """The service's settings as a profile holds them: defaults filled, secrets as uses."""
    key = (id(service), repr(given), name)
    known = _USED.get(key)
    if known is None or known[0] is not service:
        if len(_USED) >= _MOST_USED:
            _USED.clear()
        used = secretrefs.uses(
            service.with_defaults(given),
            service.settings_schema,
            ("services", name),
        )
        known = _USED[key] = (service, used)
    return copied(known[1])


def _by_host(files: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Generated files by host folder (hosts/FOLDER/...), in one pass over them: asking
    each host for its own files would read every file once per host."""
    out: dict[str, dict[str, str]] = {}
    for path, text in files.items():
        top, _, rest = path.partition("/")
        folder, sep, _ = rest.partition("/")
        if top == "hosts" and sep:
            out.setdefault(folder, {})[path] = text
    return out


def _entry_problems(
    catalog: Catalog,
    hosts: dict[str, HostState],
    fetch: include.Fetch,
    index: OptionIndex,
    tally: Checked | None = None,
) -> list[Problem]:
    """The options that the catalogue entries the hosts use set, against the index (as
    `homelab catalogue check` does; the release an entry is written for is its concern)."""
    from homelab.catalogcheck import Entry, check_catalogue  # deferred: only with an index

    used: set[str] = set()
    for host in hosts.values():
        data = host.document.data if host.document is not None else None
        services = data.get("services") if isinstance(data, dict) else None
        used.update(services if isinstance(services, dict) else ())
    problems: list[Problem] = []
    for name in sorted(used):
        service = catalog.get(name)
        doc = fetch(service.file)[0] if service is not None else None
        if service is not None and doc is not None:
            found = check_catalogue([Entry(service, doc)], index.nixos, service.nixpkgs)
            problems.extend(found.problems)
            if tally is not None:
                tally.checked += found.checked
                tally.unchecked += found.unchecked
    return problems


def _without_host(doc: Document) -> list[Problem]:
    """A profile with no `host:` at all (an empty file, `{}`): said at its top, before
    anything needs host.stateVersion."""
    if not isinstance(doc.data, dict) or "host" in doc.data:
        return []
    example = 'start with  host: {stateVersion: "24.05"}  (the NixOS release it was installed with)'
    return [
        Problem(
            doc.marks.value((), Place(doc.file, 1, 1)),
            "missing key 'host'" if doc.data else "the profile is empty",
            path="host" if doc.data else "",
            hint=example,
        )
    ]


def load(
    root: Path,
    texts: dict[str, str] | None = None,
    source: Source | None = None,
    index: OptionIndex | None = None,
) -> LabState:
    """Read and check every host (see _load); `index`: the lab's option index, which
    the options every host sets are checked against (None: they are not)."""
    return _paused(lambda: _load(root, texts, source, index))


def overview(root: Path) -> LabState:
    """Every host with its profile, and the lab's names and roles, as `homelab hosts`
    lists them; quicker than load: the hosts the last build checked and that have not
    changed since are not checked again (their profiles are built as they are), and
    no host is given warnings. A host with problems has them, as in load."""
    from homelab import buildcache  # deferred: start-up, as the compiler

    def load() -> LabState:
        folders = host_folders(DiskSource(root))
        return _load(root, checked=buildcache.valid_at_last_build(root, folders))

    return _paused(load)


def _paused(load: Callable[[], LabState]) -> LabState:
    # thousands of small objects stay alive while a lab loads: collecting them midway
    # costs a third of the time and frees nothing
    with gcpause.paused():
        return load()


def _load(
    root: Path,
    texts: dict[str, str] | None = None,
    source: Source | None = None,
    index: OptionIndex | None = None,
    checked: Collection[str] = (),
) -> LabState:
    """Read and check every host from the working tree (or `source`, e.g. a git
    revision); `texts` lays unsaved edits on top (the TUI's). The `checked` hosts are
    known valid (see overview): their profiles are built unchecked, without warnings."""
    source = _source(root, texts, source)
    read: dict[str, str] = {}
    fetch = fetcher(source, read)
    exists = lambda rel: present(source, rel)  # noqa: E731
    catalog, lab_problems = _load_catalog(fetch, source, read)
    config, config_problems = _lab_config(source)
    inputs = config.input_names if config is not None else None
    release = config.release if config is not None else None
    hosts: dict[str, HostState] = {}
    tally = Checked()  # without an index: the settings it would have checked
    for folder in host_folders(source):
        hosts[folder] = _load_host(
            root, folder, fetch, catalog, exists, _reader(source), inputs, release, index, tally,
            checked=folder in checked,
        )  # fmt: skip
    names: dict[str, str] = {}
    for folder, state in sorted(hosts.items()):
        if state.profile is None:
            continue
        name = state.profile.name
        if name in names:
            lab_problems.append(
                Problem(
                    Place(f"hosts/{folder}/{PROFILE}"),
                    f"host name '{name}' is also used by hosts/{names[name]}",
                    hint="give each host its own host.name",
                )
            )
        names[name] = folder
    said: list[Problem] = []
    web = wired = built = None
    # lab.yaml that cannot be read says why, and names and roles wait for it; with
    # some hosts only (the editor's first check), a peer may be among the others
    whole = not getattr(source, "partial", False)
    if whole and (config is not None or not present(source, labconfig.LAB_YAML)):
        web = _web_plan(hosts, config, catalog, lab_problems)
        wired = _wiring(hosts, config, catalog, web, lab_problems)
        built = _builds(hosts, config, lab_problems)
        _lab_secret_uses(hosts, web, wired, built)
    found_secrets = _secrets(source, hosts, config)
    for folder, extra in found_secrets.host_problems.items():
        hosts[folder] = _with_problems(hosts[folder], extra)
    for p in found_secrets.problems:
        (said if p.warning else lab_problems).append(p)
    unpinned = lock.lock_problems(
        _text(source, labconfig.LAB_YAML), _text(source, lock.FLAKE_LOCK), warning=True
    )
    lab_problems += config_problems
    if index is not None:
        for p in _entry_problems(catalog, hosts, fetch, index, tally):
            (said if p.warning else lab_problems).append(p)
    return LabState(
        catalog,
        hosts,
        tuple(lab_problems),
        read,
        (*unpinned, *said),
        config=config,
        secrets=found_secrets,
        web=web,
        wiring=wired,
        builds=built,
        options_not_checked=0 if index is not None else tally.unchecked,
        option_values=tally if index is not None else None,
    )


def load_host(
    root: Path,
    folder: str,
    catalog: Catalog,
    texts: dict[str, str] | None = None,
    index: OptionIndex | None = None,
) -> HostState:
    """One host read and checked on its own, with unsaved `texts` on top and the
    catalogue of an earlier load: what an editor needs after each keystroke, without
    reading the other hosts. (Checks across hosts, like duplicate names, need load.)"""
    source = _source(root, texts)
    exists = lambda rel: present(source, rel)  # noqa: E731
    config, _ = _lab_config(source)
    inputs = config.input_names if config is not None else None
    release = config.release if config is not None else None
    host = _load_host(
        root, folder, fetcher(source), catalog, exists, _reader(source), inputs, release, index
    )
    # its secrets' problems at its own uses (a secret's file-wide ones need every host)
    found = _secrets(source, {folder: host}, config).host_problems.get(folder, ())
    return _with_problems(host, found) if found else host


def _source(root: Path, texts: dict[str, str] | None, source: Source | None = None) -> Source:
    """The working tree (or `source`) with unsaved `texts` laid on top."""
    base = source or DiskSource(root)
    return Overlay(base, texts) if texts else base


def catalogue(root: Path) -> tuple[Catalog, list[Problem]]:
    """The lab's catalogue alone (services/*.yaml), without its hosts."""
    source = _source(root, None)
    return _load_catalog(fetcher(source), source)


def _load_catalog(
    fetch: include.Fetch, source: Source, read: dict[str, str] | None = None
) -> tuple[Catalog, list[Problem]]:
    services: dict[str, Service] = {}
    problems: list[Problem] = []
    try:
        names = source.listdir("services")
    except Unreadable as err:
        return Catalog({}), [Problem(Place("services/"), err.reason, hint=err.hint)]
    for name in names:
        if not name.endswith(".yaml"):
            continue
        service, found = _catalogue_entry(f"services/{name}", fetch, source, read)
        problems.extend(found)
        if service is not None:
            services[service.name] = service
    return Catalog(services), problems


def _load_host(
    root: Path,
    folder: str,
    fetch: include.Fetch,
    catalog: Catalog,
    exists: Callable[[str], bool],
    read: Callable[[str], str | None] = lambda rel: None,
    inputs: Iterable[str] | None = None,
    release: str | None = None,  # lab.yaml's: entries written for another are warned of
    index: OptionIndex | None = None,
    tally: Checked | None = None,
    checked: bool = False,  # known valid: build its profile, give no warnings
) -> HostState:
    rel = f"hosts/{folder}/{PROFILE}"
    doc, problems = fetch(rel)
    if doc is None:
        return HostState(folder, None, tuple(problems), None)
    used: list[str] = []

    def tracking(path: str) -> tuple[Document | None, list[Problem]]:
        used.append(path)
        return fetch(path)

    merged, found = include.resolve(doc, tracking)
    problems = [*problems, *found, *_without_host(merged)]
    if checked and not problems:
        known = _profile(folder, merged, catalog, tuple(used))
        return HostState(folder, merged, (), known, tuple(used))
    found = validate.validate(
        merged, folder, catalog, exists, partial(real_path, root), read, inputs, index, tally
    )
    # a renamed option still works: the index's word on it never blocks
    said = [p for p in found if p.warning]
    problems.extend(p for p in found if not p.warning)
    profile = None
    if not problems:
        profile = _profile(folder, merged, catalog, tuple(used))
        twice = doubled(merged, profile, catalog)
        if twice:
            return HostState(folder, merged, tuple(twice), None, tuple(used))
        warnings = (*said, *advice.advise(merged, profile, catalog, read, release))
        groups = advice.groups_to_offer(profile, catalog, advice.raw_nix(profile, read))
        return HostState(folder, merged, (), profile, tuple(used), warnings, tuple(groups))
    return HostState(folder, merged, tuple(problems), profile, tuple(used))


def generated(state: LabState, folders: Sequence[str] | None = None) -> dict[str, str]:
    """{lab-relative path: text} of the chosen hosts' generated modules (pure)."""
    # deferred: start-up (history, hosts and status never compile; ~10 ms)
    from homelab.compile import CompileError, compile_host

    out: dict[str, str] = {}
    problems = []
    for folder in sorted(state.hosts) if folders is None else folders:
        profile = state.hosts[folder].profile
        if profile is None:
            continue
        try:
            web = state.web.hosts.get(folder) if state.web is not None else None
            out.update(compile_host(profile, state.catalog, web, state.wiring, state.builds))
        except (CompileError, ValueError) as err:
            problems.append(Problem(Place(f"hosts/{folder}/{PROFILE}"), f"cannot compile: {err}"))
    if problems:
        raise InvalidInput(problems)
    return out


def plan_build(
    root: Path, state: LabState, folders: Sequence[str], wanted: dict[str, str] | None = None
) -> Plan:
    """What a build of these hosts would write and delete (the whole lab's build also
    deletes the generated files of hosts whose profile is gone)."""
    from homelab.write import plan  # deferred: start-up, as the compiler

    scope = list(folders)
    if set(folders) == set(state.hosts):
        scope += orphan_folders(root)
    if wanted is None:
        wanted = {**generated(state, folders), **lab_generated(state)}
    return plan(root, wanted, scope)


def lab_generated(state: LabState) -> dict[str, str]:
    """flake.nix, generated from lab.yaml: nothing for a lab without one (its
    flake.nix is a person's, never touched)."""
    if state.config is None:
        return {}
    from homelab.labconfig.flake import flake_text  # deferred: start-up, as the compiler

    return {labconfig.FLAKE: flake_text(state.config)}


def flake_up_to_date(root: Path) -> bool:
    """Is flake.nix what lab.yaml makes (True when the lab has no lab.yaml)?"""
    disk = DiskSource(root)
    config, problems = labconfig.load(lambda rel: _text(disk, rel))
    if problems:
        return False  # a build says why
    if config is None:
        return True
    from homelab.labconfig.flake import flake_text  # deferred: start-up

    return _text(disk, labconfig.FLAKE) == flake_text(config)


def build(
    root: Path, state: LabState, folders: Sequence[str], *, check: bool = False, force: bool = False
) -> BuildResult:
    """Write the generated modules of these hosts; with check, only say what is stale."""
    # deferred: start-up, as the compiler
    from homelab import buildcache
    from homelab.write import BuildResult, apply_plan

    wanted = generated(state, folders)
    the_plan = plan_build(root, state, folders, {**wanted, **lab_generated(state)})
    if check:
        return BuildResult(stale=tuple(the_plan.stale))
    result = apply_plan(root, the_plan, force=force)
    written = _by_host(wanted)  # all of them as wanted now (apply_plan wrote or kept)
    buildcache.record(
        root,
        {
            # module files are read by validation too: a change to one is a change
            f: (
                (*state.hosts[f].includes, *_module_files(state.hosts[f])),
                written.get(f, {}),
            )
            for f in folders
            # what the cache says of a host is taken as checked (overview): a host
            # saved with problems (the editor saves drafts) is not recorded
            if state.hosts[f].valid
        },
        state.hosts,
        lab_wide=state.web is not None or state.wiring is not None or state.builds is not None,
    )
    return result


def unchanged_since_last_build(
    root: Path, folders: Sequence[str] | None = None, current: Sequence[str] | None = None
) -> bool:
    """True when nothing a build of these hosts (all when None) reads or writes has
    changed since the last build: then a build would write nothing. `current` is
    host_folders() when the caller already has it."""
    from homelab import buildcache  # deferred: start-up, as the compiler

    if current is None:
        current = host_folders(DiskSource(root))
    # lab.yaml is no host's: its flake.nix is compared as it is
    return buildcache.unchanged(root, folders, current) and flake_up_to_date(root)


def real_path(root: Path, rel: str) -> str | None:
    """Where a lab file really is, its links followed: lab-relative, or None outside
    the lab (on disk, where apply reads secrets from, whatever revision is loaded)."""
    top = os.path.realpath(root)
    real = os.path.realpath(os.path.join(top, rel))
    if os.path.commonpath([top, real]) != top:
        return None
    return os.path.relpath(real, top)


def orphan_folders(root: Path) -> list[str]:
    """Host folders whose profile is gone but generated files remain. A profile that
    is there in any form (a dangling link, a folder) is not gone: that host is
    reported, and its files stay."""
    hosts = root / "hosts"
    if not hosts.is_dir():
        return []
    return sorted(
        p.name
        for p in hosts.iterdir()
        if p.is_dir() and p.name != COMMON and not os.path.lexists(p / PROFILE)
    )
