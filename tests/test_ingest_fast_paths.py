"""Ingest's fast paths give what the straightforward code they replace gives (bench/sync.py
measures how much faster): on many generated inputs, hostile Unicode included."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmtui.analysis.sentiment import SentimentAnalyzer
from cmtui.model import Author, Conversation, Kind, Message, Platform, copied
from cmtui.store.index import fold, text_words, words_of
from cmtui.sync.analyst import read_item

# Letters with accents and marks, ligatures, fullwidth forms, invisibles, emoji, line breaks.
_HOSTILE = st.text(
    st.sampled_from(
        [
            *"aZé É\u0301\u200b\u00adœﬁＡ１_'’-\n\r\t.!?#@",
            *("\U0001f600", "\U0001d173", "\U000e0041", "\u0345", "ß", "İ", "\U0001e000"),
        ]
    )
    | st.characters(),
    max_size=60,
)


def _words_at_once(doc: dict[str, Any]) -> set[str]:
    """`words_of` as it was: the text, handle and display name folded and split together."""
    author = doc.get("author") or {}
    text = f"{doc.get('text', '')}\n{author.get('handle', '')}\n{author.get('display_name', '')}"
    words = set(re.findall(r"\w+", fold(text)))
    intent = doc.get("intent")
    if intent and not doc.get("is_own"):
        words.add("intent:" + intent)
    return words


@settings(max_examples=400, deadline=None)
@given(
    text=_HOSTILE,
    handle=_HOSTILE,
    name=_HOSTILE,
    intent=st.sampled_from([None, "", "complaint"]),
    is_own=st.booleans(),
)
def test_words_read_apart_are_the_words_read_together(
    text: str, handle: str, name: str, intent: str | None, is_own: bool
) -> None:
    doc = {
        "text": text,
        "author": {"handle": handle, "display_name": name},
        "intent": intent,
        "is_own": is_own,
    }
    expected = _words_at_once(doc)
    assert words_of(doc) == expected
    assert words_of(doc, {text: text_words(text)}) == expected  # read ahead by the worker
    assert words_of(doc, {text + "x": frozenset({"stale"})}) == expected  # another text's


def _message() -> Message:
    return Message(
        id="acct:1",
        account_id="acct",
        platform=Platform.MASTODON,
        kind=Kind.MENTION,
        native_id="1",
        conversation_id="acct:1",
        parent_id=None,
        author=Author("someone", "Some One", "https://example.social/@someone"),
        text="Charged twice for the same order",
        url="https://example.social/@someone/1",
        created_at=datetime(2026, 3, 1, 12, tzinfo=UTC),
        seen_by=["acct mentions"],
    )


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "lang": st.sampled_from([None, "en", "fr"]),
            "sentiment": st.none() | st.floats(-1, 1),
            "intent": st.sampled_from([None, "complaint", "question"]),
            "urgent": st.none() | st.tuples(st.sampled_from(["refund", "fire"])),
            "names_brand": st.none() | st.booleans(),
            "is_own": st.booleans(),
            "seen_by": st.lists(st.text(max_size=8), max_size=3),
        },
    )
)
def test_copied_is_dataclasses_replace(changes: dict[str, object]) -> None:
    message = _message()
    assert copied(message, changes) == replace(message, **changes)  # type: ignore[arg-type]
    conversation = Conversation(
        "c", "acct", Platform.X, "Acme", "s", "s", "a", ["a"], message.created_at, labels=["x"]
    )
    lists = {"participants": ["b"], "labels": []}
    assert copied(conversation, lists) == replace(conversation, **lists)  # type: ignore[arg-type]


def test_a_reading_carries_the_words_the_store_indexes() -> None:
    text = "Ça a ÉCLATÉ dès le 1er jour\u200b !! 🤬 #MaisonLumière"
    reading = read_item(SentimentAnalyzer(), (text, None, "fr", "Maison Lumière"))
    assert reading.words == text_words(text)
    assert set(reading.fields()) == {"lang", "sentiment", "intent", "urgent", "names_brand"}


def test_fold_drops_control_characters_from_ascii_text_too() -> None:
    # As it does once any character is not ASCII: a text's words must not depend on whether
    # its author's name has an accent (the search index reads them apart now).
    assert fold("0\x1f0 OK\x7f") == fold("0\x1f0 OK\x7fé")[:-1] == "00 ok"


def test_a_message_read_at_ingest_is_keyed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Language, sentiment, priority signals and the search index's words all start from
    the text's `match_key` (NFKC, invisibles out, casefolded): worked out once a message."""
    import cmtui.analysis.language
    import cmtui.store.index
    import cmtui.text

    text = "Toujours pas remboursée, 3 semaines après 😡 @maisonlumiere"
    keyed: list[str] = []
    for module in (cmtui.text, cmtui.analysis.language, cmtui.store.index):
        match_key = getattr(module, "match_key", None)
        if match_key is not None:

            def counted(value: str, match_key: Callable[[str], str] = match_key) -> str:
                keyed.append(value)
                return match_key(value)

            monkeypatch.setattr(module, "match_key", counted)
    read_item(SentimentAnalyzer(), (text, None, None, "Maison Lumière"))
    assert keyed.count(text) == 1


def test_a_reading_carries_the_crisis_terms_of_a_negative_message_only() -> None:
    """The worker reads the terms a crisis alert shows (`crisis.terms`) beside the score,
    for the messages the alerts count: off the store's thread, which only looks them up."""
    from cmtui.analysis.crisis import terms

    analyzer = SentimentAnalyzer()
    angry = "Charged twice for lot 42 and still no refund. Fix this now!"
    reading = read_item(analyzer, (angry, "en", None, "Maison Lumière"))
    assert reading.intent == "complaint" and reading.terms == terms(angry) != ()
    happy = "Lovely candle, the lot 42 scent is wonderful, thank you!"
    assert read_item(analyzer, (happy, "en", None, "Maison Lumière")).terms == ()
