"""Names, codes and secrets of the classroom: what people type, and what the store keeps.

Team names are stored in Unicode NFKC form with their whitespace collapsed, and compared by a
key that also folds case and the Cyrillic and Greek letters that look like Latin ones, so
"Team A", "Team\u00a0A", "team a" and "Теаm А" (Cyrillic) are one name. Room codes avoid
look-alike characters. Instructor passcodes are stored as salted PBKDF2 hashes, instructor
links and team tokens as SHA-256 hashes (they are long random strings); team PINs are short
by design, kept as they are so the team and the instructor can read them again, and protected
by the rate limits in ``limits``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

from crmsim.classroom.errors import ClassroomError

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 6
PASSCODE_LENGTH = 10
PIN_DIGITS = 6
MAX_NAME = 40
PBKDF2_ROUNDS = 120_000

# Letters of other scripts drawn like Latin ones (after case folding), from Unicode's
# confusables list (UTS #39), restricted to the Cyrillic and Greek letters of ordinary names.
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "н": "h", "і": "i", "ї": "i",
        "ј": "j", "к": "k", "ӏ": "l", "м": "m", "о": "o", "р": "p", "ԛ": "q", "с": "c",
        "ѕ": "s", "т": "t", "у": "y", "х": "x", "ԝ": "w", "ԁ": "d", "п": "n",
        # Greek
        "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "h", "ι": "i", "κ": "k", "μ": "m",
        "ν": "n", "ο": "o", "ρ": "p", "τ": "t", "υ": "y", "χ": "x", "ϲ": "c", "ϳ": "j",
    }
)  # fmt: skip
_SPACES = re.compile(r"\s+")


def clean_name(name: str) -> str:
    """A team name as stored: NFKC, control and format characters removed, runs of
    whitespace (no-break and ideographic spaces included) made one space, at most
    ``MAX_NAME`` characters."""
    text = unicodedata.normalize("NFKC", str(name))
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch.isspace())
    text = _SPACES.sub(" ", text).strip()
    if not text:
        raise ClassroomError("name_empty")
    if len(text) > MAX_NAME:
        raise ClassroomError("name_too_long", limit=MAX_NAME)
    return text


def name_key(name: str) -> str:
    """What two names must not share in one room: the cleaned name, case-folded, with
    look-alike letters of other scripts read as Latin and accents' combining marks kept."""
    return clean_name(name).casefold().translate(_LOOKALIKES)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    """A room code as typed (any case, spaces or dashes) in its stored form."""
    return "".join(ch for ch in str(code).upper() if ch.isalnum())[:12]


def new_passcode() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(PASSCODE_LENGTH))


def new_token() -> str:
    """A team's or instructor's link secret (144 random bits, URL-safe)."""
    return secrets.token_urlsafe(18)


def new_pin() -> str:
    return f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"


def token_hash(token: str) -> str:
    return hashlib.sha256(str(token)[:100].encode()).hexdigest()


def same_secret(given: str, stored: str) -> bool:
    """Constant-time comparison of two short secrets (PINs)."""
    return hmac.compare_digest(str(given).strip().encode(), str(stored).encode())


def hash_passcode(passcode: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", passcode.encode(), salt, PBKDF2_ROUNDS)
    return f"pbkdf2_sha256${PBKDF2_ROUNDS}${salt.hex()}${digest.hex()}"


def pbkdf2_ok(passcode: str, stored: str) -> bool:
    try:
        _, rounds, salt, digest = stored.split("$")
        got = hashlib.pbkdf2_hmac(
            "sha256", str(passcode)[:64].encode(), bytes.fromhex(salt), int(rounds)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def client_address(peer: str | None, forwarded: str, trusted: frozenset[str]) -> str:
    """The address a request came from, for rate limits. ``X-Forwarded-For`` (``forwarded``)
    is believed only when the connection itself comes from a trusted proxy, and then only its
    rightmost entry that is not a trusted proxy (the one that proxy added); anyone can write
    the rest. ``peer`` None means a local connection (Streamlit reports localhost as None)."""
    peer = peer or "127.0.0.1"
    if peer not in trusted:
        return peer
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if hop not in trusted:
            return hop[:45]
    return peer


MAX_ROSTER = 200
MAX_ROSTER_BYTES = 64 * 1024


def parse_roster(raw: bytes | str, source: str = "roster") -> list[str]:
    """Team labels from a pasted list or an uploaded text/CSV file (UTF-8 or GBK, as Excel
    saves it): one label per line, the first column of a CSV; blank lines and repeats (by
    ``name_key``) left out. Raises ``InputError`` naming the lines that cannot be labels."""
    import csv
    import io

    from crmsim.customers_io import decode_upload
    from crmsim.errors import InputError, Issue

    text = raw if isinstance(raw, str) else decode_upload(raw, source, MAX_ROSTER_BYTES)[0]
    if len(text.encode("utf-8")) > MAX_ROSTER_BYTES:
        raise InputError(
            [Issue("", "file_too_large", {"limit_kb": MAX_ROSTER_BYTES // 1024})], source
        )
    labels: dict[str, str] = {}
    issues = []
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cell = row[0] if row else ""
        if not cell.strip():
            continue
        try:
            label = clean_name(cell)
        except ClassroomError:
            issues.append(Issue("", "text_too_long", {"limit": MAX_NAME}, line=n))
            continue
        labels.setdefault(name_key(label), label)
    if len(labels) > MAX_ROSTER:
        issues.append(Issue("", "list_too_long", {"limit": MAX_ROSTER}))
    if not labels and not issues:
        issues.append(Issue("", "empty_file"))
    if issues:
        raise InputError(issues, source)
    return list(labels.values())
