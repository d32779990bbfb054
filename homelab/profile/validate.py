"""A merged profile document -> problems, each with its place and a hint.

JSON Schema checks the shape; the checks below it look across fields (groups that need a
service, ports two services want, keys that are not keys, Nix that does not parse), each
concern in its own module (check_users, check_services, check_health, check_files, check_boot,
check_extra_config, check_options, check_modules), called here in the order their problems
are shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from homelab.catalog import Catalog
from homelab.errors import Place, Problem, format_path
from homelab.optionindex.check import Checked
from homelab.optionindex.model import OptionIndex
from homelab.profile.check_boot import boot_problems
from homelab.profile.check_extra_config import extra_config_problems
from homelab.profile.check_files import file_problems, hardware_file_problems
from homelab.profile.check_health import health_check_problems
from homelab.profile.check_modules import input_problems, module_problems
from homelab.profile.check_options import option_problems
from homelab.profile.check_services import service_problems
from homelab.profile.check_users import host_key_problems, user_problems
from homelab.profile.schema import as_map as _map
from homelab.profile.schema import (
    profile_schema,
    profile_validator,
    schema_errors,
    schema_problems,
)
from homelab.yamlfile import Document, Path_

HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def _strings(value: Any, path: Path_) -> Iterator[tuple[Path_, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield (*path, k), k
            yield from _strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*path, i))


_INT_RANGE = (-(2**63), 2**63 - 1)


def _numbers(value: Any, path: Path_) -> Iterator[tuple[Path_, int | float]]:
    """Numbers Nix cannot hold: beyond 64-bit integers, infinities and NaN (.inf, .nan)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(v, str | bool):
                yield from _numbers(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if not isinstance(v, str | bool):
                yield from _numbers(v, (*path, i))
    elif isinstance(value, int) and not isinstance(value, bool):
        if not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
            yield path, value
    elif isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        yield path, value


def validate(
    doc: Document,
    folder: str,
    catalog: Catalog,
    exists: Callable[[str], bool],
    real_path: Callable[[str], str | None] = lambda rel: rel,
    read: Callable[[str], str | None] = lambda rel: None,
    inputs: Iterable[str] | None = None,
    index: OptionIndex | None = None,
    tally: Checked | None = None,
) -> list[Problem]:
    """Every problem of one host's merged profile. `folder` is the host's folder name;
    `exists(lab-relative path)` says whether a file is there, `real_path(lab-relative
    path)` where it really is with links followed (None: outside the lab), `read` its
    text (None: it cannot be read). `inputs`: the flake inputs of lab.yaml, None for a
    lab without one (its hand-kept flake.nix is not read). `index`: the lab's option
    index, None when it has none (option paths and values are then not checked); `tally`
    counts the values it checked and those it could not."""
    top = Place(doc.file)
    data = doc.data
    if not isinstance(data, dict):
        return [
            Problem(
                doc.marks.value((), top),
                "a profile must be a map of sections",
                hint="start with `host:` and its keys",
            )
        ]
    problems: list[Problem] = []
    root = profile_schema()
    for err in schema_errors(profile_validator(), data):
        problems.extend(schema_problems(err, doc, data, root))

    problems.extend(_nul_problems(doc, data))
    problems.extend(_number_problems(doc, data))

    host = _map(data.get("host"))
    if "name" not in host and not HOSTNAME.fullmatch(folder):
        problems.append(
            Problem(
                top,
                f"the folder name '{folder}' is not a valid host name",
                hint="rename the folder, or set host.name",
            )
        )

    problems.extend(user_problems(doc, data, catalog))
    problems.extend(host_key_problems(doc, data))
    problems.extend(service_problems(doc, _map(data.get("services")), catalog, data))
    problems.extend(health_check_problems(doc, data, catalog))
    problems.extend(hardware_file_problems(doc, data, folder, exists, real_path))
    problems.extend(boot_problems(doc, data))
    problems.extend(file_problems(doc, folder, exists, real_path))
    problems.extend(extra_config_problems(doc, data, index, tally))
    problems.extend(option_problems(doc, folder, real_path, index, tally))
    problems.extend(module_problems(doc, folder, exists, read, real_path))
    if inputs is not None:
        problems.extend(input_problems(doc, inputs))
    return problems


def _nul_problems(doc: Document, data: dict[str, Any]) -> list[Problem]:
    """Text anywhere in the profile, keys too, that holds a NUL character."""
    problems: list[Problem] = []
    top = Place(doc.file)

    def at(path: Path_) -> Place:
        return doc.marks.value(path, top)

    # repr() writes a NUL as \x00: one quick look at the whole document before the walk
    nul_possible = doc.marks.nul_possible and "\\x00" in repr(data)
    for path, text in _strings(data, ()) if nul_possible else ():
        if "\x00" in text:
            problems.append(
                Problem(
                    at(path),
                    "text contains a NUL character, which Nix cannot hold",
                    path=format_path(path),
                    hint="remove the \\0 escape",
                )
            )
    return problems


def _number_problems(doc: Document, data: dict[str, Any]) -> list[Problem]:
    """Numbers anywhere in the profile that Nix cannot hold."""
    problems: list[Problem] = []
    top = Place(doc.file)

    def at(path: Path_) -> Place:
        return doc.marks.value(path, top)

    for path, number in _numbers(data, ()) if doc.marks.wide_possible else ():
        problems.append(
            Problem(
                at(path),
                f"{number} cannot be held by Nix, whose numbers are 64-bit",
                path=format_path(path),
                hint="put it in quotes to pass it on as text",
            )
        )
    return problems
