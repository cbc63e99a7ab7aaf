"""Classroom mode: rooms, rounds, team plans, results and the leaderboard, in a real database.

One instructor opens a room on a case; 20–60 teams join with the room code (or pick a label
from the instructor's roster), submit a service plan each round and, once the instructor
reveals the round, see their results and the leaderboard. Every team plays the same
population and seed; round r replays the team's plans of rounds 1…r on one run, so each
round continues from the team's own state at the end of the previous one.

The package reads from the bottom up: ``errors`` (message keys, the database's failures in
words), ``names`` (names, codes, secrets), ``schema`` (tables, migration), ``limits`` (rate
limits), ``scoring`` (playing and scoring rounds), ``rooms`` (a room as everyone sees it),
``teams`` and ``views`` (SQL on an open transaction), ``memo`` (what this process already
read of a room at its version), ``warm`` (saved plans played ahead of the reveal), ``store``
(the database, the instructor's keys, rounds as compare-and-set), ``debrief`` (the workbook
and the tables' words) and ``service`` (``Classroom``: joining, seats, submissions, managing
teams, what everyone sees).

Everything lives in the database (SQLite by default, PostgreSQL when ``DATABASE_URL`` says
so), so a restarted app loses nothing and several app processes can share one room.
"""

from crmsim.classroom.database import default_url
from crmsim.classroom.debrief import column_names
from crmsim.classroom.errors import ClassroomError, StoreError
from crmsim.classroom.limits import Client
from crmsim.classroom.names import CODE_ALPHABET, MAX_NAME, clean_name, client_address, name_key
from crmsim.classroom.rooms import DEFAULT_MAX_TEAMS, Room, RoomKeys, Submission
from crmsim.classroom.schema import SCHEMA_VERSION, metadata
from crmsim.classroom.scoring import DEFAULT_WEIGHTS, SCORE_KPIS, score
from crmsim.classroom.service import Classroom
from crmsim.classroom.store import MAX_ROUNDS, MAX_TEAMS, PHASES
from crmsim.classroom.teams import Team

__all__ = [
    "CODE_ALPHABET",
    "DEFAULT_MAX_TEAMS",
    "DEFAULT_WEIGHTS",
    "MAX_NAME",
    "MAX_ROUNDS",
    "MAX_TEAMS",
    "PHASES",
    "SCHEMA_VERSION",
    "SCORE_KPIS",
    "Classroom",
    "ClassroomError",
    "Client",
    "Room",
    "RoomKeys",
    "StoreError",
    "Submission",
    "Team",
    "clean_name",
    "client_address",
    "column_names",
    "default_url",
    "metadata",
    "name_key",
    "score",
]
