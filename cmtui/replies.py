"""Saved replies: a library the user keeps in a TOML file, filled with variables, ranked for a
message, picked by fuzzy search, and grown by importing a brand's FAQ.

The library lives in `replies.toml` beside the config file (`locations.replies_file`):

```toml
[[replies]]
name = "Lot 42 recall"
brand = "Maison Lumière"          # optional: offered for this brand only
lang = "en"                       # optional: offered for messages in this language only
tags = ["crisis"]                 # optional
questions = ["my candle from lot 42 cracked"]   # optional: what customers ask (ranking)
text = "Hello {first_name}, we are so sorry... {signature}"
```

It is read with the config's rules (`cmtui.config`): a mistake is one `LibraryError` naming the
file, the line and the key. Variables are `{author}`, `{first_name}`, `{brand}` and
`{signature}`; any other `{name}` is an error at load, naming the reply. Filling never reads a
value as a format string, so an author called "{signature}" stays "{signature}".

Suggestions rank the library for a message with BM25 over folded, lightly stemmed words and
their bigrams (stop words dropped), on an index built once when the library loads.
"""

from __future__ import annotations

import csv
import io
import math
import re
import string
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from cmtui import locations
from cmtui.analysis.language import _STOPWORDS, detect_language, fold
from cmtui.config import (
    _LANGUAGE,
    Brand,
    ConfigError,
    _apply,
    _Source,
    _string,
    _strings,
    _syntax_error,
    _table,
    _tables,
    _Where,
)
from cmtui.i18n import N_, _
from cmtui.model import Author
from cmtui.store.storage import atomic_write
from cmtui.text import safe_text

VARIABLES = ("author", "first_name", "brand", "signature")
"""What a saved reply's text may name in braces."""
SUGGESTIONS = 3
MAX_NAME = 48  # characters of a question kept as the name of an imported reply
BM25_K1 = 1.2
BM25_B = 0.75


class LibraryError(ConfigError):
    """A mistake in the saved-replies file or in a FAQ file: file, line, key, what is wrong."""


@dataclass(frozen=True)
class SavedReply:
    """One saved reply, a `[[replies]]` table."""

    name: str
    """What the picker shows and searches, e.g. "Lot 42 recall"."""
    text: str
    """The reply, with `{author}`, `{first_name}`, `{brand}` or `{signature}` in it."""
    brand: str | None = None
    """Offered for this brand's conversations only; unset: for every brand."""
    lang: str | None = None
    """Offered for messages in this language only ("en" or "fr"); unset: for any."""
    tags: tuple[str, ...] = ()
    """Words that help find it (searched and ranked)."""
    questions: tuple[str, ...] = ()
    """What customers ask that this answers, in their words: the ranking reads them."""

    def fits(self, brand: str | None, lang: str | None) -> bool:
        """Whether this reply may answer a message of `brand` in `lang` (None: unknown)."""
        brand_ok = self.brand is None or brand is None or self.brand == brand
        return brand_ok and (self.lang is None or lang is None or self.lang == lang)


@dataclass(frozen=True)
class _File:
    """The whole file: the `replies` array."""

    replies: tuple[SavedReply, ...] = ()


def template_problem(text: str) -> str | None:
    """What is wrong with a reply's text as a template, None if nothing: a variable other
    than `VARIABLES`, or a stray brace (a literal one is written `{{` or `}}`)."""
    try:
        pieces = list(string.Formatter().parse(text))
    except ValueError:
        return _("has an unmatched brace (write {{ or }} for a literal one)")
    for _literal, name, spec, conversion in pieces:
        if name is not None and (name not in VARIABLES or spec or conversion):
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            return _("uses an unknown variable, {variable}").format(variable="{" + shown + "}")
    return None


def _variables_expected() -> str:
    return _("variables among {names}, braces doubled elsewhere").format(
        names=", ".join("{" + name + "}" for name in VARIABLES)
    )


def _check_reply(reply: SavedReply, where: _Where) -> None:
    if (problem := template_problem(reply.text)) is not None:
        named = _("reply {name!r} {problem}").format(name=reply.name, problem=problem)
        raise where.child("text").error(named, _variables_expected())


def _check_file(library: _File, where: _Where) -> None:
    """Names unique within each brand and language, so that a name picks one reply."""
    seen: dict[tuple[str | None, str | None, str], int] = {}
    for index, reply in enumerate(library.replies):
        first = seen.setdefault((reply.brand, reply.lang, reply.name), index)
        if first != index:
            problem = _("{name!r} is already the name of replies[{first}]").format(
                name=reply.name, first=first
            )
            expected = _("a name unique among the replies of its brand and language")
            raise where.child("replies").child(index).child("name").error(problem, expected)


_REPLY = _table(
    SavedReply,
    {
        "name": _string(),
        "text": _string(),
        "brand": _string(),
        "lang": _LANGUAGE,
        "tags": _strings(),
        "questions": _strings(),
    },
    check=_check_reply,
)
_LIBRARY = _table(_File, {"replies": _tables(_REPLY)}, check=_check_file)


def parse_library(text: str, *, path: Path, brands: Sequence[str] | None = None) -> Library:
    """Validate TOML `text` read from `path` (named in errors) into a `Library`.

    With `brands`, a reply naming another brand is an error (it would never be offered).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _as_library_error(_syntax_error(path, str(exc), text)) from None
    except RecursionError:
        raise _as_library_error(_syntax_error(path, "arrays nested too deeply", text)) from None
    where = _Where(_Source(path, text), ())
    try:
        parsed: _File = _apply(_LIBRARY, data, where)
        if brands is not None:
            _check_brands(parsed.replies, brands, where)
    except ConfigError as error:
        raise _as_library_error(error) from None
    return Library(parsed.replies, path=path)


def _check_brands(replies: Sequence[SavedReply], brands: Sequence[str], where: _Where) -> None:
    declared = ", ".join(brands) or _("(none)")
    for index, reply in enumerate(replies):
        if reply.brand is not None and reply.brand not in brands:
            problem = _("names no declared brand ({brand!r})").format(brand=reply.brand)
            expected = _("one of the config's brands: {names}, or no brand").format(names=declared)
            raise where.child("replies").child(index).child("brand").error(problem, expected)


def _as_library_error(error: ConfigError) -> LibraryError:
    return LibraryError(error.file, error.problem, error.expected, key=error.key, line=error.line)


def load_library(path: Path, *, brands: Sequence[str] | None = None) -> Library:
    """Read the library at `path`; a missing file is an empty library."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return Library((), path=path)
    except UnicodeDecodeError as exc:
        problem = _("byte {start} is not UTF-8").format(start=exc.start)
        raise LibraryError(path, problem, _("a UTF-8 text file")) from None
    except OSError as exc:
        problem = _("cannot be read ({reason})").format(reason=exc.strerror)
        raise LibraryError(path, problem, _("a readable file")) from None
    return parse_library(text, path=path, brands=brands)


def library_path(config_path: Path | None) -> Path:
    """Where the saved replies of the config at `config_path` are kept: beside it."""
    return (config_path or locations.config_file()).parent / "replies.toml"


DEMO_LIBRARY = Path(__file__).parent / "sandbox" / "replies.toml"
"""The sandbox brand's saved replies, which `--demo` offers."""


# --- filling -------------------------------------------------------------------------------

_NAME_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*")


def first_name(author: Author) -> str:
    """What "Hello {first_name}" calls the author: the first word of their display name
    ("Zoé 🕯️ Garnier" -> "Zoé"), else their handle as a reply addresses them."""
    name = safe_text(author.display_name, max_chars=200, single_line=True)
    match = _NAME_WORD.search(name)
    if match:
        return match[0]
    return safe_text(author.addressed_as, max_chars=200, single_line=True)


def variables(author: Author, brand: Brand) -> dict[str, str]:
    """The values of a reply's variables for a message by `author` to `brand`."""
    shown = safe_text(author.display_name or author.addressed_as, max_chars=200, single_line=True)
    return {
        "author": shown,
        "first_name": first_name(author),
        "brand": brand.name,
        "signature": brand.signature,
    }


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each `{variable}` replaced by its value, verbatim: a value is never read
    as a template itself. `text` is a checked template (`template_problem`)."""
    parts: list[str] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(text):
        parts.append(literal)
        if name is not None:
            parts.append(values.get(name, ""))
    return "".join(parts)


# --- ranking -------------------------------------------------------------------------------

_TERM = re.compile(r"[^\W_]+")
_PLURAL = re.compile(r"(?<=...)(?<!s)[sx]$")
_SUFFIXES = ("ements", "ement", "ations", "ation", "ing", "ie", "ee", "ed", "er", "ez", "e", "y")
_MIN_STEM = 3
_GREETINGS = "hi hello hey dear bonjour salut coucou bonsoir hello svp stp please thank thanks"
STOPWORDS = frozenset(
    fold(word).replace("’", "'")
    for word in (*_STOPWORDS["en"], *_STOPWORDS["fr"], *_GREETINGS.split())
)
"""English and French words that say nothing of what a message is about (the language
detector's lists, and greetings), folded."""


def stem(word: str) -> str:
    """A folded word without its plural and one common ending: "bougies" and "bougie",
    "refunded" and "refunds", "remboursée" and "rembourser" meet."""
    if word.isdigit():
        return word
    word = _PLURAL.sub("", word)
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    """The terms a text is ranked on: stems of its words that are not stop words, and the
    bigrams of neighbouring ones ("lot 42" is one more term, "lot_42")."""
    words = _TERM.findall(fold(text))  # apostrophes split words like any other non-letter
    kept = [stem(w) for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return kept + [f"{a}_{b}" for a, b in pairwise(kept)]


@dataclass(frozen=True)
class _Index:
    """BM25 statistics of the library, one document per reply."""

    frequencies: tuple[Counter[str], ...]
    lengths: tuple[int, ...]
    idf: Mapping[str, float]
    average: float

    @classmethod
    def of(cls, documents: Sequence[list[str]]) -> _Index:
        frequencies = tuple(Counter(doc) for doc in documents)
        holders = Counter(term for counts in frequencies for term in counts)
        total = len(documents)
        idf = {t: math.log(1 + (total - n + 0.5) / (n + 0.5)) for t, n in holders.items()}
        lengths = tuple(len(doc) for doc in documents)
        return cls(frequencies, lengths, idf, sum(lengths) / total if total else 0.0)

    def score(self, query: Iterable[str], document: int) -> float:
        counts = self.frequencies[document]
        norm = BM25_K1 * (1 - BM25_B + BM25_B * self.lengths[document] / (self.average or 1))
        total = 0.0
        for term in query:
            found = counts.get(term, 0)
            if found:
                total += self.idf[term] * found * (BM25_K1 + 1) / (found + norm)
        return total


def _document(reply: SavedReply) -> list[str]:
    """What a reply is ranked on: its name, tags, example questions and text. (Counting the
    questions twice, or alone, measured no better in bench/suggest.py.)"""
    return terms(" . ".join((reply.name, *reply.tags, *reply.questions, reply.text)))


@dataclass
class Library:
    """The saved replies, in file order, with their ranking index (built once, here)."""

    replies: tuple[SavedReply, ...]
    path: Path | None = None
    _index: _Index = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = _Index.of([_document(reply) for reply in self.replies])

    def offered(self, brand: str | None, lang: str | None = None) -> list[SavedReply]:
        """The replies that may answer a message of `brand` in `lang`, in file order."""
        return [reply for reply in self.replies if reply.fits(brand, lang)]

    def suggest(
        self, text: str, *, brand: str | None, lang: str | None, limit: int = SUGGESTIONS
    ) -> list[SavedReply]:
        """The `limit` replies that best match a message, best first; only those sharing a
        term with it, for its brand and language (or none); ties in file order."""
        query = set(terms(text))
        scored = [
            (score, index)
            for index, reply in enumerate(self.replies)
            if reply.fits(brand, lang) and (score := self._index.score(query, index)) > 0
        ]
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return [self.replies[index] for _score, index in scored[:limit]]


def message_language(text: str, hint: str | None, brand: Brand) -> str | None:
    """The language a message is answered in: the network's hint or its words, else the
    brand's usual one."""
    return detect_language(text, hint, brand.language)


# --- fuzzy search --------------------------------------------------------------------------


def fuzzy_score(query: str, candidate: str) -> int | None:
    """How well `query` matches `candidate` as the picker filters: None when its letters do
    not all appear in order; else higher for the query as a whole word start, then as a
    substring, then for letters at word starts and in a row. Case and accents do not count
    ("livr" finds "Délais de livraison" before "Delivery times")."""
    needle = fold(query).strip()
    hay = fold(candidate)
    if not needle:
        return 0
    if re.search(rf"(?<![^\W_]){re.escape(needle)}", hay):
        return 1000 - len(hay)
    if needle in hay:
        return 500 - len(hay)
    score = 0
    position = 0
    previous = -2
    for char in needle.replace(" ", ""):
        found = hay.find(char, position)
        if found < 0:
            return None
        score += 1
        if found == previous + 1:
            score += 2  # in a row
        if found == 0 or not hay[found - 1].isalnum():
            score += 3  # at a word start
        previous, position = found, found + 1
    return score


def fuzzy_filter(query: str, replies: Sequence[SavedReply]) -> list[SavedReply]:
    """The replies `query` matches, by name (`fuzzy_score`) or else by a piece of their text
    or tags, best first: every name match before any text match, ties in the given order."""
    needle = fold(query).strip()
    scored: list[tuple[int, int, SavedReply]] = []
    for index, reply in enumerate(replies):
        score = fuzzy_score(query, reply.name)
        if score is not None:
            scored.append((max(score, 1), index, reply))
        elif needle in fold(f"{reply.text} {' '.join(reply.tags)}"):
            scored.append((0, index, reply))
    scored.sort(key=lambda entry: (-entry[0], entry[1]))
    return [reply for _score, _index, reply in scored]


# --- FAQ import ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FaqEntry:
    """One question/answer pair of a FAQ file (several questions may share an answer)."""

    questions: tuple[str, ...]
    answer: str
    line: int  # where its first question is


_FAQ_EXPECTED = N_('lines starting with "Q:" (a question) then "A:" (its answer)')


def parse_faq(text: str, path: Path) -> list[FaqEntry]:
    """Read a FAQ: `Q: ...` lines, each group followed by one `A: ...`; lines that start
    with neither continue the line above; blank lines and `#` comments are skipped.
    A `.csv` file instead has two columns, question and answer (a header row is skipped)."""
    if path.suffix.lower() == ".csv":
        return _parse_faq_csv(text, path)
    entries: list[FaqEntry] = []
    questions: list[str] = []
    answer: list[str] | None = None
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        tag, colon, rest = line.partition(":")
        tag = tag.strip().upper()
        if tag == "Q" and colon:
            if answer is not None:
                entries.append(_faq_entry(questions, answer, start, path))
                questions, answer = [], None
            start = start if questions else number
            questions.append(rest.strip())
        elif tag in ("A", "R") and colon:  # "R:" for the French "Réponse"
            if not questions:
                raise LibraryError(
                    path, _("an answer with no question before it"), _(_FAQ_EXPECTED), line=number
                )
            if answer is not None:
                raise LibraryError(
                    path, _("a second answer to the same question"), _(_FAQ_EXPECTED), line=number
                )
            answer = [rest.strip()]
        elif answer is not None:
            answer.append(line)
        elif questions:
            questions[-1] = f"{questions[-1]} {line}"
        else:
            raise LibraryError(
                path, _("text before the first question"), _(_FAQ_EXPECTED), line=number
            )
    if questions:
        entries.append(_faq_entry(questions, answer, start, path))
    return entries


def _faq_entry(questions: list[str], answer: list[str] | None, line: int, path: Path) -> FaqEntry:
    text = "\n".join(answer or []).strip()
    if not text:
        raise LibraryError(path, _("a question with no answer"), _(_FAQ_EXPECTED), line=line)
    if not all(questions):
        raise LibraryError(path, _("an empty question"), _(_FAQ_EXPECTED), line=line)
    return FaqEntry(tuple(questions), text, line)


def _parse_faq_csv(text: str, path: Path) -> list[FaqEntry]:
    expected = _("two columns: question, answer")
    entries: list[FaqEntry] = []
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != 2:
                raise LibraryError(
                    path, _("{count} columns").format(count=len(row)), expected, line=line
                )
            question, answer = (cell.strip() for cell in row)
            if (
                not entries
                and fold(question) in ("question", "q")
                and fold(answer) in ("answer", "reponse", "a", "r")
            ):
                continue  # the header row
            entries.append(_faq_entry([question], [answer], line, path))
    except csv.Error as exc:
        raise LibraryError(path, str(exc), expected, line=reader.line_num) from None
    return entries


def reply_name(question: str, taken: set[str]) -> str:
    """A name for a reply imported from `question`: its start, cut at a word, unique among
    `taken` (with " (2)", " (3)"... when needed)."""
    base = " ".join(question.split()).rstrip(" ?!.")
    if len(base) > MAX_NAME:
        base = base[:MAX_NAME].rsplit(" ", 1)[0] + "…"
    name, count = base, 1
    while name in taken:
        count += 1
        name = f"{base} ({count})"
    return name


def toml_string(value: str) -> str:
    """`value` as a TOML basic string (every control character escaped)."""
    out = ['"']
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def render_reply(reply: SavedReply) -> str:
    """One `[[replies]]` table, in TOML."""
    lines = ["[[replies]]", f"name = {toml_string(reply.name)}"]
    if reply.brand is not None:
        lines.append(f"brand = {toml_string(reply.brand)}")
    if reply.lang is not None:
        lines.append(f"lang = {toml_string(reply.lang)}")
    if reply.tags:
        lines.append(f"tags = [{', '.join(map(toml_string, reply.tags))}]")
    if reply.questions:
        lines.append(f"questions = [{', '.join(map(toml_string, reply.questions))}]")
    lines.append(f"text = {toml_string(reply.text)}")
    return "\n".join(lines) + "\n"


def import_faq(
    library_file: Path,
    faq_file: Path,
    *,
    brand: str,
    lang: str | None = None,
    brands: Sequence[str] | None = None,
) -> list[SavedReply]:
    """Append the FAQ's pairs to the library file as replies of `brand` (and `lang`); the
    file's own text, comments included, is kept. Written atomically, and only when the
    result loads; returns the replies added. Raises LibraryError (naming the file and line)
    on a bad FAQ or library, OSError-free: a write failure is a StoreWriteError."""
    try:
        faq_text = faq_file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise LibraryError(
            faq_file,
            _("cannot be read ({reason})").format(reason=reason),
            _("a readable UTF-8 text file"),
        ) from None
    entries = parse_faq(faq_text, faq_file)
    if not entries:
        raise LibraryError(faq_file, _("has no question"), _(_FAQ_EXPECTED))
    current = load_library(library_file, brands=brands)
    taken = {r.name for r in current.replies if r.brand == brand and r.lang == lang}
    added: list[SavedReply] = []
    for entry in entries:
        if (problem := template_problem(entry.answer)) is not None:
            problem = _("its answer {problem}").format(problem=problem)
            raise LibraryError(faq_file, problem, _variables_expected(), line=entry.line)
        name = reply_name(entry.questions[0], taken)
        taken.add(name)
        added.append(
            SavedReply(name, entry.answer, brand=brand, lang=lang, questions=entry.questions)
        )
    existing = library_file.read_text(encoding="utf-8-sig") if library_file.exists() else ""
    separator = (
        ""
        if not existing or existing.endswith("\n\n")
        else ("\n" if existing.endswith("\n") else "\n\n")
    )
    shown = safe_text(faq_file.name, max_chars=200, single_line=True)
    header = f"# {_('Imported from {file}').format(file=shown)}\n"
    combined = existing + separator + header + "\n".join(render_reply(r) for r in added)
    # Never write a file that would not load.
    parse_library(combined, path=library_file, brands=brands)
    locations.ensure_private_dir(library_file.parent)
    atomic_write(library_file, combined.encode("utf-8"))
    return added
