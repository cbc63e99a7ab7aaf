"""Seats, rosters and team management, names, and the rate limits of joins and passcodes."""

import pytest

from crmsim.classroom import Classroom, ClassroomError, Client, clean_name, client_address
from crmsim.classroom import names as names_module
from crmsim.plans import preset_plan
from tests.classroom.helpers import care_plan, open_room


def _key(fn, *args, **kw) -> str:
    with pytest.raises(ClassroomError) as info:
        fn(*args, **kw)
    return info.value.key


# -- seats --------------------------------------------------------------------------------
def test_a_team_gets_back_its_seat_on_any_device_with_its_pin(store, case):
    code, _ = open_room(store, case)
    team, first = store.join(code, "Alpha", Client("laptop"))
    assert len(team.pin) == 6 and team.pin.isdigit()
    store.submit(code, first, care_plan(case, 1.1), 1)
    assert _key(store.join, code, "alpha", Client("phone")) == "name_taken"
    again, second = store.rejoin(code, " ALPHA ", team.pin, Client("phone"))
    assert again.id == team.id and second != first
    assert store.my_plan(code, second, 1).name == "care x1.1"  # the same seat
    assert store.team(code, first).id == team.id  # the first device still plays too
    assert _key(store.rejoin, code, "Alpha", "000000", Client("thief")) == "bad_pin"


def test_wrong_pins_are_slowed_per_team_whoever_tries(url, case):
    now = [5000.0]
    store = Classroom(url, clock=lambda: now[0])
    code, _ = open_room(store, case)
    team, _ = store.join(code, "Alpha")
    wrong = "111111" if team.pin != "111111" else "222222"
    for i in range(5):  # five sessions, one wrong guess each
        assert _key(store.rejoin, code, "Alpha", wrong, Client(f"s{i}")) == "bad_pin"
    assert _key(store.rejoin, code, "Alpha", team.pin, Client("fresh")) == "slow_down"
    now[0] += 2
    assert store.rejoin(code, "Alpha", team.pin, Client("fresh"))[0].id == team.id
    store.close()


def test_the_instructor_reseats_renames_merges_and_removes(store, case):
    code, pw = open_room(store, case)
    a, a_tok = store.join(code, "Alpha")
    ghost, ghost_tok = store.join(code, "Alpha 2")
    junk, junk_tok = store.join(code, "<a href=x>spam</a>")
    store.submit(code, ghost_tok, care_plan(case, 0.9), 1)  # only the ghost submitted round 1
    new_tok = store.reseat(code, pw, a.id)
    assert store.team(code, new_tok).id == a.id and store.team(code, a_tok).id == a.id
    only = store.reseat(code, pw, a.id, revoke_others=True)
    for old in (a_tok, new_tok):
        assert _key(store.team, code, old) == "bad_token"
    assert store.team(code, only).id == a.id
    assert store.rename_team(code, pw, a.id, "Alpha\u00a0One") == "Alpha One"
    store.merge_teams(code, pw, ghost.id, a.id)
    assert store.team(code, ghost_tok).id == a.id  # the ghost's device now plays for Alpha
    assert store.my_plan(code, only, 1).name == "care x0.9"  # and its round-1 plan came along
    store.remove_team(code, pw, junk.id)
    assert _key(store.team, code, junk_tok) == "bad_token"
    assert list(store.status(code, pw)["team"]) == ["Alpha One"]
    store.reveal(code, pw, 1)
    assert list(store.leaderboard(code)["team"]) == ["Alpha One"]  # no ghosts, no junk
    assert store.join(code, "Alpha 2")[0].name == "Alpha 2"  # a merged team's name is free
    pin = store.reset_pin(code, pw, a.id)
    assert store.rejoin(code, "alpha one", pin)[0].id == a.id


def test_joining_can_be_locked_and_capped(store, case):
    code, pw = open_room(store, case)
    store.set_joining(code, pw, max_teams=2)
    store.join(code, "A")
    store.join(code, "B")
    assert _key(store.join, code, "C") == "room_full"
    store.set_joining(code, pw, max_teams=3, locked=True)
    assert _key(store.join, code, "C") == "joining_locked"
    assert store.set_joining(code, pw, locked=False).max_teams == 3
    assert store.join(code, "C")[0].name == "C"
    assert _key(store.set_joining, code, pw, max_teams=0) == "bad_max_teams"


def test_a_roster_gives_labels_to_pick_and_links_to_hand_out(store, case):
    code, pw = open_room(store, case)
    links = store.set_roster(code, pw, ["Team A", "Team B", "Team A", "  ", "Team C"])
    assert list(links) == ["Team A", "Team B", "Team C"]
    assert store.roster_labels(code) == [("Team A", False), ("Team B", False), ("Team C", False)]
    assert _key(store.join, code, "My own name") == "pick_from_roster"
    team, token = store.claim(code, "team a")
    assert team.name == "Team A" and store.team(code, token).id == team.id
    assert _key(store.claim, code, "Team A") == "team_taken"  # the next one needs the PIN
    assert store.rejoin(code, "Team A", team.pin)[0].id == team.id
    b = store.team(code, links["Team B"])  # the instructor's link for Team B
    assert b.name == "Team B"
    assert store.roster_labels(code) == [("Team A", True), ("Team B", True), ("Team C", False)]
    more = store.set_roster(code, pw, ["Team C", "Team D"])  # only new labels get links
    assert list(more) == ["Team D"] and store.team(code, more["Team D"]).name == "Team D"


def test_reserved_labels_never_reach_the_leaderboard(store, case):
    code, pw = open_room(store, case)
    store.set_roster(code, pw, ["Red", "Blue"])
    _, red = store.claim(code, "Red")
    store.submit(code, red, preset_plan("zero", case), 1)
    store.reveal(code, pw, 1)
    assert list(store.leaderboard(code)["team"]) == ["Red"]


def test_heartbeats_show_who_is_here_and_who_is_editing(url, case):
    now = [100.0]
    store = Classroom(url, clock=lambda: now[0])
    code, pw = open_room(store, case)
    _, a = store.join(code, "Alpha")
    store.join(code, "Beta")
    store.heartbeat(code, a, editing=True)
    row = store.status(code, pw).set_index("team").loc["Alpha"]
    assert row["last_seen"] == 100.0 and row["editing_at"] == 100.0
    now[0] = 105.0
    store.heartbeat(code, a)  # within SEEN_EVERY_S and no change: not written
    assert store.status(code, pw).set_index("team").loc["Alpha", "last_seen"] == 100.0
    store.submit(code, a, care_plan(case, 1.1), 1)
    row = store.status(code, pw).set_index("team").loc["Alpha"]
    assert row["last_seen"] == 105.0 and row["editing_at"] is None and row["version"] == 1
    store.heartbeat(code, "forged")  # an unknown token is ignored, not an error
    store.close()


# -- names --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "twin",
    [
        "Team\u00a0A",  # no-break space
        "team  a",  # case, doubled space
        "Ｔｅａｍ Ａ",  # full-width letters
        "Теаm А",  # Cyrillic Т, е, а and А
        "Τeam Α",  # Greek Τ and Α
        "Team\u200b A",  # a zero-width space
        "\tTeam A\n",
    ],
)
def test_look_alike_names_are_one_name(store, case, twin):
    code, _ = open_room(store, case)
    store.join(code, "Team A")
    assert _key(store.join, code, twin) == "name_taken"


def test_names_are_stored_normalised():
    assert clean_name("  Ｔｅａｍ\u3000甲\u00a0\u00a0组 ") == "Team 甲 组"
    assert clean_name("a\u200bb\x07c") == "abc"
    with pytest.raises(ClassroomError):
        clean_name("\u200b \u00a0")


# -- rate limits --------------------------------------------------------------------------
def test_wrong_passcodes_are_refused_before_the_slow_hash_once_they_pile_up(url, case, monkeypatch):
    now = [1000.0]
    store = Classroom(url, clock=lambda: now[0])
    keys = store.create_room(case, 600, 5)
    hashed = []
    real = names_module.pbkdf2_ok
    monkeypatch.setattr("crmsim.classroom.store.pbkdf2_ok", lambda *a: hashed.append(1) or real(*a))
    for _ in range(3):
        assert _key(store.status, keys.code, "WRONGWRONG", Client("tab")) == "bad_passcode"
    n = len(hashed)
    assert _key(store.status, keys.code, "WRONGWRONG", Client("tab")) == "slow_down"
    assert len(hashed) == n  # refused without hashing
    for i in range(7):  # other tabs, until the room as a whole has seen 10
        store.check_passcode(keys.code, keys.passcode, Client("teacher"))  # still fine
        assert _key(store.status, keys.code, "WRONG", Client(f"t{i}")) == "bad_passcode"
    n = len(hashed)
    assert _key(store.status, keys.code, "WRONG", Client("new")) == "slow_down"
    assert len(hashed) == n
    # the instructor's link, and a passcode this server already checked, keep working
    assert store.status(keys.code, keys.link, Client("new")).empty
    assert store.lock(keys.code, keys.passcode, 1, Client("teacher")).phase == "locked"
    now[0] += 3600  # counters left alone that long are forgotten
    assert _key(store.status, keys.code, "WRONG", Client("new")) == "bad_passcode"
    store.close()


def test_failed_joins_are_slowed_per_session_not_per_forgeable_header(store, case):
    code, _ = open_room(store, case)
    for _ in range(3):
        assert _key(store.join, "ZZZZZZ", "x", Client("script")) == "room_not_found"
    assert _key(store.join, code, "right code", Client("script")) == "slow_down"
    assert store.join(code, "other tab", Client("student"))[0].name == "other tab"


def test_one_session_cannot_fill_a_room(store, case):
    code, _ = open_room(store, case)
    for i in range(6):
        store.join(code, f"junk {i}", Client("script"))
    assert _key(store.join, code, "junk 6", Client("script")) == "slow_down"
    assert store.join(code, "a real team", Client("student"))[0].name == "a real team"


def test_a_class_behind_one_school_address_can_join(store, case):
    """The cap on teams made counts per browser session: forty students behind one school
    address (or one proxy) each make their team (it stopped the seventh)."""
    code, _ = open_room(store, case)
    for i in range(12):
        team, _ = store.join(code, f"team {i}", Client(f"student {i}", "198.51.100.7"))
        assert team.name == f"team {i}"


def test_forwarded_for_is_believed_only_from_a_trusted_proxy():
    trusted = frozenset({"127.0.0.1"})
    assert client_address("203.0.113.5", "198.51.100.1", trusted) == "203.0.113.5"  # forged
    assert client_address("203.0.113.5", "", frozenset()) == "203.0.113.5"
    assert client_address(None, "198.51.100.7", trusted) == "198.51.100.7"  # via local nginx
    # a client's own X-Forwarded-For is kept by $proxy_add_x_forwarded_for: take the hop
    # the proxy added (the rightmost untrusted one), not the one the client wrote
    assert client_address(None, "10.9.9.9, 198.51.100.7", trusted) == "198.51.100.7"
    assert client_address(None, "", trusted) == "127.0.0.1"
