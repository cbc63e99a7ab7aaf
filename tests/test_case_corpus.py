"""The broken-case corpus: every file an instructor might get wrong, with the exact report it
must produce in both languages, from the library and from ``python -m crmsim validate``."""

import tomllib
from pathlib import Path

import pytest

from crmsim.cases import MAX_CASE_BYTES, load_case_bytes
from crmsim.cli import main
from crmsim.errors import InputError

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "broken_cases"
EXPECTED = tomllib.loads((DATA / "broken_cases.expected.toml").read_text(encoding="utf-8"))
BROKEN = sorted(p for p in CORPUS.glob("*.toml") if not p.name.startswith("00_"))
BASE = CORPUS / "00_valid_base.toml"


def test_corpus_is_large_and_every_file_has_its_message():
    assert len(BROKEN) >= 15
    assert {p.stem for p in BROKEN} == set(EXPECTED)


def test_the_base_every_broken_file_starts_from_is_valid():
    case = load_case_bytes(BASE.read_bytes(), BASE.name)
    assert case.id == "corpus"
    assert all(p.read_bytes() != BASE.read_bytes() for p in BROKEN)


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_case_gives_its_message_in_both_languages(path):
    with pytest.raises(InputError) as info:
        load_case_bytes(path.read_bytes(), path.name)
    assert info.value.report("en") == EXPECTED[path.stem]["en"]
    assert info.value.report("zh") == EXPECTED[path.stem]["zh"]


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_cli_validate_exits_1_with_the_message(path, capsys):
    code = main(["validate", str(path), "--lang", "zh"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out + err
    assert path.name in err
    for line in EXPECTED[path.stem]["zh"].splitlines():
        assert line in err


def test_huge_case_file_is_refused_before_parsing(tmp_path, capsys):
    huge = tmp_path / "huge.toml"
    huge.write_bytes(BASE.read_bytes() + b"# padding\n" * (MAX_CASE_BYTES // 10 + 1))
    code = main(["--lang", "en", "validate", str(huge)])
    _, err = capsys.readouterr()
    assert code == 1 and "file too large (1.001 MB; at most 1 MB)" in err
