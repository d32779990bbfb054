"""Form fields that fit their values, made from a JSON Schema: one module per kind
(text, number, toggle, select, list, yaml, secret), the base they share, and the form that
builds and fills them (with groups and maps of entries, which hold fields of every kind).
"""

from homelab.tui.messages import FieldEdited
from homelab.tui.widgets.fields.base import Field, inherited_hint, same, under
from homelab.tui.widgets.fields.form import (
    FIELD_TYPES,
    Group,
    MapField,
    Spec,
    build,
    claimant,
    fill,
    lookup,
    show_problems,
)
from homelab.tui.widgets.fields.list import ItemList, ListField
from homelab.tui.widgets.fields.number import NumberField
from homelab.tui.widgets.fields.secret import SecretField
from homelab.tui.widgets.fields.select import ChoiceField
from homelab.tui.widgets.fields.text import TextField
from homelab.tui.widgets.fields.toggle import BoolField
from homelab.tui.widgets.fields.yaml import YamlField, as_yaml, yaml_error

__all__ = [
    "FIELD_TYPES",
    "BoolField",
    "ChoiceField",
    "Field",
    "FieldEdited",
    "Group",
    "ItemList",
    "ListField",
    "MapField",
    "NumberField",
    "SecretField",
    "Spec",
    "TextField",
    "YamlField",
    "as_yaml",
    "build",
    "claimant",
    "fill",
    "inherited_hint",
    "lookup",
    "same",
    "show_problems",
    "under",
    "yaml_error",
]
