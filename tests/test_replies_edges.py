"""Saved replies at their edges: every error's whole message (file, line, key, what was
expected), the BM25 arithmetic, fuzzy scores to the point, FAQ and CSV parsing corners, names
cut and numbered on import, and where an import puts its text in the library file."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cmtui.config import Brand
from cmtui.model import Author
from cmtui.replies import (
    Library,
    LibraryError,
    SavedReply,
    _Index,
    fill,
    first_name,
    fuzzy_filter,
    fuzzy_score,
    import_faq,
    load_library,
    message_language,
    parse_faq,
    parse_library,
    render_reply,
    reply_name,
    stem,
    template_problem,
    terms,
    toml_string,
    variables,
)

PATH = Path("/home/lea/.config/cmtui/replies.toml")
EXPECTED_VARIABLES = "variables among {author}, {first_name}, {brand}, {signature}, braces doubled"
FAQ_EXPECTED = 'lines starting with "Q:" (a question) then "A:" (its answer)'
TOML_EXPECTED = 'valid TOML such as key = "value"'


def library_error(text: str, brands: list[str] | None = None) -> LibraryError:
    with pytest.raises(LibraryError) as caught:
        parse_library(text, path=PATH, brands=brands)
    return caught.value


def faq_error(text: str, name: str = "faq.txt") -> LibraryError:
    with pytest.raises(LibraryError) as caught:
        parse_faq(text, Path(name))
    return caught.value


# --- the library file: whole messages ---------------------------------------------------------


def test_a_stray_brace_is_told_how_to_write_a_literal_one() -> None:
    assert template_problem("a { b") == (
        "has an unmatched brace (write {{ or }} for a literal one)"
    )


def test_an_unknown_variable_says_which_variables_exist() -> None:
    error = library_error('[[replies]]\nname = "x"\ntext = "Hi {nom}"\n')
    assert str(error) == (
        f"{PATH}:3: replies[0].text: reply 'x' uses an unknown variable, {{nom}}; "
        f"expected {EXPECTED_VARIABLES} elsewhere"
    )


def test_a_duplicate_name_names_the_reply_it_repeats() -> None:
    text = (
        '[[replies]]\nname = "a"\ntext = "1"\n\n[[replies]]\nname = "x"\ntext = "2"\n\n'
        '[[replies]]\nname = "x"\ntext = "3"\n'
    )
    assert str(library_error(text)) == (
        f"{PATH}:10: replies[2].name: 'x' is already the name of replies[1]; "
        "expected a name unique among the replies of its brand and language"
    )


def test_a_syntax_error_names_the_file_and_the_line() -> None:
    error = library_error('[[replies]]\nname = "x"\ntext = oops\n')
    assert (error.file, error.line) == (PATH, 3)


def test_a_syntax_error_at_the_end_is_on_the_last_line() -> None:
    error = library_error('[[replies]]\nname = "x"\ntext = "unclosed\n\n')
    assert error.line is not None
    end = library_error('[[replies]]\nname = "x"\ntext = [1,\n')
    assert (end.file, end.line) == (PATH, 3)
    assert str(end).startswith(f"{PATH}:3: invalid TOML at the end of the file: ")


def test_arrays_nested_too_deeply_are_a_library_error_not_a_crash() -> None:
    error = library_error("x = " + "[" * 100_000)
    assert str(error) == (
        f"{PATH}: invalid TOML (arrays nested too deeply); expected {TOML_EXPECTED}"
    )


def test_a_parsed_library_knows_its_file() -> None:
    assert parse_library("", path=PATH).path == PATH


@pytest.mark.parametrize(("brands", "declared"), [([], "(none)"), (["Acme", "Zeta"], "Acme, Zeta")])
def test_an_undeclared_brand_lists_the_declared_ones(brands: list[str], declared: str) -> None:
    error = library_error('[[replies]]\nname = "x"\ntext = "t"\nbrand = "Maison"\n', brands)
    assert str(error) == (
        f"{PATH}:4: replies[0].brand: names no declared brand ('Maison'); "
        f"expected one of the config's brands: {declared}, or no brand"
    )


# --- loading the file -------------------------------------------------------------------------


def test_a_missing_file_is_an_empty_library_of_that_file(tmp_path: Path) -> None:
    path = tmp_path / "replies.toml"
    assert load_library(path).path == path


def test_a_file_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "replies.toml"
    path.write_bytes('\ufeff[[replies]]\nname = "x"\ntext = "t"\n'.encode())
    assert [r.name for r in load_library(path).replies] == ["x"]


def test_a_file_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "replies.toml"
    path.write_bytes(b'[[replies]]\nname = "\xff"\n')
    with pytest.raises(LibraryError) as caught:
        load_library(path)
    assert str(caught.value) == f"{path}: byte 20 is not UTF-8; expected a UTF-8 text file"


def test_a_file_that_cannot_be_read_says_why(tmp_path: Path) -> None:
    path = tmp_path / "replies.toml"
    path.mkdir()
    with pytest.raises(LibraryError) as caught:
        load_library(path)
    assert str(caught.value) == f"{path}: cannot be read (Is a directory); expected a readable file"
    assert caught.value.file == path


def test_loading_checks_the_brands(tmp_path: Path) -> None:
    path = tmp_path / "replies.toml"
    path.write_text('[[replies]]\nname = "x"\ntext = "t"\nbrand = "Other"\n', "utf-8")
    with pytest.raises(LibraryError, match="names no declared brand"):
        load_library(path, brands=["Acme"])


# --- filling ----------------------------------------------------------------------------------


def test_a_very_long_first_name_is_cut_like_any_display_name() -> None:
    name = first_name(Author(handle="@h", display_name="a" * 250 + " Garnier"))
    assert name == "a" * 188  # 200 graphemes, the last of them the "…[truncated]" mark


def test_a_display_name_padded_with_spaces_still_gives_its_first_word() -> None:
    # Trimmed before the cut at 200: the padding does not push the name out of it.
    assert first_name(Author(handle="@z", display_name=" " * 300 + "Zoé")) == "Zoé"
    assert first_name(Author(handle="@z", display_name="\t" * 300 + "Zoé")) == "Zoé"


def test_a_handle_on_two_lines_is_addressed_on_one() -> None:
    assert first_name(Author(handle="@a\nb", display_name="")) == "@a b"
    assert first_name(Author(handle="@" + "h" * 300, display_name="")) == (
        "@" + "h" * 187 + "…[truncated]"
    )


def test_the_author_variable_is_one_line_cut_at_200() -> None:
    brand = Brand(name="B")
    assert variables(Author(handle="@a", display_name="Zoé\nGarnier"), brand)["author"] == (
        "Zoé Garnier"
    )
    long = variables(Author(handle="@a", display_name="z" * 300), brand)["author"]
    assert long == "z" * 188 + "…[truncated]"


def test_a_variable_without_a_value_is_left_empty() -> None:
    assert fill("Hi {author}, {brand}!", {"brand": "B"}) == "Hi , B!"


# --- ranking ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [("wonderful", "wonderful"), ("bed", "bed"), ("boxed", "box"), ("red", "red")],
)
def test_an_ending_is_cut_only_when_a_stem_of_three_letters_is_left(
    word: str, stemmed: str
) -> None:
    assert stem(word) == stemmed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("l'envoi", ["envoi"]),
        ("l’envoi", ["envoi"]),
        ("hello the refund", ["refund"]),
        ("x refund", ["refund"]),
        ("zz refund", ["zz", "refund", "zz_refund"]),
        ("lot 42", ["lot", "42", "lot_42"]),
    ],
)
def test_terms_drop_stop_words_and_single_letters(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


def bm25(documents: list[list[str]], query: set[str], index: int) -> float:
    """The textbook BM25 (k1 1.2, b 0.75, idf with +1 inside the log), written out."""
    average = sum(map(len, documents)) / len(documents)
    doc = documents[index]
    total = 0.0
    for term in query:
        holders = sum(term in d for d in documents)
        found = doc.count(term)
        if not found:
            continue
        idf = math.log(1 + (len(documents) - holders + 0.5) / (holders + 0.5))
        norm = 1.2 * (1 - 0.75 + 0.75 * len(doc) / average)
        total += idf * found * 2.2 / (found + norm)
    return total


def test_the_index_scores_bm25() -> None:
    documents = [["lot", "candl"], ["lot"], ["wick", "wick", "lot", "smoke", "candl"], ["box"]]
    index = _Index.of(documents)
    assert index.average == 2.25
    assert index.idf["lot"] == pytest.approx(math.log(1 + 1.5 / 3.5))
    for query in ({"lot"}, {"wick", "candl"}, {"candl", "lot", "box"}, {"smoke", "wick"}):
        for document in range(len(documents)):
            assert index.score(query, document) == pytest.approx(
                bm25(documents, query, document)
            ), (query, document)
    assert index.score({"absent"}, 0) == 0.0


def test_an_empty_library_has_an_average_length_of_zero() -> None:
    assert _Index.of([]).average == 0.0


def test_offered_keeps_to_the_language() -> None:
    library = Library((SavedReply("en", "t", lang="en"), SavedReply("fr", "t", lang="fr")))
    assert [r.name for r in library.offered(None, "fr")] == ["fr"]


def test_the_language_of_a_message_is_the_hint_its_words_or_the_brands() -> None:
    brand = Brand(name="B", language="fr")
    # The network's hint wins over the words (it knew the author's setting).
    assert message_language(
        "Ma bougie est arrivée cassée, la cire est partout", "en-GB", brand
    ) == ("en")
    assert message_language("The candle arrived broken and the wax is everywhere", None, brand) == (
        "en"
    )
    assert message_language("top", None, brand) == "fr"


# --- fuzzy search -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "candidate", "score"),
    [
        ("", "Delivery", 0),
        ("  ", "Delivery", 0),
        ("del", "Delivery times", 1000 - 14),
        ("tim", "Delivery times", 1000 - 14),
        ("liv", "Delivery", 500 - 8),
        # letters in order: 1 each, +2 right after the previous, +3 at a word start
        ("dt", "Delivery times", 4 + 4),
        ("d t", "Delivery times", 4 + 4),
        ("iy", "Delivery", 1 + 1),
        ("dei", "Delivery", 4 + 3 + 1),
        ("abd", "abcd", 4 + 3 + 1),
        ("ds", "d-s xs", 4 + 4),
        ("ba", "ab", None),
        ("dz", "Delivery", None),
    ],
)
def test_fuzzy_scores(query: str, candidate: str, score: int | None) -> None:
    assert fuzzy_score(query, candidate) == score


def test_every_name_match_comes_before_any_text_match() -> None:
    # A name that long scores under 1 and counts as 1: still above a match in the text.
    in_text = SavedReply("Hours", "open at ten")
    long_name = SavedReply("ten" + "y" * 1200, "no")
    assert fuzzy_filter("ten", [in_text, long_name]) == [long_name, in_text]


def test_a_name_one_character_shorter_ranks_first() -> None:
    longer, shorter = SavedReply("x" + "y" * 998, "a"), SavedReply("x" + "y" * 997, "b")
    assert fuzzy_filter("x", [longer, shorter]) == [shorter, longer]


def test_the_text_fallback_reads_the_tags_as_words() -> None:
    reply = SavedReply("Other", "nothing", tags=("gift", "wrap"))
    assert fuzzy_filter("gift wrap", [reply]) == [reply]


# --- FAQ files --------------------------------------------------------------------------------


def test_each_entry_has_the_line_of_its_first_question() -> None:
    text = "Q: one\nQ: one again\nA: a\n\nQ: two\nA: b\n"
    entries = parse_faq(text, Path("faq.txt"))
    assert [(e.questions, e.answer, e.line) for e in entries] == [
        (("one", "one again"), "a", 1),
        (("two",), "b", 5),
    ]


def test_lines_with_a_colon_continue_the_line_above() -> None:
    text = "Q: one\nQ: two\nQ: three\nnote: more\nA: first\nsee: here\nR: no\n"
    with pytest.raises(LibraryError, match="a second answer"):
        parse_faq(text, Path("faq.txt"))
    (entry,) = parse_faq(text.removesuffix("R: no\n"), Path("faq.txt"))
    assert entry.questions == ("one", "two", "three note: more")
    assert entry.answer == "first\nsee: here"


def test_r_is_the_french_answer() -> None:
    (entry,) = parse_faq("q : Livrez-vous ?\nr : Oui.\n", Path("faq.txt"))
    assert (entry.questions, entry.answer) == (("Livrez-vous ?",), "Oui.")


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("A: an answer\n", 1, "an answer with no question before it"),
        ("Q: one\nA: a\nA: b\n", 3, "a second answer to the same question"),
        ("# c\nhello\n", 2, "text before the first question"),
        ("Q: one\nQ: two\n", 1, "a question with no answer"),
        ("Q: one\nA:  \n", 1, "a question with no answer"),
        ("Q: one\nQ:\nA: a\n", 1, "an empty question"),
    ],
)
def test_a_bad_faq_line_is_named_whole(text: str, line: int, problem: str) -> None:
    error = faq_error(text)
    assert str(error) == f"faq.txt:{line}: {problem}; expected {FAQ_EXPECTED}"
    assert (error.file, error.line) == (Path("faq.txt"), line)


def test_an_empty_question_after_a_good_entry_names_the_file() -> None:
    error = faq_error("Q:\nA: a\nQ: two\nA: b\n")
    assert (error.file, error.line, error.problem) == (Path("faq.txt"), 1, "an empty question")


@pytest.mark.parametrize(
    "header",
    ["question,answer", "Question,Réponse", "Q,A", "q,r", " QUESTION , ANSWER "],
)
def test_a_csv_header_row_is_skipped(header: str) -> None:
    entries = parse_faq(f"{header}\nVegan?,Yes\n", Path("faq.csv"))
    assert [(e.questions, e.answer) for e in entries] == [(("Vegan?",), "Yes")]


def test_a_header_needs_both_of_its_cells() -> None:
    entries = parse_faq("Vegan?,A\nQ,Yes\n", Path("FAQ.CSV"))
    assert [(e.questions, e.answer) for e in entries] == [(("Vegan?",), "A"), (("Q",), "Yes")]


def test_a_csv_row_of_the_wrong_width_is_named_whole() -> None:
    error = faq_error("Vegan?,Yes\nx,y,z\n", "faq.csv")
    assert str(error) == "faq.csv:2: 3 columns; expected two columns: question, answer"


def test_a_csv_question_without_its_answer_names_the_file() -> None:
    error = faq_error("Vegan?,Yes\nGift wrap?,\n", "faq.csv")
    assert (error.file, error.line, error.problem) == (
        Path("faq.csv"),
        2,
        "a question with no answer",
    )


def test_a_csv_field_over_the_limit_is_a_library_error() -> None:
    error = faq_error('Vegan?,Yes\n"' + "x" * 200_000 + '",y\n', "faq.csv")
    assert (error.file, error.line) == (Path("faq.csv"), 2)
    assert str(error) == (
        "faq.csv:2: field larger than field limit (131072); expected two columns: question, answer"
    )


# --- names and TOML of imported replies -------------------------------------------------------


def test_a_name_drops_the_final_punctuation_only() -> None:
    assert reply_name("Do you  ship a BOX ?!.", set()) == "Do you ship a BOX"


def test_a_long_question_is_cut_at_a_word() -> None:
    question = "Is it possible to change the address of an order that has already shipped?"
    assert reply_name(question, set()) == "Is it possible to change the address of an…"
    exact = "x" * 48
    assert reply_name(exact, set()) == exact
    assert reply_name(exact + "y", set()) == exact + "…"  # no space to cut at: cut there


def test_a_taken_name_is_numbered() -> None:
    assert reply_name("Hours", {"Hours", "Hours (2)"}) == "Hours (3)"


def test_toml_strings_escape_exactly_what_they_must() -> None:
    assert toml_string('X"\\') == '"X\\"\\\\"'
    assert toml_string("a\nb\tc d\x01\x7f") == '"a\\nb\\tc d\\u0001\\u007f"'


def test_a_reply_renders_its_tags() -> None:
    reply = SavedReply("n", "t", tags=("a", 'b"'))
    assert render_reply(reply) == '[[replies]]\nname = "n"\ntags = ["a", "b\\""]\ntext = "t"\n'


# --- importing a FAQ --------------------------------------------------------------------------

FAQ = "Q: Do you ship?\nA: Yes.\n"


def write_faq(tmp_path: Path, text: str = FAQ, name: str = "faq.txt") -> Path:
    faq = tmp_path / name
    faq.write_text(text, encoding="utf-8")
    return faq


def import_error(library_file: Path, faq: Path, **kwargs: object) -> LibraryError:
    with pytest.raises(LibraryError) as caught:
        import_faq(library_file, faq, brand="B", **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_a_faq_with_a_byte_order_mark_imports(tmp_path: Path) -> None:
    faq = tmp_path / "faq.txt"
    faq.write_bytes(("\ufeff" + FAQ).encode())
    (reply,) = import_faq(tmp_path / "replies.toml", faq, brand="B")
    assert reply.questions == ("Do you ship?",)


def test_a_missing_faq_says_why_it_cannot_be_read(tmp_path: Path) -> None:
    faq = tmp_path / "faq.txt"
    assert str(import_error(tmp_path / "replies.toml", faq)) == (
        f"{faq}: cannot be read (No such file or directory); expected a readable UTF-8 text file"
    )


def test_a_faq_that_is_not_utf8_says_where(tmp_path: Path) -> None:
    faq = tmp_path / "faq.txt"
    faq.write_bytes(b"Q: \xff\n")
    assert str(import_error(tmp_path / "replies.toml", faq)) == (
        f"{faq}: cannot be read ('utf-8' codec can't decode byte 0xff in position 3: invalid"
        " start byte); expected a readable UTF-8 text file"
    )


def test_a_faq_without_questions_is_named_whole(tmp_path: Path) -> None:
    faq = write_faq(tmp_path, "# nothing yet\n")
    assert str(import_error(tmp_path / "replies.toml", faq)) == (
        f"{faq}: has no question; expected {FAQ_EXPECTED}"
    )


def test_an_answer_with_an_unknown_variable_is_named_whole(tmp_path: Path) -> None:
    faq = write_faq(tmp_path, FAQ + "\nQ: Name?\nA: Hi {nom}\n")
    assert str(import_error(tmp_path / "replies.toml", faq)) == (
        f"{faq}:4: its answer uses an unknown variable, {{nom}}; "
        f"expected {EXPECTED_VARIABLES} elsewhere"
    )


def test_an_import_for_an_undeclared_brand_writes_nothing(tmp_path: Path) -> None:
    library_file = tmp_path / "replies.toml"
    error = import_error(library_file, write_faq(tmp_path), brands=["Acme"])
    assert error.file == library_file
    assert error.key == "replies[0].brand"
    assert not library_file.exists()


def test_names_are_numbered_within_the_brand_and_language_only(tmp_path: Path) -> None:
    library_file = tmp_path / "replies.toml"
    faq = write_faq(tmp_path, FAQ + "\nQ: Do you ship?\nA: Still yes.\n")
    first = import_faq(library_file, faq, brand="B", lang="en")
    assert [r.name for r in first] == ["Do you ship", "Do you ship (2)"]
    again = import_faq(library_file, write_faq(tmp_path), brand="B", lang="fr")
    assert [r.name for r in again] == ["Do you ship"]


def test_an_import_into_a_library_with_a_byte_order_mark(tmp_path: Path) -> None:
    library_file = tmp_path / "replies.toml"
    library_file.write_bytes('\ufeff[[replies]]\nname = "x"\ntext = "t"\n'.encode())
    import_faq(library_file, write_faq(tmp_path), brand="B")
    assert [r.name for r in load_library(library_file).replies] == ["x", "Do you ship"]


IMPORTED = '# Imported from faq.txt\n[[replies]]\nname = "Do you ship"\nbrand = "B"\n'


@pytest.mark.parametrize(
    ("existing", "separator"),
    [
        (None, ""),
        ("", ""),
        ("# mine\n\n", ""),
        ("# mine\n", "\n"),
        ("# mine", "\n\n"),
    ],
)
def test_an_import_is_set_apart_by_one_blank_line(
    tmp_path: Path, existing: str | None, separator: str
) -> None:
    library_file = tmp_path / "replies.toml"
    if existing is not None:
        library_file.write_text(existing, encoding="utf-8")
    import_faq(library_file, write_faq(tmp_path), brand="B")
    written = library_file.read_text(encoding="utf-8")
    expected = (existing or "") + separator + IMPORTED
    assert written == expected + 'questions = ["Do you ship?"]\ntext = "Yes."\n'


def test_the_import_comment_names_the_faq_on_one_line(tmp_path: Path) -> None:
    library_file = tmp_path / "replies.toml"
    import_faq(library_file, write_faq(tmp_path, name="faq\nof 2026.txt"), brand="B")
    text = library_file.read_text(encoding="utf-8")
    assert text.startswith("# Imported from faq of 2026.txt\n[[replies]]\n")


def test_a_long_faq_file_name_is_cut_in_the_comment(tmp_path: Path) -> None:
    library_file = tmp_path / "replies.toml"
    import_faq(library_file, write_faq(tmp_path, name="f" * 240 + ".txt"), brand="B")
    first_line = library_file.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# Imported from " + "f" * 188 + "…[truncated]"
