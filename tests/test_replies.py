"""Saved replies: the library file (strict, with file/line/key errors), variables filled
verbatim, suggestions (clear cases, filters, determinism), fuzzy search and FAQ import."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmtui.config import Brand
from cmtui.model import Author
from cmtui.replies import (
    DEMO_LIBRARY,
    Library,
    LibraryError,
    SavedReply,
    fill,
    first_name,
    fuzzy_filter,
    import_faq,
    library_path,
    load_library,
    parse_faq,
    parse_library,
    stem,
    variables,
)

PATH = Path("/home/lea/.config/cmtui/replies.toml")
BRAND = Brand(name="Maison Lumière", signature="— Léa, Maison Lumière")

GOOD = """\
# comment
[[replies]]
name = "Delivery"
text = "Hi {first_name}, it ships in 2 days. {signature}"
brand = "Maison Lumière"
lang = "en"
tags = ["shipping"]
questions = ["when will my order arrive"]

[[replies]]
name = "Livraison"
text = "Bonjour {author}, {{entre accolades}}"
"""


def load_error(text: str, brands: list[str] | None = None) -> LibraryError:
    with pytest.raises(LibraryError) as caught:
        parse_library(text, path=PATH, brands=brands)
    return caught.value


# --- the library file ----------------------------------------------------------------------


def test_a_good_file_loads_every_key() -> None:
    library = parse_library(GOOD, path=PATH, brands=["Maison Lumière"])
    first, second = library.replies
    assert first == SavedReply(
        name="Delivery",
        text="Hi {first_name}, it ships in 2 days. {signature}",
        brand="Maison Lumière",
        lang="en",
        tags=("shipping",),
        questions=("when will my order arrive",),
    )
    assert (second.brand, second.lang, second.tags) == (None, None, ())


def test_a_missing_file_is_an_empty_library(tmp_path: Path) -> None:
    assert load_library(tmp_path / "replies.toml").replies == ()


def test_the_library_sits_beside_the_config_file() -> None:
    assert library_path(Path("/etc/team/config.toml")) == Path("/etc/team/replies.toml")


def test_an_unknown_variable_names_the_reply_the_key_and_the_line() -> None:
    text = GOOD.replace("{{entre accolades}}", "{prénom}")
    error = load_error(text)
    assert error.key == "replies[1].text"
    assert error.line == 12
    assert "'Livraison'" in str(error) and "{prénom}" in str(error)
    assert str(error).startswith(f"{PATH}:12: replies[1].text: ")


@pytest.mark.parametrize(
    ("template", "shown"),
    [
        ("{author.__class__}", "{author.__class__}"),
        ("{author!r}", "{author!r}"),
        ("{first_name:>99999}", "{first_name:>99999}"),
        ("{}", "{}"),
        ("{0}", "{0}"),
    ],
)
def test_attributes_conversions_and_positions_are_unknown_variables(
    template: str, shown: str
) -> None:
    error = load_error(f'[[replies]]\nname = "x"\ntext = "{template}"\n')
    assert f"unknown variable, {shown}" in str(error)


@pytest.mark.parametrize("template", ["a { b", "a } b", "{author"])
def test_a_stray_brace_is_an_error(template: str) -> None:
    assert "unmatched brace" in str(load_error(f'[[replies]]\nname = "x"\ntext = "{template}"\n'))


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('[[replies]]\nname = "x"\n', "replies[0].text", "is missing"),
        ('[[replies]]\nname = "x"\ntext = "t"\nlang = "de"\n', "replies[0].lang", "unknown"),
        ('[[replies]]\nname = "x"\ntext = "t"\nqestions = []\n', "replies[0].qestions", "mean"),
        ('[[replies]]\nname = ""\ntext = "t"\n', "replies[0].name", "is empty"),
        ('[[replies]]\nname = "x"\ntext = "t"\ntags = "a"\n', "replies[0].tags", "got a string"),
        ("replies = 3\n", "replies", "got an integer"),
    ],
)
def test_bad_keys_are_named(text: str, key: str, words: str) -> None:
    error = load_error(text)
    assert error.key == key
    assert words in str(error)


def test_a_toml_syntax_error_has_its_line() -> None:
    error = load_error('[[replies]]\nname = "x"\ntext = oops\n')
    assert error.line == 3
    assert "invalid TOML" in str(error)


def test_two_replies_of_a_brand_and_language_cannot_share_a_name() -> None:
    text = '[[replies]]\nname = "x"\ntext = "a"\n\n[[replies]]\nname = "x"\ntext = "b"\n'
    error = load_error(text)
    assert (error.key, error.line) == ("replies[1].name", 6)
    # The same name in another language is another reply.
    parse_library(text.replace('text = "b"', 'text = "b"\nlang = "fr"'), path=PATH)


def test_a_reply_naming_an_undeclared_brand_is_reported() -> None:
    error = load_error(GOOD, brands=["Acme"])
    assert error.key == "replies[0].brand"
    assert "Maison Lumière" in str(error) and "Acme" in str(error)


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "replies.toml"
    path.write_bytes(b'[[replies]]\nname = "\xff"\n')
    with pytest.raises(LibraryError, match="not UTF-8"):
        load_library(path)


def test_the_demo_library_loads_for_the_sandbox_brand() -> None:
    library = load_library(DEMO_LIBRARY, brands=["Maison Lumière"])
    assert len(library.replies) >= 20
    assert {reply.lang for reply in library.replies} == {"en", "fr"}


# --- variables -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("display_name", "handle", "expected"),
    [
        ("Zoé 🕯️ Garnier", "@zoe", "Zoé"),
        ("Katie 📚", "@katie_reads", "Katie"),
        ("Pauline | Lyon", "@p", "Pauline"),
        ("Anne-Sophie", "@as", "Anne-Sophie"),
        ("Sam O'Neill", "@sam", "Sam"),
        ("🕯️✨", "@lucie_dcr@x.example", "@lucie_dcr@x.example"),
        ("", "@lucie", "@lucie"),
        ("\u202eevil\x1b[2J name", "@e", "evil"),
    ],
)
def test_first_name_is_the_first_word_of_the_display_name(
    display_name: str, handle: str, expected: str
) -> None:
    assert first_name(Author(handle=handle, display_name=display_name)) == expected


@pytest.mark.parametrize(
    "hostile", ["{signature}", "{0.__class__}", "{author}{{", "}{", "%s {brand!r}", "[b]x[/b]"]
)
def test_values_are_inserted_verbatim_never_read_as_templates(hostile: str) -> None:
    values = variables(Author(handle="@h", display_name=hostile), BRAND)
    assert fill("Hi {author} / {first_name} – {brand} {signature}", values) == (
        f"Hi {values['author']} / {values['first_name']} – Maison Lumière — Léa, Maison Lumière"
    )
    assert values["author"] == hostile


@given(st.text())
def test_filling_never_fails_whatever_the_name(name: str) -> None:
    values = variables(Author(handle="@h", display_name=name), BRAND)
    filled = fill("{{x}} {author} {first_name}", values)
    assert filled.startswith("{x} ")


# --- suggestions -----------------------------------------------------------------------------


def demo() -> Library:
    return load_library(DEMO_LIBRARY)


@pytest.mark.parametrize(
    ("message", "lang", "expected"),
    [
        ("my candle from batch 42 cracked in half!", "en", "Lot 42: cracked candle"),
        ("Ma bougie du lot 42 est fendue", "fr", "Lot 42 : bougie fissurée"),
        ("How many days does shipping take to Lille?", "en", "Delivery times"),
        ("La mèche fume beaucoup", "fr", "Entretien de la mèche"),
        ("Is the shop open on Sundays?", "en", "Shop opening hours"),
    ],
)
def test_clear_cases_come_first(message: str, lang: str, expected: str) -> None:
    found = demo().suggest(message, brand="Maison Lumière", lang=lang)
    assert found[0].name == expected
    assert len(found) <= 3


def test_suggestions_keep_to_the_brand_and_the_language() -> None:
    library = Library(
        (
            SavedReply("oursen", "refund", brand="A", lang="en", questions=("refund",)),
            SavedReply("theirs", "refund", brand="B", questions=("refund",)),
            SavedReply("oursfr", "refund", brand="A", lang="fr", questions=("refund",)),
            SavedReply("anyones", "refund", questions=("refund",)),
        )
    )
    names = [r.name for r in library.suggest("refund please", brand="A", lang="en")]
    assert names == ["oursen", "anyones"]
    unknown_language = library.suggest("refund please", brand="A", lang=None)
    assert [r.name for r in unknown_language] == ["oursen", "oursfr", "anyones"]


def test_ties_keep_file_order_and_unrelated_replies_are_not_offered() -> None:
    replies = tuple(SavedReply(f"r{i}", "same words here") for i in range(5))
    library = Library((*replies, SavedReply("other", "nothing alike")))
    assert [r.name for r in library.suggest("same words", brand=None, lang=None)] == [
        "r0",
        "r1",
        "r2",
    ]
    assert library.suggest("zzz", brand=None, lang=None) == []
    assert Library(()).suggest("anything", brand=None, lang=None) == []


def test_stemming_meets_plurals_and_endings() -> None:
    for group in (("bougies", "bougie"), ("refunded", "refunds"), ("remboursee", "rembourser")):
        assert len({stem(word) for word in group}) == 1


# --- fuzzy search ----------------------------------------------------------------------------


def test_fuzzy_search_finds_by_letters_in_order_word_starts_first() -> None:
    replies = demo().offered("Maison Lumière")
    found = [r.name for r in fuzzy_filter("livr", replies)]
    assert found[0] == "Délais de livraison"
    assert "Colis en retard ou perdu" not in found[:1]
    assert fuzzy_filter("", replies) == replies
    assert fuzzy_filter("qqqqzz", replies) == []


def test_fuzzy_search_falls_back_on_the_text() -> None:
    replies = [SavedReply("Hours", "We open at ten in rue Mercière")]
    assert fuzzy_filter("mercière", replies) == replies


# --- FAQ import ------------------------------------------------------------------------------

FAQ = """\
# The shop's FAQ
Q: Do you ship to Canada?
Q: Livrez-vous au Canada ?
A: Yes, in 8 to 12 days.
   Customs are on us.

Q: Are the jars recyclable?
A: Yes: glass and a cork lid.
"""


def test_faq_blocks_round_trip_into_the_library(tmp_path: Path) -> None:
    faq = tmp_path / "faq.txt"
    faq.write_text(FAQ, encoding="utf-8")
    library_file = tmp_path / "cfg" / "replies.toml"
    added = import_faq(library_file, faq, brand="Maison Lumière", lang="en")
    assert [r.name for r in added] == ["Do you ship to Canada", "Are the jars recyclable"]
    loaded = load_library(library_file)
    assert loaded.replies == tuple(added)
    assert loaded.replies[0].questions == ("Do you ship to Canada?", "Livrez-vous au Canada ?")
    assert loaded.replies[0].text == "Yes, in 8 to 12 days.\nCustoms are on us."
    assert stat.S_IMODE(library_file.stat().st_mode) == 0o600


def test_an_import_appends_keeping_the_file_and_suffixing_names(tmp_path: Path) -> None:
    library_file = tmp_path / "replies.toml"
    library_file.write_text(
        GOOD.replace('name = "Delivery"', 'name = "Are the jars recyclable"'), encoding="utf-8"
    )
    faq = tmp_path / "faq.txt"
    faq.write_text(FAQ, encoding="utf-8")
    import_faq(library_file, faq, brand="Maison Lumière", lang="en")
    import_faq(library_file, faq, brand="Maison Lumière", lang="en")
    text = library_file.read_text(encoding="utf-8")
    assert text.startswith(GOOD.split("\n", 1)[0])  # the user's comment is still there
    names = [r.name for r in load_library(library_file).replies]
    assert names == [
        "Are the jars recyclable",
        "Livraison",
        "Do you ship to Canada",
        "Are the jars recyclable (2)",
        "Do you ship to Canada (2)",
        "Are the jars recyclable (3)",
    ]


def test_hostile_faq_text_is_written_as_valid_toml(tmp_path: Path) -> None:
    faq = tmp_path / "faq.txt"
    faq.write_text('Q: a """ \\ \x7f\x01 question\nA: "quoted" \\n {{braces}}\n', "utf-8")
    library_file = tmp_path / "replies.toml"
    import_faq(library_file, faq, brand="B")
    (reply,) = load_library(library_file).replies
    assert reply.questions == ('a """ \\ \x7f\x01 question',)
    assert reply.text == '"quoted" \\n {{braces}}'


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("A: an answer\n", 1, "no question before it"),
        ("# c\nhello\nQ: q\nA: a\n", 2, "before the first question"),
        ("Q: one\nA: a\n\nQ: two\n", 4, "no answer"),
        ("Q: one\nA: a\nA: b\n", 3, "second answer"),
        ("Q: one\nA: hi {name}\n", 1, "unknown variable, {name}"),
        ("# only a comment\n", None, "has no question"),
    ],
)
def test_bad_faq_lines_are_named(tmp_path: Path, text: str, line: int | None, words: str) -> None:
    faq = tmp_path / "faq.txt"
    faq.write_text(text, encoding="utf-8")
    library_file = tmp_path / "replies.toml"
    with pytest.raises(LibraryError) as caught:
        import_faq(library_file, faq, brand="B")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{faq}:{line}: " if line else f"{faq}: ")
    assert words in str(caught.value)
    assert not library_file.exists()  # nothing written


def test_a_csv_faq_has_two_columns_and_an_optional_header(tmp_path: Path) -> None:
    faq = tmp_path / "faq.csv"
    faq.write_text('question,answer\n"Gift wrap?","Yes, free."\n\nVegan?,Yes\n', "utf-8")
    entries = parse_faq(faq.read_text(encoding="utf-8"), faq)
    assert [(e.questions, e.answer, e.line) for e in entries] == [
        (("Gift wrap?",), "Yes, free.", 2),
        (("Vegan?",), "Yes", 4),
    ]
    with pytest.raises(LibraryError, match=r"faq.csv:2: 3 columns"):
        parse_faq("q,a\nx,y,z\n", faq)


BROKEN = '[[replies]]\nname = 3\ntext = "t"\n'


def test_an_import_into_a_broken_library_changes_nothing(tmp_path: Path) -> None:
    library_file = tmp_path / "replies.toml"
    library_file.write_text(BROKEN, encoding="utf-8")
    faq = tmp_path / "faq.txt"
    faq.write_text(FAQ, encoding="utf-8")
    with pytest.raises(LibraryError, match=r"replies\.toml:2"):
        import_faq(library_file, faq, brand="B")
    assert library_file.read_text(encoding="utf-8") == BROKEN
