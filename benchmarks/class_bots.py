"""A class of bots: an instructor and N teams playing one room through the running app.

``play_class`` runs a whole game and returns what happened and how long each step took:

- the instructor opens the Classroom page, picks the Instructor tab, opens a room with the
  create form and reads its code from the page (the passcode only from the one-time box,
  which it then closes);
- every team opens the room's link, joins with a name, goes to the Service plan page, edits
  its grid, submits from there, and (``reload``) reloads the page in the middle of the round,
  which must bring it back to its seat with its plan saved;
- the instructor reveals (anyway, when a team is missing), every team waits for its results
  to appear without reloading, the instructor opens the next round, and teams submit again
  from the Classroom page;
- at the end the instructor prepares the debrief and downloads the workbook.

``routes`` lists websocket bases (``ws://host:port``), each with the headers its browsers
send (a proxy's sticky cookie): teams are spread over them, as several app processes behind a
proxy serve one class.
"""

from __future__ import annotations

import asyncio
import random
import time
import urllib.request
from dataclasses import dataclass, field

from benchmarks.bots import Tab
from crmsim.i18n import t


@dataclass
class Report:
    code: str = ""
    passcode: str = ""
    joined: int = 0
    open_s: list[float] = field(default_factory=list)  # first page drawn, per tab
    submit_s: list[float] = field(default_factory=list)  # click to saved, per submit
    saved: list[str] = field(default_factory=list)  # "team/round" of every "saved" message
    problems: list[str] = field(default_factory=list)  # what a team read instead
    reload_s: list[float] = field(default_factory=list)
    reseated: int = 0  # reloads that came back to the same seat
    reveal_s: dict[int, list[float]] = field(default_factory=dict)  # click to seen, per tab
    reveal_click_s: dict[int, float] = field(default_factory=dict)
    workbook: bytes = field(default=b"", repr=False)


def _code_texts(tab: Tab) -> list[str]:
    return [e.proto.code_text for e in tab.elements.values() if e.kind == "code"]


Route = tuple[str, dict]  # a websocket base (ws://host:port) and the headers a browser sends


async def open_console(
    route: Route | str,
    lang: str,
    rounds: int,
    months: int,
    report: Report,
    customers: int | None = None,
) -> Tab:
    """The instructor opens a room from the console (after setting the population size on
    the home page, when ``customers`` is given); returns the console tab."""
    url, headers = (route, {}) if isinstance(route, str) else route
    if customers:
        tab = await Tab.open(url, "", f"lang={lang}", headers)
        await tab.type("customers", customers)
        await tab.go("classroom")
    else:
        tab = await Tab.open(url, "classroom", f"lang={lang}", headers)
    await tab.type(f"room_tab_{lang}", t("room.instructor", lang))
    tab.put("room_rounds", rounds)
    tab.put("room_months", months)
    await tab.click(label=t("room.create", lang))
    codes = _code_texts(tab)
    link = next(c for c in codes if "admin=" in c)
    report.code = link.split("room=")[1].split("&")[0]
    report.passcode = next(c for c in codes if "?" not in c and c != report.code)
    await tab.click("room_keys_done")
    assert report.passcode not in tab.text(), "the passcode stays on the console"
    return tab


async def _submit_on_plan_page(tab: Tab, lang: str, care: float, name: str, rnd: int, report):
    await tab.go("plan")
    grids = [k for k in tab.widget_keys() if k.startswith("plan_grid_")]
    if not grids:
        raise AssertionError(f"no plan grid on the plan page:\n{tab.text()}")
    grid = grids[0]
    await tab.edit_grid(grid, {0: {t("lever.care", lang): care}})
    report.submit_s.append(await tab.click("room_submit_plan"))
    return _saved(tab, lang, name, rnd, report)


def _saved(tab: Tab, lang: str, name: str, rnd: int, report: Report) -> bool:
    """Whether the page says the plan was saved (else what it says goes into the report)."""
    text = tab.text()
    if t("room.team.not_saved", lang) in text or "EXCEPTION" in text:
        report.problems.append(f"{name}/{rnd}: {text[-600:]}")
        return False
    return True


async def team_bot(
    route: Route,
    lang: str,
    name: str,
    report: Report,
    rounds: int,
    start: asyncio.Event,
    revealed: dict[int, asyncio.Event],
    reload: bool = True,
) -> None:
    """One team's game (see the module's docstring)."""
    url, headers = route
    tab = await Tab.open(url, "classroom", f"lang={lang}&room={report.code}", headers)
    report.open_s.append(tab.opened_in)
    tab.put("room_join_name", name)
    await tab.click(label=t("room.join", lang))
    report.joined += 1
    await start.wait()
    for rnd in range(1, rounds + 1):
        care = random.uniform(2_000, 9_000)
        if rnd == 1:
            saved = await _submit_on_plan_page(tab, lang, care, name, rnd, report)
            if reload:  # in the middle of the round: back to the same seat, plan saved
                report.reload_s.append(await tab.reload())
                waiting = t("room.not_submitted", lang, round=rnd)
                if tab.has("room_submit_plan") and waiting not in tab.text():
                    report.reseated += 1
            if saved:  # the instructor reveals once every team's plan is saved
                report.saved.append(f"{name}/{rnd}")
            await tab.go("classroom")
        else:
            await tab.wait_for(lambda tb, r=rnd: tb.has("room_submit_room"), 60)
            await asyncio.sleep(random.uniform(0, 1.0))
            report.submit_s.append(await tab.click("room_submit_room"))
            if _saved(tab, lang, name, rnd, report):
                report.saved.append(f"{name}/{rnd}")
        await revealed[rnd].wait()
        heading = t("room.team.results_of", lang, round=f"{t('room.round', lang)} {rnd}")
        await tab.wait_for(lambda tb, h=heading: h in tb.text(), 60)  # pushed, not reloaded
        seen = time.perf_counter() - report.reveal_click_s[rnd]
        report.reveal_s.setdefault(rnd, []).append(seen)
    await tab.close()


async def run_console(
    tab: Tab, lang: str, report: Report, teams: int, rounds: int, start, revealed
) -> None:
    """The instructor's game: wait for the plans, reveal, advance; then the debrief."""
    while report.joined < teams:
        await asyncio.sleep(0.2)
    start.set()
    for rnd in range(1, rounds + 1):
        deadline = time.perf_counter() + 120
        while sum(s.endswith(f"/{rnd}") for s in report.saved) < teams:
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.2)
        await tab.wait_for(lambda tb: tb.has("room_do_reveal"), 30)
        report.reveal_click_s[rnd] = time.perf_counter()
        await tab.click("room_do_reveal")
        if tab.has("room_do_reveal_anyway"):
            await tab.click("room_do_reveal_anyway")
        revealed[rnd].set()
        await asyncio.sleep(0.5)
        if rnd < rounds:
            await tab.wait_for(lambda tb: tb.has("room_do_advance"), 30)
            await tab.click("room_do_advance")
    await tab.click("room_debrief_make")
    xlsx = next(
        e for e in tab.elements.values() if e.kind == "download_button" and e.key == "room_xlsx"
    )
    http = tab.url.replace("ws://", "http://")
    request = urllib.request.Request(http + xlsx.proto.url, headers=tab.headers)  # its process
    with urllib.request.urlopen(request, timeout=60) as response:
        report.workbook = response.read()
    await tab.close()


async def play_class(
    routes: list[Route | str],
    teams: int = 3,
    rounds: int = 2,
    months: int = 3,
    lang: str = "zh",
    reload: bool = True,
) -> Report:
    """A whole game (see the module's docstring); returns its report."""
    report = Report()
    routes = [(r, {}) if isinstance(r, str) else r for r in routes]
    console = await open_console(routes[0], lang, rounds, months, report)
    start = asyncio.Event()
    revealed = {r: asyncio.Event() for r in range(1, rounds + 1)}
    names = [f"第{i + 1}组" if lang == "zh" else f"Team {i + 1}" for i in range(teams)]
    await asyncio.gather(
        run_console(console, lang, report, teams, rounds, start, revealed),
        *(
            team_bot(routes[i % len(routes)], lang, n, report, rounds, start, revealed, reload)
            for i, n in enumerate(names)
        ),
    )
    return report
