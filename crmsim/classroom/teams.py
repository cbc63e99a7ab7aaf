"""Teams and their seats, as SQL on an open transaction (the store opens it and checks who
may act; nothing here decides that).

A team is a name in a room with a PIN. A seat is one browser's key to a team: the token in
the team's link, kept hashed. The first seat's hash is on the team row (as in schema 1);
further seats — a teammate's laptop, a new device after a PIN, a link the instructor issued —
are rows of ``crm_seats``. A roster label is a team made in advance (``reserved``) that
becomes ``active`` when a student picks it or opens its link. Removed and merged teams keep
their rows (the debrief still names them) but lose their seats, their name key (so the name
is free again) and their place on the leaderboard.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crmsim.classroom.errors import ClassroomError
from crmsim.classroom.names import clean_name, name_key, new_pin, new_token, token_hash
from crmsim.classroom.schema import plans, results, seats, teams

PLAYING = ("active", "reserved")  # states that hold a name and play the game
ALL_STATES = (*PLAYING, "removed", "merged")


@dataclass(frozen=True)
class Team:
    id: int
    room_id: int
    name: str
    state: str = "active"
    pin: str = ""


def team_of(row) -> Team:
    return Team(int(row.id), int(row.room_id), row.name, row.state, row.pin or "")


def by_token(c, room_id: int, token: str):
    """The playing team a seat token belongs to in this room, or None: the team's first
    seat, else one of its further seats (two lookups on unique indexes; every page run of
    every open tab asks)."""
    h = token_hash(token)
    playing = (teams.c.room_id == room_id) & teams.c.state.in_(PLAYING)
    found = c.execute(sa.select(teams).where(playing & (teams.c.token_hash == h))).first()
    if found is not None:
        return found
    return c.execute(
        sa.select(teams)
        .join(seats, seats.c.team_id == teams.c.id)
        .where(playing & (seats.c.token_hash == h))
    ).first()


def by_id(c, room_id: int, team_id: int):
    row = c.execute(
        sa.select(teams).where((teams.c.room_id == room_id) & (teams.c.id == int(team_id)))
    ).first()
    if row is None or row.state not in PLAYING:
        raise ClassroomError("team_not_found")
    return row


def by_name(c, room_id: int, name: str):
    """The playing team whose name reads like ``name`` (same key), or None."""
    return c.execute(
        sa.select(teams).where(
            (teams.c.room_id == room_id)
            & (teams.c.name_key == name_key(name))
            & teams.c.state.in_(PLAYING)
        )
    ).first()


def playing_count(c, room_id: int) -> int:
    return c.execute(
        sa.select(sa.func.count())
        .select_from(teams)
        .where((teams.c.room_id == room_id) & teams.c.state.in_(PLAYING))
    ).scalar_one()


def add(c, room_id: int, name: str, now: float, state: str = "active") -> tuple[int, str, str]:
    """A new team; returns its id, its first seat's token and its PIN. A name that reads like
    one already in the room is refused (``name_taken``)."""
    name = clean_name(name)
    token, pin = new_token(), new_pin()
    try:
        with c.begin_nested():
            tid = c.execute(
                teams.insert().values(
                    room_id=room_id,
                    name=name,
                    name_key=name_key(name),
                    token_hash=token_hash(token),
                    joined_at=now,
                    state=state,
                    pin=pin,
                )
            ).inserted_primary_key[0]
    except IntegrityError:
        raise ClassroomError("name_taken", name=name) from None
    return int(tid), token, pin


def add_seat(c, team_id: int, now: float) -> str:
    """One more browser's key to a team; returns its token."""
    token = new_token()
    c.execute(seats.insert().values(team_id=team_id, token_hash=token_hash(token), created_at=now))
    return token


def revoke_seats(c, team_id: int) -> None:
    """Every seat of a team stops working (its first seat gets a hash nobody holds)."""
    c.execute(seats.delete().where(seats.c.team_id == team_id))
    dead = token_hash(new_token())
    c.execute(teams.update().where(teams.c.id == team_id).values(token_hash=dead))


def activate(c, row, now: float) -> None:
    """A reserved roster team is claimed: it is playing from now on."""
    if row.state == "reserved":
        c.execute(teams.update().where(teams.c.id == row.id).values(state="active", joined_at=now))


def rename(c, row, name: str) -> str:
    name = clean_name(name)
    try:
        with c.begin_nested():
            c.execute(
                teams.update()
                .where(teams.c.id == row.id)
                .values(name=name, name_key=name_key(name))
            )
    except IntegrityError:
        raise ClassroomError("name_taken", name=name) from None
    return name


def retire(c, row, state: str, merged_into: int | None = None) -> None:
    """Take a team out of the game (``removed`` or ``merged``): no seats, no name key, no
    published results; its plans stay for the debrief. The stored name gets the team's id
    appended so the same name can be used again."""
    revoke_seats(c, row.id)
    c.execute(results.delete().where(results.c.team_id == row.id))
    c.execute(
        teams.update()
        .where(teams.c.id == row.id)
        .values(
            state=state,
            name_key=None,
            merged_into=merged_into,
            name=f"{row.name[:30]} #{row.id}",
        )
    )


def merge(c, row, into, now: float) -> None:
    """``row``'s seats join ``into``; rounds where ``into`` has no plan take ``row``'s."""
    moved = c.execute(sa.select(seats.c.token_hash).where(seats.c.team_id == row.id)).scalars()
    hashes = [row.token_hash, *moved]
    c.execute(seats.delete().where(seats.c.team_id == row.id))
    for h in hashes:
        c.execute(seats.insert().values(team_id=into.id, token_hash=h, created_at=now))
    c.execute(teams.update().where(teams.c.id == row.id).values(token_hash=token_hash(new_token())))
    have = set(c.execute(sa.select(plans.c.round).where(plans.c.team_id == into.id)).scalars())
    c.execute(
        plans.update()
        .where((plans.c.team_id == row.id) & plans.c.round.not_in(have or {-1}))
        .values(team_id=into.id)
    )
    retire(c, row, "merged", merged_into=into.id)


def reset_pin(c, row) -> str:
    pin = new_pin()
    c.execute(teams.update().where(teams.c.id == row.id).values(pin=pin))
    return pin


def seen(c, team_id: int, now: float, editing: bool | None) -> None:
    """A team's browser was here (``editing``: its grid differs from what it submitted)."""
    values: dict = {"last_seen": now}
    if editing is not None:
        values["editing_at"] = now if editing else None
    c.execute(teams.update().where(teams.c.id == team_id).values(**values))


def seat_counts(c, room_id: int) -> dict[int, int]:
    """Extra seats (devices beyond the first) per team."""
    rows = c.execute(
        sa.select(seats.c.team_id, sa.func.count())
        .join(teams, teams.c.id == seats.c.team_id)
        .where(teams.c.room_id == room_id)
        .group_by(seats.c.team_id)
    )
    return {tid: n for tid, n in rows}
