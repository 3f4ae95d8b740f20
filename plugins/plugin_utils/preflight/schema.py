# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A strict argument-spec walker that names the exact path of every failure.

Ansible's own validator reports nested errors without list indexes
("found in models"); operators need ``models[2].price.input_per_token``.
It is also stricter on purpose: a bool must be a real bool (``-e flag=false``
is a string and would be truthy), a number must not be a string, and a required
string must not be empty (an empty string would satisfy "required" and fail later).
A mistyped key is reported once, as the unknown key with the key it was meant to be,
not again as the missing required key.
"""

from __future__ import annotations

import difflib

from .view import P

# Rule ids reported by this validator (documented under rules: in config_model.yml).
SCHEMA_RULES = ("schema.type", "schema.choices", "schema.required", "schema.unknown_key")

_TYPES = {
    "str": "a string",
    "path": "a path (string)",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean (true/false, unquoted)",
    "list": "a list",
    "dict": "a mapping",
    "raw": "any value",
}


def _type_ok(kind, value):
    if kind in ("str", "path"):
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, (list, tuple))
    if kind == "dict":
        return isinstance(value, dict)
    return True


class SpecValidator:
    """Validate values against argument-spec ``options``, reporting through
    ``err(path, value, allowed, rule)``; ``path`` is a :class:`~.view.P`."""

    def __init__(self, err, mark=None):
        self.err = err
        self.mark = mark or (lambda _path: None)

    def validate(self, options, values, prefix=None):
        nested = prefix is not None
        prefix = prefix if nested else P()
        meant = self._unknown(options, values, prefix) if nested else set()
        for name, spec in options.items():
            path = prefix(name)
            if name not in values or values[name] is None:
                if spec.get("required") and name not in meant:
                    self.err(path, None, "required: " + _describe(spec), "schema.required")
                elif name in meant:
                    self.mark(path)  # reported as the mistyped key; unknown to the rules
                continue
            self._value(path, spec, values[name])

    def _unknown(self, options, values, prefix):
        """Report unknown keys; return the option names they were probably meant to be."""
        meant = set()
        for key in values:
            if key in options:
                continue
            close = difflib.get_close_matches(str(key), list(options), n=1)
            hint = " (did you mean %r?)" % close[0] if close else ""
            if close and close[0] not in values:
                meant.add(close[0])
            self.err(prefix(str(key)), values[key], "one of the keys %s%s" % (sorted(options), hint), "schema.unknown_key")
        return meant

    def _value(self, path, spec, value):
        kind = spec.get("type", "str")
        if not _type_ok(kind, value):
            self.err(path, value, _describe(spec), "schema.type")
            return
        if spec.get("required") and kind in ("str", "path") and not value.strip():
            self.err(path, value, "a non-empty string (required: an empty one would pass here and fail later)", "schema.required")
            return
        if "choices" in spec and kind != "list" and value not in spec["choices"]:
            self.err(path, value, "one of %s" % ", ".join(map(str, spec["choices"])), "schema.choices")
            return
        if kind == "dict" and spec.get("options"):
            self.validate(spec["options"], value, path)
        elif kind == "list":
            self._elements(path, spec, value)

    def _elements(self, path, spec, value):
        elements = spec.get("elements")
        if not elements:
            return
        element_spec = {"type": elements}
        if "choices" in spec:
            element_spec["choices"] = spec["choices"]
        for index, item in enumerate(value):
            item_path = path(index)
            if not _type_ok(elements, item):
                self.err(item_path, item, _describe(element_spec), "schema.type")
            elif "choices" in spec and item not in spec["choices"]:
                self.err(item_path, item, "one of %s" % ", ".join(map(str, spec["choices"])), "schema.choices")
            elif elements == "dict" and spec.get("options"):
                self.validate(spec["options"], item, item_path)


def _describe(spec):
    kind = spec.get("type", "str")
    text = _TYPES.get(kind, kind)
    if kind == "list" and spec.get("elements"):
        text += " of " + _TYPES.get(spec["elements"], spec["elements"]).replace("a ", "", 1) + "s"
    if spec.get("choices"):
        text += " (one of %s)" % ", ".join(map(str, spec["choices"]))
    return text
