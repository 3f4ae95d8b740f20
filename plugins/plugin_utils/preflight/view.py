# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The config as rules see it (PRIVATE to this collection).

Every value a check has already reported is replaced by :data:`INVALID` in a copy of the
config. Any use of it that could lead to a conclusion (comparison, truth test, arithmetic,
hashing, iteration) raises :class:`Unknown`, and the engine skips the rule, or just the item,
that touched it. So a rule never reports a consequence of a problem already named, and
never silently computes with a hole either (a sum over pools with one bad pool is unknown,
not smaller). A later normalising step (defaults filled in) belongs in :func:`normalise`.
"""

from __future__ import annotations

import contextlib
import copy
import re


class Unknown(Exception):
    """A rule touched a value that is already reported as wrong."""


def _unknown(*_args, **_kwargs):
    raise Unknown()


class _Invalid:
    """Stands for a value that failed an earlier check."""

    __slots__ = ()
    __bool__ = __len__ = __iter__ = __contains__ = __getitem__ = __hash__ = _unknown
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _unknown
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _unknown
    __int__ = __float__ = __index__ = _unknown
    get = keys = items = values = startswith = endswith = split = lower = _unknown

    def __repr__(self):
        return "<invalid>"

    def __copy__(self):
        return self

    def __deepcopy__(self, _memo):
        return self


INVALID = _Invalid()
skip_unknown = contextlib.suppress(Unknown)


def known(*values):
    """True when none of ``values`` is :data:`INVALID`."""
    return not any(v is INVALID for v in values)


class P(str):
    """A variable path that remembers its keys: P('tenants', 0, 'budget') == 'tenants[0].budget'."""

    keys: tuple

    def __new__(cls, *keys):
        text = ""
        for key in keys:
            text += "[%d]" % key if isinstance(key, int) else ("." if text else "") + str(key)
        obj = super().__new__(cls, text)
        obj.keys = tuple(keys)
        return obj

    def __call__(self, *keys):
        return P(*self.keys, *keys)


_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def parse_path(path):
    """The keys of a path string (best effort: dict keys containing dots are not recovered)."""
    if isinstance(path, P):
        return path.keys
    return tuple(int(i) if i else name for i, name in _TOKEN.findall(str(path)))


class Config:
    """The typed view of the config handed to every rule.

    ``get`` returns the value (or ``default`` when unset; :data:`INVALID` when reported),
    ``items`` the dict items of a list variable with their paths, leaving out the ones that
    are reported; ``all_items`` raises :class:`Unknown` when any item is reported, for rules
    that aggregate over a whole list. ``context`` carries facts from outside the variables
    (inventory hosts, the controller's files), given by the caller.
    """

    def __init__(self, values, context=None):
        self.values = values
        self.context = context or {}

    def __contains__(self, name):
        return name in self.values and self.values[name] is not None

    def get(self, name, default=None):
        value = self.values.get(name)
        return default if value is None else value

    def items(self, name):
        seq = self.get(name)
        if not isinstance(seq, list):
            return []
        return [(P(name, i), item) for i, item in enumerate(seq) if isinstance(item, dict)]

    def all_items(self, name):
        seq = self.get(name)
        if seq is INVALID or (isinstance(seq, list) and any(item is INVALID for item in seq)):
            raise Unknown()
        return self.items(name)

    def mark(self, path):
        """Make the value at ``path`` INVALID for the rules that run after."""
        keys = parse_path(path)
        if not keys:
            return
        node = self.values
        for key in keys[:-1]:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError, Unknown):
                return
            if node is INVALID:
                return
        last = keys[-1]
        if isinstance(node, dict) or (isinstance(node, list) and isinstance(last, int) and last < len(node)):
            node[last] = INVALID


def normalise(cfg, context=None):
    """The view rules check: a deep copy of the variables. Filling in defaults (so every rule
    sees one complete config) is meant to happen here; today unset variables read as unset."""
    return Config(copy.deepcopy(dict(cfg)), context)
