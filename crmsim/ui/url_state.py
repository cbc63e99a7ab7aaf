"""State that survives a reload: "sticky" query parameters, and a short token for a plan.

A Streamlit session lives in the server's memory: a reload, a shared link or a phone that
reconnects after a while starts a new, empty session, and only the address is left. So every
choice another page depends on is also written to the address as a sticky parameter:

- ``register(name, restore, order)`` makes ``?name=`` sticky (once per process, at import);
- ``put(name, value)`` records a new value (``None`` removes it): it goes into the address at
  once and into every in-app page link drawn from then on (``carried()``);
- ``restore_once()`` (called by ``navigation.bootstrap`` before a page draws anything) hands
  each sticky parameter found in the address of a *new* session to its ``restore`` function,
  in ``order``; an existing session keeps what it has and the address is rewritten from it,
  so an older link's parameters never override what the user did since.

A sticky value lives in the session (``st.session_state["_sticky"]``), not only in the URL,
because a page link carries the parameters it was drawn with and Streamlit replaces the
address with them on a page change; ``bootstrap`` writes the session's values back each run.

Example (the classroom keeps a team's seat)::

    url_state.register("room", restore=lambda code: ..., order=30)
    url_state.put("room", code)        # after joining
    url_state.put("room", None)        # after leaving

``restore`` functions must not draw anything (they run before the page config); a value they
cannot use is dropped with ``report_problem`` and the page shows why. Values are plain
strings; ``encode_token`` / ``decode_token`` turn a JSON-able object into a short URL-safe
token and back (zlib + base64url, size-capped both ways).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from crmsim.reading import loads_json

MAX_TOKEN_CHARS = 4000  # a link longer than this is not a link anyone shares
MAX_TOKEN_BYTES = 64 * 1024  # what a token may inflate to


@dataclass(frozen=True)
class Sticky:
    name: str
    restore: Callable[[str], None] | None
    order: int


_REGISTRY: dict[str, Sticky] = {}


def register(name: str, restore: Callable[[str], None] | None = None, order: int = 50) -> None:
    """Make the query parameter ``name`` sticky; ``restore(value)`` rebuilds the session's
    state from it in a new session (lower ``order`` first: the case before the plan on it)."""
    _REGISTRY[name] = Sticky(name, restore, order)


def registered() -> list[str]:
    """The sticky parameters, in restore order."""
    return [s.name for s in sorted(_REGISTRY.values(), key=lambda s: s.order)]


def _values() -> dict[str, str]:
    return st.session_state.setdefault("_sticky", {})


def get(name: str) -> str | None:
    """The sticky value this session holds."""
    return _values().get(name)


def put(name: str, value: str | None) -> None:
    """Record a sticky value (``None`` removes it) in the session and the address."""
    values = _values()
    if value is None:
        if values.pop(name, None) is not None or name in st.query_params:
            st.query_params.pop(name, None)
    elif values.get(name) != value or st.query_params.get(name) != value:
        values[name] = value
        st.query_params[name] = value
    _redraw_links()


def carried() -> dict[str, str]:
    """The parameters an in-app page link carries: the language and every sticky value."""
    out = {"lang": st.session_state.get("lang", "zh")}
    values = _values()
    out.update({name: values[name] for name in registered() if name in values})
    return out


def restore_once() -> None:
    """In a new session, rebuild its state from the sticky parameters in the address; in any
    session, write its sticky values back into the address."""
    if not st.session_state.get("_sticky_restored"):
        st.session_state["_sticky_restored"] = True
        for name in registered():
            raw = st.query_params.get(name)
            if not raw:
                continue
            _values()[name] = raw
            spec = _REGISTRY[name]
            if spec.restore is not None:
                spec.restore(raw)
    for name, value in list(_values().items()):
        if name in _REGISTRY and st.query_params.get(name) != value:
            st.query_params[name] = value
    for name in registered():  # a stale link's value the session does not hold
        if name not in _values() and name in st.query_params:
            st.query_params.pop(name, None)


def report_problem(key: str) -> None:
    """Remember that a link's saved state could not be used (an ``url.<key>`` message, shown
    by the next page drawn)."""
    st.session_state.setdefault("_sticky_problems", []).append(key)


def problems() -> list[str]:
    """Message keys of the link problems not yet shown (each shown once)."""
    return st.session_state.pop("_sticky_problems", [])


# -- page links drawn with the values of the moment -----------------------------------------
def set_link_drawer(draw: Callable[[], None]) -> None:
    """Keep the function that draws this run's page links, to draw them again when a sticky
    value changes later in the run (a link drawn earlier would carry the old value)."""
    st.session_state["_sticky_links"] = draw


def _redraw_links() -> None:
    draw = st.session_state.get("_sticky_links")
    if draw is not None:
        draw()


# -- tokens ----------------------------------------------------------------------------------
def encode_token(obj: object) -> str:
    """A JSON-able object as a short URL-safe token."""
    raw = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii").rstrip("=")


def decode_token(token: str) -> object | None:
    """The object in a token, or ``None`` if it is not one of ours (too long, damaged,
    inflating past the cap, not JSON)."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        packed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_TOKEN_BYTES)
        if inflater.unconsumed_tail or not inflater.eof:
            return None
        return loads_json(raw.decode("utf-8"))  # depth, number length, duplicates refused
    except (binascii.Error, ValueError, zlib.error, UnicodeDecodeError):  # InputError too
        return None
