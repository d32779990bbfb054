"""What a JSON-Schema pattern means in homelab: ECMA-262, as jsonschema-rs reads it.

The schemas are written for editors, whose regexes (ECMA-262, as JSON Schema says) read
`^[a-z]+$` as the whole value: `$` is the end of the text, so "foo\\n" does not pass and
its newline never goes into the Nix. Every check homelab makes with a schema (the yes/no,
the explained errors, the catalogue's settings) runs on jsonschema-rs, which reads patterns
that way; so does `matches`, for code that checks one pattern on its own. Python's `re`
reads them otherwise (`$` also before a final line break, `\\d` a digit of any script, `.`
a carriage return), so no schema pattern is ever given to it: the two could disagree.
"""

from __future__ import annotations

from functools import cache

import jsonschema_rs


@cache
def _pattern(pattern: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.Draft202012Validator({"type": "string", "pattern": pattern}, offline=True)


def matches(pattern: str, value: str) -> bool:
    """Whether a schema with this pattern takes the value (jsonschema_rs.ValidationError
    when the pattern is not an ECMA-262 regex)."""
    return _pattern(pattern).is_valid(value)
