# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keeping secret values out of preflight messages (PRIVATE to this collection).

A value is secret when its option is ``no_log`` in an argument spec, or when its name says
so (a key, token, password, secret or credential). Credentials inside URLs are masked too.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

HIDDEN = "<hidden: secret value>"
# Named like a secret: ends in key/token/secret/credential(s) (but not a price per token),
# or mentions a password or a kind of key.
_SECRET_SUFFIX = re.compile(r"(?:^|_)(?:key|token|secret|credentials?|pat)$")
_NOT_SECRET = re.compile(r"per_token$")
_SECRET_WORD = re.compile(r"password|passwd|private_key|api_key|master_key|salt_key|secret_key|access_key|bearer", re.I)
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/?#@\s]*)@")
_QUERY_SECRET = re.compile(r"(?P<name>[?&](?:[a-z_]*token|[a-z_]*key|password|secret|sig|signature|auth)=)(?P<value>[^&#\s]+)", re.I)


def is_secret_name(name, no_log_names=()):
    """True for an option whose value must never be shown."""
    name = str(name)
    if name in no_log_names:
        return True
    if name == "keys":  # tenants[].keys is the list of key specs, not key values
        return False
    if _NOT_SECRET.search(name):
        return False
    return bool(_SECRET_SUFFIX.search(name) or _SECRET_WORD.search(name))


def leaf_name(keys):
    """The last named key of a path (list indexes skipped)."""
    for key in reversed(tuple(keys)):
        if isinstance(key, str):
            return key
    return ""


def url_credentials(value):
    """(user, password) of the userinfo of a URL string, or None when it has none."""
    if not isinstance(value, str):
        return None
    match = _USERINFO.match(value.strip())
    if not match:
        return None
    user, _sep, password = match.group("userinfo").partition(":")
    return user, password


def mask_url(text):
    """``text`` with the userinfo of URLs and secret-named query parameters masked."""

    def userinfo(match):
        return match.group("scheme") + "***@"

    text = _USERINFO.sub(userinfo, text)
    return _QUERY_SECRET.sub(lambda m: m.group("name") + "***", text)


def redact(value, keys=(), no_log_names=()):
    """A copy of ``value`` safe to print for the option at path ``keys``."""
    if is_secret_name(leaf_name(keys), no_log_names):
        return HIDDEN if value not in (None, "") else value
    if isinstance(value, str):
        return mask_url(value) if "://" in value or "?" in value else value
    if isinstance(value, dict):
        return {k: redact(v, (*tuple(keys), str(k)), no_log_names) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, (*tuple(keys), i), no_log_names) for i, v in enumerate(value)]
    return value


def secret_values(values, no_log_names=(), keys=()):
    """Every string (4+ characters) held by a secret option or inside a URL's userinfo."""
    found = set()
    if isinstance(values, dict):
        for k, v in values.items():
            sub = (*tuple(keys), str(k))
            if is_secret_name(k, no_log_names) and isinstance(v, str) and len(v) >= 4:
                found.add(v)
            found |= secret_values(v, no_log_names, sub)
    elif isinstance(values, (list, tuple)):
        for i, v in enumerate(values):
            found |= secret_values(v, no_log_names, (*tuple(keys), i))
    elif isinstance(values, str):
        creds = url_credentials(values)
        if creds:
            found |= {part for part in creds if len(part) >= 4}
        for match in _QUERY_SECRET.finditer(values):
            if len(match.group("value")) >= 4:
                found.add(match.group("value"))
    return found


def scrub(text, secrets):
    """``text`` with every known secret value replaced."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def host_of(url):
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
