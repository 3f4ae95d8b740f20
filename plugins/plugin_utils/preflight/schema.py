# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A strict argument-spec walker that names the exact path of every failure.

Ansible's own validator reports nested errors without list indexes
("found in models"); operators need ``models[2].price.input_per_token``.
It is also stricter on purpose: a bool must be a real bool (``-e flag=false``
is a string and would be truthy), and a number must not be a string.
"""

from __future__ import annotations

import difflib

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
    """Validate values against argument-spec ``options``, reporting through ``err``."""

    def __init__(self, err):
        self.err = err

    def validate(self, options, values, prefix=""):
        for name, spec in options.items():
            path = prefix + name
            if name not in values or values[name] is None:
                if spec.get("required"):
                    self.err(path, None, "required: " + _describe(spec))
                continue
            self._value(path, spec, values[name])
        if prefix:
            self._unknown(options, values, prefix)

    def _unknown(self, options, values, prefix):
        for key in values:
            if key in options:
                continue
            close = difflib.get_close_matches(str(key), list(options), n=1)
            hint = " (did you mean %r?)" % close[0] if close else ""
            self.err(prefix + str(key), values[key], "one of the keys %s%s" % (sorted(options), hint))

    def _value(self, path, spec, value):
        kind = spec.get("type", "str")
        if not _type_ok(kind, value):
            self.err(path, value, _describe(spec))
            return
        if "choices" in spec and kind != "list" and value not in spec["choices"]:
            self.err(path, value, "one of %s" % ", ".join(map(str, spec["choices"])))
            return
        if kind == "dict" and spec.get("options"):
            self.validate(spec["options"], value, path + ".")
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
            item_path = "%s[%d]" % (path, index)
            if not _type_ok(elements, item):
                self.err(item_path, item, _describe(element_spec))
            elif "choices" in spec and item not in spec["choices"]:
                self.err(item_path, item, "one of %s" % ", ".join(map(str, spec["choices"])))
            elif elements == "dict" and spec.get("options"):
                self.validate(spec["options"], item, item_path + ".")


def _describe(spec):
    kind = spec.get("type", "str")
    text = _TYPES.get(kind, kind)
    if kind == "list" and spec.get("elements"):
        text += " of " + _TYPES.get(spec["elements"], spec["elements"]).replace("a ", "", 1) + "s"
    if spec.get("choices"):
        text += " (one of %s)" % ", ".join(map(str, spec["choices"]))
    return text
