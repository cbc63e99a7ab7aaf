"""Bots that play a classroom through the running app, as oTree's bots play its games.

A ``Tab`` is one browser tab spoken to over Streamlit's own websocket protocol, exactly as
the browser's frontend does: it asks for a page run with the address's query string, keeps
the elements the server sends, types into widgets by their key, clicks buttons (inside
fragments too), edits the plan grid, follows the address the app writes (so navigating and
reloading keep the seat), and reruns every fragment the app asks to be rerun on a timer
(``auto_rerun``) — which is how a reveal reaches a tab that nobody reloads. No browser is
drawn, so 40–60 of them fit on the server's own two cores.

``team_bot`` and ``instructor_bot`` play a whole game: teams join, open the Service plan
page, edit their grid, submit from there, reload in the middle of the round and get their
seat back; the instructor opens the room from the console, watches, reveals (anyway, when a
team is missing), advances and prepares the debrief. Used by ``tests/classroom/test_bots.py``
(a small class in CI, on SQLite and PostgreSQL, and across two app processes behind nginx)
and by ``benchmarks/bench_classroom.py`` (40–60 bots, timed).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.state.common import user_key_from_element_id

WIDGETS = {
    "button": "trigger_value",
    "download_button": "trigger_value",
    "text_input": "string_value",
    "text_area": "string_value",
    "number_input": "double_value",
    "selectbox": "string_value",
    "dataframe": "string_value",  # a data editor's edits, as JSON
    "radio": "int_value",
    "checkbox": "bool_value",
    "toggle": "bool_value",
    "tabs": "string_value",  # tabs that rerun: the open tab's label
}
TEXTS = ("markdown", "alert", "code", "metric", "heading", "text", "exception")
FINISHED = ForwardMsg.ScriptFinishedStatus


@dataclass
class Element:
    kind: str
    proto: object
    fragment: str
    stamp: int

    @property
    def key(self) -> str | None:
        wid = getattr(self.proto, "id", "")
        return user_key_from_element_id(wid) if wid else None

    def text(self) -> str:
        p = self.proto
        if self.kind == "exception":
            return f"EXCEPTION: {self.proto.type} {self.proto.message}"
        for name in ("body", "code_text", "label", "value"):
            if hasattr(p, name) and getattr(p, name):
                return str(getattr(p, name))
        return ""


@dataclass
class Tab:
    """One browser tab on a running CRM Lab server (see the module's docstring)."""

    url: str
    page: str
    query: str
    headers: dict = field(default_factory=dict)
    elements: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)  # widget id -> WidgetState the bot has set
    opened_in: float = 0.0  # seconds from connecting to the first page drawn
    runs: int = 0
    trace: list = field(default_factory=list)  # the last messages, to say what went wrong

    # -- connection --------------------------------------------------------------------
    @classmethod
    async def open(cls, url: str, page: str, query: str, headers: dict | None = None) -> Tab:
        """Connect (``url`` like ``ws://127.0.0.1:8501``) and draw ``page`` with ``query``."""
        tab = cls(url, page, query, dict(headers or {}))
        await tab._connect()
        return tab

    async def _connect(self) -> None:
        from websockets.asyncio.client import connect

        start = time.perf_counter()
        self.ws = await connect(
            f"{self.url}/_stcore/stream",
            subprotocols=["streamlit"],
            max_size=None,
            open_timeout=120,
            additional_headers=self.headers,
        )
        self.elements, self._stamp, self._page_hash = {}, 0, ""
        self._pages: dict[str, str] = {}
        self._deltas = 0
        self._running, self._running_page, self._last_event = False, "", 0.0
        self._finished = asyncio.Queue()
        self._tickers: dict[str, asyncio.Task] = {}
        self._busy = asyncio.Lock()
        self._reader = asyncio.create_task(self._read())
        await self._run()
        self.opened_in = time.perf_counter() - start

    async def close(self) -> None:
        for task in self._tickers.values():
            task.cancel()
        self._tickers.clear()
        self._reader.cancel()
        await self.ws.close()

    async def reload(self) -> float:
        """Close the tab and open its address again (a new session); returns seconds."""
        await self.close()
        await self._connect()
        return self.opened_in

    # -- messages ----------------------------------------------------------------------
    async def _read(self) -> None:
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await self.ws.recv())
            kind = msg.WhichOneof("type")
            if kind in ("new_session", "script_finished"):
                frag = [f[:6] for f in msg.metadata.run.fragment_ids]
                self._note(kind, frag, msg.script_finished, f"deltas={self._deltas}")
                self._deltas = 0
            if kind == "new_session":
                self._stamp += 1
                self._last_event = time.perf_counter()
                if not msg.metadata.run.fragment_ids:  # a full run: its fragments re-register
                    self._tickers.clear()
            elif kind == "navigation":  # which page this run draws
                nav = msg.navigation
                self._pages.update({p.page_script_hash: p.url_pathname for p in nav.app_pages})
                self._running_page = self._pages.get(nav.page_script_hash, "")
                self._note("page", nav.page_script_hash[:8], self._running_page)
            elif kind == "session_status_changed":
                self._running = msg.session_status_changed.script_is_running
                self._last_event = time.perf_counter()
            elif kind == "delta":
                self._delta(msg)
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "auto_rerun":
                self._tick(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
            elif kind == "stop_auto_rerun":
                for fid in msg.stop_auto_rerun.fragment_ids:
                    self._tickers.pop(fid, None)
            elif kind == "script_finished":
                self._finish(msg)

    def _delta(self, msg) -> None:
        self._deltas += 1
        if msg.metadata.active_script_hash:  # the page running, as the browser remembers it
            self._page_hash = msg.metadata.active_script_hash
        path = tuple(msg.metadata.delta_path)
        delta = msg.delta
        if delta.WhichOneof("type") == "add_block" and delta.add_block.HasField("tab_container"):
            tabs = delta.add_block.tab_container
            self.elements[path] = Element("tabs", tabs, delta.fragment_id, self._stamp)
            return
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        self.elements[path] = Element(kind, getattr(el, kind), delta.fragment_id, self._stamp)

    def _finish(self, msg) -> None:
        status = msg.script_finished
        self._last_event = time.perf_counter()
        if status == FINISHED.FINISHED_EARLY_FOR_RERUN:
            return
        fragments = set(msg.metadata.run.fragment_ids)
        stale = [
            p
            for p, e in self.elements.items()
            if e.stamp < self._stamp and (not fragments or e.fragment in fragments)
        ]
        for p in stale:
            del self.elements[p]
        self.runs += 1
        self._finished.put_nowait((status, self._running_page, time.perf_counter()))

    def _tick(self, fragment: str, interval: float) -> None:
        """Rerun a fragment every ``interval`` seconds, as the frontend does, for as long as
        the page keeps it (a full run that no longer draws it stops it). Like the browser's
        ``setInterval``, the polls keep the rhythm the fragment was registered with: a poll
        that had to wait for the tab's own run goes out late, the next one on time again.
        (Polls that each wait ``interval`` after the last one ended fall into step on a busy
        server: all 60 tabs then poll at the same instant, unlike a class's browsers.)"""
        if fragment in self._tickers:
            return

        async def tick():
            due = time.perf_counter() + interval
            while True:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                async with self._busy:  # waits while the tab's own run goes on
                    if self._tickers.get(fragment) is not task:
                        return
                    await self._request(fragment=fragment, auto=True)
                due += interval
                while due + interval <= time.perf_counter():  # ticks missed meanwhile: one
                    due += interval

        task = asyncio.create_task(tick())
        self._tickers[fragment] = task

    async def _request(self, fragment: str = "", auto: bool = False, trigger: str = "") -> float:
        """Send a rerun and wait for it (and any rerun it starts) to end; returns the moment
        the run asked for ended."""
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query
        if self._page_hash:
            rerun.page_script_hash = self._page_hash
        else:
            rerun.page_name = self.page
        rerun.fragment_id = fragment
        rerun.is_auto_rerun = auto
        rerun.widget_states.widgets.extend(self.states.values())
        if trigger:
            pressed = WidgetState(id=trigger, trigger_value=True)
            rerun.widget_states.widgets.append(pressed)
        await self._settle()  # whatever ran before has ended
        while not self._finished.empty():
            self._finished.get_nowait()
        self._note("send", fragment[:6], trigger[-30:], self.page, auto)
        await self.ws.send(msg.SerializeToString())
        while True:
            try:
                status, _ran, at = await asyncio.wait_for(self._finished.get(), timeout=120)
            except TimeoutError:
                raise TimeoutError(f"no end of the run asked for:\n{self.trace_text()}") from None
            if status == FINISHED.FINISHED_SUCCESSFULLY:
                break  # a full run (asked for, or one a fragment's st.rerun started)
            if fragment and status == FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                break
        await self._settle()
        return at

    def _note(self, *what) -> None:
        self.trace.append((round(time.perf_counter(), 2), *what))
        del self.trace[:-40]

    def trace_text(self) -> str:
        return "\n".join(" ".join(map(str, line)) for line in self.trace)

    async def _settle(self, quiet: float = 0.15) -> None:
        """Wait until the session has been idle for ``quiet`` seconds (a run that ends with
        ``st.rerun`` starts another one a moment later)."""
        while self._running or time.perf_counter() - self._last_event < quiet:
            await asyncio.sleep(0.03)

    async def _run(self, fragment: str = "", trigger: str = "") -> float:
        start = time.perf_counter()
        async with self._busy:
            end = await self._request(fragment=fragment, trigger=trigger)
        return end - start

    # -- what a person does ------------------------------------------------------------
    def find(self, key: str) -> Element:
        for e in self.elements.values():
            if e.key == key:
                return e
        raise LookupError(
            f"no widget {key!r} on {self.page}: {sorted(self.widget_keys())}\n{self.trace_text()}"
        )

    def has(self, key: str) -> bool:
        return any(e.key == key for e in self.elements.values())

    def widget_keys(self) -> set[str]:
        return {e.key for e in self.elements.values() if e.key}

    def button(self, label: str) -> Element:
        for e in self.elements.values():
            if e.kind in ("button", "download_button") and e.proto.label == label:
                return e
        raise LookupError(f"no button {label!r} on {self.page}")

    def text(self) -> str:
        """Every text the tab shows (markdown, alerts, code, metrics), one per line."""
        return "\n".join(e.text() for e in self.elements.values() if e.kind in TEXTS)

    def put(self, key: str, value) -> None:
        """Type or pick a value (sent with the next run, as the browser sends it)."""
        e = self.find(key)
        attr = WIDGETS[e.kind]
        state = WidgetState(id=e.proto.id)
        if attr == "double_value" and isinstance(value, int):
            attr = "int_value"  # a whole-number input
        setattr(state, attr, value)
        self.states[e.proto.id] = state

    async def type(self, key: str, value: str) -> float:
        """Type into a text input outside a form (the app reruns, as after a browser's blur)."""
        self.put(key, value)
        return await self._run(fragment=self.find(key).fragment)

    async def edit_grid(self, key: str, edits: dict[int, dict[str, float]]) -> float:
        """Edit cells of a data editor (row → column label → value); the app reruns, as
        after a browser's edit."""
        value = {
            "edited_rows": {str(r): cols for r, cols in edits.items()},
            "added_rows": [],
            "deleted_rows": [],
        }
        self.put(key, json.dumps(value))
        return await self._run(fragment=self.find(key).fragment)

    async def click(self, key: str | None = None, label: str | None = None) -> float:
        """Click a button by its key or label; returns the seconds until its run ended."""
        e = self.find(key) if key else self.button(label)
        if getattr(e.proto, "disabled", False):
            raise RuntimeError(f"button {key or label!r} is disabled")
        return await self._run(fragment=e.fragment, trigger=e.proto.id)

    async def go(self, page: str) -> float:
        """Follow an in-app link to ``page`` (it carries the address's sticky state)."""
        self.states = {}
        start = time.perf_counter()
        for _ in range(3):  # a click on a link just as a fragment rerun ends can be lost
            target = next((h for h, name in self._pages.items() if name == page), "")
            self.page, self._page_hash = page, target
            async with self._busy:
                await self._request()
            if self._running_page == page:
                return time.perf_counter() - start
        raise RuntimeError(f"the link to {page} did not open it:\n{self.trace_text()}")

    async def wait_for(self, predicate, timeout: float = 30.0) -> float:
        """Seconds until ``predicate(tab)`` holds on the page as drawn (checked between runs,
        as a person looks at a page that has settled), by the app's own pushes (no reload)."""
        start = time.perf_counter()
        while True:
            await self._settle(quiet=0.05)
            if predicate(self):
                return time.perf_counter() - start
            if time.perf_counter() - start > timeout:
                raise TimeoutError(
                    f"not seen within {timeout} s on {self.page}:\n{self.text()}\n"
                    f"{self.trace_text()}"
                )
            await asyncio.sleep(0.05)
