"""Entries of `options:` written as YAML, tags (`!pkg`, `!nix`, `!force`, `!default`) as
profiles write them."""

from __future__ import annotations

from typing import Any

import yaml

from homelab.profile.options import tag_of
from homelab.yamlfile import TAGS

__all__ = ["dump"]


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order given, tags as written in profiles."""

    def choose_scalar_style(self) -> str:
        style: str = super().choose_scalar_style()
        event, analysis = self.event, self.analysis
        # PyYAML quotes every scalar with a tag of its own; `!pkg htop` needs no quotes
        if (
            style in ("'", '"')
            and isinstance(event, yaml.ScalarEvent)
            and analysis is not None
            and not event.style
            and event.tag in TAGS
            and not analysis.multiline
            and not analysis.empty
            and (analysis.allow_flow_plain if self.flow_level else analysis.allow_block_plain)
        ):
            return ""
        return style


def _represent_str(dumper: _Dumper, text: str, tag: str = "tag:yaml.org,2002:str") -> Any:
    style = "|" if "\n" in text else None
    if style is None and tag.startswith("!") and tag not in ("!pkg", "!nix"):
        style = '"'  # `!force "true"` stays text; plain, the tag's value would be a bool
    return dumper.represent_scalar(tag, text, style=style)


def _represent_dict(dumper: _Dumper, data: dict[str, Any]) -> Any:
    tag = tag_of(data)
    if tag is None:
        return dumper.represent_mapping("tag:yaml.org,2002:map", data.items())
    inner = data[tag]
    if isinstance(inner, str):
        return _represent_str(dumper, inner, tag)
    if isinstance(inner, dict):
        return dumper.represent_mapping(tag, inner.items())
    if isinstance(inner, list):
        return dumper.represent_sequence(tag, inner, flow_style=_short(inner))
    node = dumper.represent_data(inner)
    return yaml.ScalarNode(tag, node.value, style=None)


def _short(items: list[Any]) -> bool:
    """Short lists of scalars on one line: `[!pkg htop, !pkg git]`."""
    scalar = all(not isinstance(i, (dict, list)) or _tagged_text(i) for i in items)
    return scalar and len(repr(items)) < 80 and not any("\n" in repr(i) for i in items)


def _tagged_text(value: Any) -> bool:
    tag = tag_of(value)
    return tag is not None and isinstance(value[tag], str)


def _represent_list(dumper: _Dumper, data: list[Any]) -> Any:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=_short(data))


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)


def dump(key: str, value: Any) -> str:
    """`key: value` as one entry under `options:` (indented two spaces), tags as
    written in profiles."""
    text = yaml.dump(
        {key: value},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=1000,
        default_flow_style=False,
    )
    lines = text.splitlines()
    if lines and lines[-1] == "...":  # (after a `|+` text: the end of a document)
        lines.pop()
    return "".join("  " + line + "\n" for line in lines)
