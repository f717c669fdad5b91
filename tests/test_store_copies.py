"""One post, one row: copies of a post seen through several accounts, and the brand's own
messages, in the store (issue #11, items 2 and 3)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from test_store import ANA, BRAND, OWN, T0, msg, search

from cmtui.model import Author, Copy, Kind, Message, Platform
from cmtui.store import Store
from cmtui.store.summary import summarize

POST_URI = "https://example.social/users/ana/statuses/1"
REPLY_URI = "https://mastodon.social/users/maisonlumiere/statuses/9"


def copy_of(
    account: str,
    native: str,
    *,
    kind: Kind = Kind.MENTION,
    uri: str = POST_URI,
    author: Author = ANA,
    parent: str | None = None,
    minutes: int = 1,
    text: str = "Ma lampe ne marche plus",
    own: bool = False,
    seen_by: tuple[str, ...] = (),
) -> Message:
    """The same post as `account` knows it: its own native id and reply target."""
    message_id = Message.make_id(account, native)
    return Message(
        id=message_id,
        account_id=account,
        platform=Platform.MASTODON,
        kind=kind,
        native_id=native,
        conversation_id=message_id,
        parent_id=parent,
        author=author,
        text=text,
        url=uri.replace("/users/", "/@").replace("/statuses/", "/"),
        uri=uri,
        created_at=T0 + timedelta(minutes=minutes),
        sentiment=None if own else -0.6,
        is_own=own,
        reply_target={"status_id": native},
        seen_by=list(seen_by),
    )


def test_a_post_seen_by_two_accounts_is_one_message_in_one_conversation(store: Store) -> None:
    store.add_messages([copy_of("masto", "111", seen_by=("masto mentions",))], brand=BRAND)
    search_hit = copy_of("piaille", "222", kind=Kind.SEARCH_HIT, seen_by=("piaille search:ml",))
    store.add_messages([search_hit], brand=BRAND)

    [row] = store.conversations()
    assert (row.id, row.unread, row.message_count) == ("masto:111", 1, 1)
    [post] = store.thread(row.id)
    assert post.seen_by == ["masto mentions", "piaille search:ml"]
    assert post.copies == [Copy("piaille", "222", Kind.SEARCH_HIT, {"status_id": "222"})]
    assert list(store.iter_messages()) == [post]  # the export: one line for the post
    # Each account answers its own copy: its own id, native id and reply target.
    seen_by_piaille = store.message("piaille:222")
    assert seen_by_piaille is not None
    assert (seen_by_piaille.id, seen_by_piaille.account_id) == ("piaille:222", "piaille")
    assert seen_by_piaille.reply_target == {"status_id": "222"}
    assert seen_by_piaille.kind is Kind.SEARCH_HIT


def test_fetching_a_copy_again_changes_nothing_even_after_a_restart(store: Store) -> None:
    store.add_messages([copy_of("masto", "111")], brand=BRAND)
    store.add_messages([copy_of("piaille", "222", kind=Kind.SEARCH_HIT)], brand=BRAND)
    store.mark_read("masto:111")
    store.close()
    with Store.open(store.data_dir) as reopened:
        again = copy_of("piaille", "222", kind=Kind.SEARCH_HIT)
        assert reopened.add_messages([again], brand=BRAND) == []
        assert reopened.add_messages([copy_of("masto", "111")], brand=BRAND) == []
        [row] = reopened.conversations()
        assert row.unread == 0
        assert reopened.message("piaille:222") is not None


def test_replies_through_either_account_join_the_merged_post(store: Store) -> None:
    store.add_messages([copy_of("masto", "111")], brand=BRAND)
    store.add_messages([copy_of("piaille", "222", kind=Kind.SEARCH_HIT)], brand=BRAND)
    bob = Author("bob@example.social", "Bob")
    answer = copy_of(
        "piaille",
        "223",
        kind=Kind.SEARCH_HIT,
        uri="https://example.social/users/bob/statuses/2",
        author=bob,
        parent="piaille:222",  # piaille's id of the post, which masto stored first
        minutes=2,
        text="Pareil pour moi",
    )
    [row] = store.add_messages([answer], brand=BRAND)
    assert row.id == "masto:111"
    assert [m.id for m in store.thread(row.id)] == ["masto:111", "piaille:223"]
    assert (row.unread, row.last_author) == (2, "Bob")


def test_the_first_copy_keeps_its_text_and_an_edit_keeps_the_copies(store: Store) -> None:
    store.add_messages([copy_of("masto", "111", seen_by=("masto mentions",))], brand=BRAND)
    other = copy_of("piaille", "222", text="Ma lampe ne marche plus (rendered elsewhere)")
    store.add_messages([other], brand=BRAND)
    assert store.thread("masto:111")[0].text == "Ma lampe ne marche plus"
    edited = copy_of("masto", "111", text="Ma lampe ne marche plus du tout")
    [row] = store.add_messages([edited], brand=BRAND)
    [post] = store.thread(row.id)
    assert post.text == "Ma lampe ne marche plus du tout"
    assert [c.account_id for c in post.copies] == ["piaille"]
    assert post.seen_by == ["masto mentions"]
    assert row.unread == 1  # an edit is not news


def test_each_brand_keeps_its_own_row_of_a_post(store: Store) -> None:
    store.add_messages([copy_of("masto", "111")], brand=BRAND)
    store.add_messages([copy_of("rival", "333")], brand="Rival Candles")
    assert sorted(c.brand for c in store.conversations()) == [BRAND, "Rival Candles"]


def test_posts_without_an_address_are_never_merged(store: Store) -> None:
    first = replace(copy_of("masto", "111"), uri="", url="")
    second = replace(copy_of("piaille", "111"), uri="", url="")
    store.add_messages([first], brand=BRAND)
    store.add_messages([second], brand=BRAND)
    assert len(store.conversations()) == 2


def test_a_status_claiming_another_post_s_address_is_not_merged_into_it(store: Store) -> None:
    """A server may send any `uri`: a status of another author, or a second status through
    the same account, is its own post, and never takes over the real post's reply target."""
    store.add_messages([copy_of("masto", "111")], brand=BRAND)
    mallory = Author("mallory@evil.example", "Ana", "https://evil.example/@mallory")
    store.add_messages([copy_of("piaille", "666", author=mallory)], brand=BRAND)
    store.add_messages([copy_of("masto", "667")], brand=BRAND)
    assert len(store.conversations()) == 3
    assert store.thread("masto:111")[0].copies == []
    # Another instance may write the author's handle differently: the profile page decides.
    local = Author("ana@social.example.social", "Ana", "https://example.social/@ana")
    store.add_messages([copy_of("masto", "200", uri=REPLY_URI, author=replace(local, handle="x"))])
    store.add_messages([copy_of("piaille", "201", uri=REPLY_URI, author=local)])
    assert [c.account_id for c in store.thread("masto:200")[0].copies] == ["piaille"]


def test_default_account_is_the_one_the_post_addressed() -> None:
    hit = copy_of("masto", "111", kind=Kind.SEARCH_HIT)
    hit.copies = [Copy("piaille", "222", Kind.MENTION, {"status_id": "222"})]
    assert hit.accounts == ["masto", "piaille"]
    assert hit.default_account() == "piaille"
    assert replace(hit, kind=Kind.REPLY).default_account() == "masto"
    assert hit.as_seen_by("nobody") is hit


# --- the brand's own messages (item 3) ------------------------------------------------------


def test_own_reply_leaves_the_row_read_answered_and_authored_by_the_customer(
    store: Store,
) -> None:
    store.add_messages([msg(1, sentiment=-0.6)], brand=BRAND)
    store.mark_read("acct:c1")
    [row] = store.add_messages([msg(5, own=True, parent=1, sentiment=-0.9)], brand=BRAND)
    assert (row.unread, row.awaiting_reply_since) == (0, None)
    assert (row.last_author, row.snippet) == ("Ana", "message 1")
    assert row.last_activity == T0 + timedelta(minutes=1)  # the row does not move either
    assert row.sentiment == pytest.approx(-0.6)
    assert row.message_count == 2


def test_an_echo_of_the_sent_reply_through_another_account_stays_own(store: Store) -> None:
    store.add_messages([copy_of("masto", "111")], brand=BRAND)
    store.add_messages([copy_of("piaille", "222", kind=Kind.SEARCH_HIT)], brand=BRAND)
    store.mark_read("masto:111")
    sent = copy_of(
        "piaille", "290", kind=Kind.REPLY, uri=REPLY_URI, author=OWN, own=True, minutes=5
    )
    store.add_messages([replace(sent, parent_id="piaille:222")], brand=BRAND)
    # masto's search finds the reply later; the adapter cannot tell it is the brand's.
    echo = copy_of(
        "masto", "190", kind=Kind.SEARCH_HIT, uri=REPLY_URI, author=OWN, parent="masto:111"
    )
    store.add_messages([replace(echo, created_at=sent.created_at)], brand=BRAND)
    [row] = store.conversations()
    assert (row.unread, row.awaiting_reply_since, row.last_author) == (0, None, "Ana")
    assert row.sentiment == pytest.approx(-0.6)
    assert [(m.id, m.is_own) for m in store.thread(row.id)] == [
        ("masto:111", False),
        ("piaille:290", True),
    ]


def test_an_echo_stored_before_the_sent_reply_joins_its_thread(store: Store) -> None:
    store.add_messages([copy_of("piaille", "222")], brand=BRAND)
    store.mark_read("piaille:222")
    # masto never saw the post: its copy of the brand's reply cannot find its parent.
    echo = copy_of(
        "masto", "190", kind=Kind.SEARCH_HIT, uri=REPLY_URI, author=OWN, own=True, minutes=5
    )
    store.add_messages([replace(echo, parent_id="masto:111")], brand=BRAND)
    assert [c.id for c in store.conversations()] == ["piaille:222"]  # no row of its own
    sent = copy_of(
        "piaille", "290", kind=Kind.REPLY, uri=REPLY_URI, author=OWN, own=True, minutes=5
    )
    store.add_messages([replace(sent, parent_id="piaille:222")], brand=BRAND)
    [row] = store.conversations()
    assert row.id == "piaille:222"
    assert (row.unread, row.awaiting_reply_since, row.last_author) == (0, None, "Ana")
    assert [m.id for m in store.thread(row.id)] == ["piaille:222", "masto:190"]


def test_the_brand_alone_makes_no_row_until_someone_answers(store: Store) -> None:
    assert store.add_messages([msg(1, own=True, text="Nouvelle collection")], brand=BRAND) == []
    assert store.conversations() == [] and len(store.thread("acct:c1")) == 1
    [row] = store.add_messages([msg(2, parent=1, text="Superbe !")], brand=BRAND)
    assert (row.subject, row.last_author, row.unread) == ("Nouvelle collection", "Ana", 1)


def test_a_conversation_of_the_brand_alone_shows_its_latest_message() -> None:
    posts = [msg(1, own=True, text="Nouvelle collection"), msg(2, own=True, text="Bientôt")]
    summary = summarize("acct:c1", posts, None, brand=BRAND)
    assert (summary.snippet, summary.last_author, summary.unread) == ("Bientôt", OWN.label, 0)


# --- a cache written by an older cmtui (schema 3) ----------------------------------------


def test_copies_an_older_cmtui_stored_twice_are_merged_on_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    with monkeypatch.context() as old_cmtui:  # stores each account's copy on its own
        old_cmtui.setattr(Store, "_stored_copy", lambda self, m, brand: self._index.resolve(m.id))
        with Store.open(data) as store:
            store.add_messages([replace(copy_of("masto", "111"), uri="")], brand=BRAND)
            search_hit = replace(copy_of("piaille", "222", kind=Kind.SEARCH_HIT), uri="")
            sent = copy_of("piaille", "290", uri=REPLY_URI, author=OWN, own=True, minutes=5)
            store.add_messages([search_hit, replace(sent, parent_id="piaille:222")], brand=BRAND)
            store.mark_read("masto:111")
            assert len(store.conversations()) == 2
    main = json.loads((data / "cache.json").read_bytes())
    main["_meta"]["1"]["schema_version"] = 3
    (data / "cache.json").write_text(json.dumps(main))

    with Store.open(data) as store:
        assert store.notices == [
            "Posts that several accounts had stored apart are one row each now (1 copies merged)."
        ]
        [row] = store.conversations()
        assert (row.id, row.unread, row.awaiting_reply_since) == ("masto:111", 0, None)
        assert [m.id for m in store.thread(row.id)] == ["masto:111", "piaille:290"]
        assert store.message("piaille:222") is not None
        assert search(store, "lampe") == ["masto:111"]
    assert (data / "cache.json.bak-v3").exists()
    with Store.open(data) as store:  # once only
        assert store.notices == []
        assert len(store.conversations()) == 1


def test_a_post_that_addressed_an_account_stays_so_when_a_search_finds_it_again(
    store: Store,
) -> None:
    """A mention the brand's hashtag search brings back too (two streams of one account,
    polled in turn) stays a mention, and a second look changes nothing: the kind turning
    with each poll was an edit each time, which a team worker published again."""
    mention = copy_of("masto", "111", seen_by=("masto mentions",))
    hit = copy_of("masto", "111", kind=Kind.SEARCH_HIT, seen_by=("masto tag:ml",))
    store.add_messages([mention], brand=BRAND)
    assert store.add_messages([hit], brand=BRAND) != []  # a new stream: `seen_by` grows
    assert store.add_messages([mention], brand=BRAND) == []
    assert store.add_messages([hit], brand=BRAND) == []
    [post] = store.iter_messages()
    assert (post.kind, post.seen_by) == (Kind.MENTION, ["masto mentions", "masto tag:ml"])
    # Another account's copy keeps its own the same way; a search hit later seen as a
    # mention becomes one.
    store.add_messages([copy_of("piaille", "222", kind=Kind.SEARCH_HIT)], brand=BRAND)
    store.add_messages([copy_of("piaille", "222", kind=Kind.REPLY)], brand=BRAND)
    store.add_messages([copy_of("piaille", "222", kind=Kind.SEARCH_HIT)], brand=BRAND)
    [post] = store.iter_messages()
    assert [c.kind for c in post.copies] == [Kind.REPLY]
