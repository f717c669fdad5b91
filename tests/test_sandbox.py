"""The sandbox world: clocks, determinism, rhythm, crisis, languages, the troll, content HTML."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from cmtui.sandbox.clock import ManualClock, RealClock
from cmtui.sandbox.mastodon import content_html, countable_length
from cmtui.sandbox.network import DEMO_START, SandboxNetwork
from cmtui.sandbox.scenario import PARIS, paris_hour_weight
from cmtui.sandbox.world import Directory, Link, Mention, Person, Post, Tag, parse_text


def network(seed: int = 7, when: datetime = DEMO_START) -> tuple[SandboxNetwork, ManualClock]:
    clock = ManualClock(when)
    return SandboxNetwork(seed=seed, clock=clock), clock


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(datetime(2026, 3, 2, 9, 0))  # naive: taken as UTC
    assert clock.now() == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    clock.advance(timedelta(minutes=5))
    assert clock.now() == datetime(2026, 3, 2, 9, 5, tzinfo=UTC)
    clock.set(DEMO_START)
    assert clock.now() == DEMO_START


def test_real_clock_starts_at_its_start_and_rejects_a_bad_speed() -> None:
    now = RealClock(DEMO_START, speed=60).now()
    assert now >= DEMO_START
    assert now.tzinfo is not None
    with pytest.raises(ValueError, match="speed"):
        RealClock(DEMO_START, speed=0)


def test_the_epoch_is_history_before_construction_rounded_to_the_hour() -> None:
    net, _ = network()
    assert net.start == datetime(2026, 2, 27, 9, 0, tzinfo=UTC)
    assert net.scenario.crisis_onset == datetime(2026, 3, 1, 14, 0, tzinfo=PARIS)
    assert net.start < net.scenario.troll_at < DEMO_START


def test_the_brand_profile_is_plain_config_data() -> None:
    net, _ = network()
    assert net.brand.name == "Maison Lumière"
    assert net.brand.signature == "— Léa, Maison Lumière"
    assert net.brand.tone.require_signature
    assert net.brand.tone.max_exclamations == 1
    assert "maison lumière" in net.brand.keywords
    platforms = {account.id: account.platform for account in net.accounts}
    assert platforms == {
        "ml-masto": "mastodon",
        "ml-piaille": "mastodon",
        "ml-facebook": "facebook",
        "ml-x": "x",
        "ml-bsky": "bluesky",
        "ml-blog": "wordpress",
        "ml-reddit": "reddit",
        "ml-alerts": "feed",
        "ml-hn": "hackernews",
        "ml-forum": "discourse",
    }
    hosts = {account.host for account in net.accounts}
    assert hosts == {
        "mastodon.sandbox.example",
        "piaille.sandbox.example",
        "facebook.sandbox.example",
        "x.sandbox.example",
        "bsky.sandbox.example",
        "blog.maisonlumiere.example",
        "reddit.sandbox.example",
        "alerts.sandbox.example",
        "hn.sandbox.example",
        "communaute.maisonlumiere.example",
    }


def test_same_seed_same_world_whatever_the_polling() -> None:
    often, often_clock = network()
    once, once_clock = network()
    for _ in range(30):  # one looks every ten minutes, the other only at the end
        often_clock.advance(timedelta(minutes=10))
        often.posts_visible_to("ml-masto")
    once_clock.advance(timedelta(minutes=300))
    for account in ("ml-masto", "ml-piaille"):
        assert often.posts_visible_to(account) == once.posts_visible_to(account)
    assert [p.id for p in often.world.visible()] == [p.id for p in once.world.visible()]


def test_another_seed_gives_another_world() -> None:
    first, _ = network(seed=7)
    second, _ = network(seed=8)
    assert [p.text for p in first.world.visible()] != [p.text for p in second.world.visible()]


def test_nothing_shows_before_its_time() -> None:
    net, clock = network()
    before = net.world.visible()
    assert all(p.created_at <= clock.now() for p in before)
    clock.advance(timedelta(hours=3))
    after = net.world.visible()
    assert after[: len(before)] == before
    assert len(after) > len(before)


def test_three_days_of_history_have_plausible_volume_and_rhythm() -> None:
    net, _ = network()
    mentions = net.posts_visible_to("ml-masto") + net.posts_visible_to("ml-piaille")
    assert 150 <= len(mentions) <= 700
    hours = Counter(p.created_at.astimezone(PARIS).hour for p in mentions)
    day = sum(hours[h] for h in range(9, 21)) / 12
    night = sum(hours[h] for h in range(0, 6)) / 6
    assert day > 4 * night


def test_weekend_mornings_are_slower_than_weekday_ones() -> None:
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    sunday = datetime(2026, 3, 1, 9, 0, tzinfo=PARIS)
    assert paris_hour_weight(monday) > paris_hour_weight(sunday)
    assert paris_hour_weight(monday) > paris_hour_weight(monday.replace(hour=3))


def test_the_crisis_bursts_out_then_stays() -> None:
    net, clock = network()
    scenario = net.scenario
    onset = scenario.crisis_onset
    clock.set(onset + timedelta(hours=36))
    posts = net.world.visible()
    assert not [p for p in posts if p.kind == "crisis" and p.created_at < onset]

    def negative_share(begin: datetime, end: datetime) -> float:
        window = [p for p in posts if begin <= p.created_at < end and p.tone != "neutral"]
        return sum(p.tone == "negative" for p in window) / len(window)

    baseline = negative_share(net.start, onset)
    late = negative_share(onset + timedelta(hours=18), clock.now())
    assert late > baseline + 0.2
    # A burst of distinct people within minutes, as a spreading photo brings.
    first = {
        p.author.handle
        for p in posts
        if p.kind in ("crisis", "echo") and p.created_at < onset + timedelta(minutes=15)
    }
    assert len(first) >= 5
    for where in ("facebook", "x", "mastodon"):
        arrival = scenario.crisis_arrival(where)
        assert scenario.crisis_rate(where, arrival - timedelta(seconds=1)) == 0.0
        rates = [scenario.crisis_rate(where, arrival + timedelta(hours=h)) for h in (0, 2, 24)]
        assert rates[0] > rates[1] > rates[2] > 0.0
    echoes = [p for p in posts if p.kind == "echo"]
    assert echoes
    assert any(p.parent_id for p in echoes)  # some echo in the victim's thread
    assert all("lot 42" in p.text.lower() for p in posts if p.kind == "crisis")
    victims = {p.author.handle for p in posts if p.kind == "crisis"}
    for echo in echoes:
        assert "lot 42" in echo.text.lower() or any(m.handle in victims for m in echo.mentions)


def test_french_and_english_both_present() -> None:
    net, _ = network()
    masto = Counter(p.lang for p in net.posts_visible_to("ml-masto"))
    piaille = Counter(p.lang for p in net.posts_visible_to("ml-piaille"))
    assert masto["en"] > 20 and masto["fr"] > 20
    assert piaille["fr"] > 3 * piaille["en"]


def test_recurring_customers_newcomers_and_the_special_cast_all_post() -> None:
    net, clock = network()
    clock.advance(timedelta(days=2))
    roles = Counter(p.author.role for p in net.world.visible())
    for role in ("regular", "newcomer", "journalist", "competitor_fan", "influencer", "troll"):
        assert roles[role] > 0, role
    assert any(p.kind == "announcement" and p.author.role == "brand" for p in net.world.visible())


def test_third_party_mentions_name_the_brand_without_addressing_it() -> None:
    net, _ = network()
    brands = net.scenario.brands
    third = [p for p in net.world.visible() if p.kind == "third_party"]
    assert third
    for post in third:
        assert "Maison Lumière" in post.text
        assert not any(post.mentions_person(brand) for brand in brands)
        assert post.parent_id is not None


def test_the_troll_posts_within_the_history_with_its_hostile_text() -> None:
    net, _ = network()
    trolls = [p for p in net.posts_visible_to("ml-masto") if p.kind == "troll"]
    assert any(p.created_at == net.scenario.troll_at for p in trolls)
    text = next(p.text for p in trolls if p.created_at == net.scenario.troll_at)
    for trick in ("[@click=app.quit]x[/]", "[/]", "[bold]", "\x1b]0;pwned\x07", "\x1b[2J"):
        assert trick in text
    assert "\u202e" in trolls[0].author.display_name


def test_parse_text_finds_known_mentions_links_and_tags() -> None:
    ana = Person("ana", "a.example", "Ana", "en", "regular")
    people = Directory([ana])
    segments = parse_text(
        "@ana @nobody see https://x.example/a, #Déco! mail@a.example", "a.example", people
    )
    assert Mention(ana, "@ana") in segments
    assert Link("https://x.example/a") in segments
    assert Tag("Déco") in segments
    assert "".join(s if isinstance(s, str) else "" for s in segments).count("@nobody") == 1
    assert not any(isinstance(s, Mention) and s.written == "@a.example" for s in segments)


def test_content_html_is_mastodon_shaped() -> None:
    brand = Person("maisonlumiere", "mastodon.sandbox.example", "ML", "fr", "brand")
    author = Person("ana", "piaille.sandbox.example", "Ana", "fr", "regular")
    text = (
        "@maisonlumiere@mastodon.sandbox.example l'Ambre <3\n\n"
        "https://photos.sandbox.example/p/0123456789abcdef #Lot42"
    )
    post = Post(
        id="1",
        author=author,
        created_at=DEMO_START,
        text=text,
        segments=parse_text(text, author.domain, Directory([brand, author])),
        lang="fr",
        kind="complaint",
    )
    html = content_html(post, "mastodon.sandbox.example")
    assert html.startswith('<p><span class="h-card" translate="no">')
    assert (
        '<a href="https://mastodon.sandbox.example/@maisonlumiere" class="u-url mention">'
        "@<span>maisonlumiere</span></a>"
    ) in html
    assert "l&#39;Ambre &lt;3</p><p>" in html
    assert '<span class="invisible">https://</span>' in html
    assert '<span class="ellipsis">photos.sandbox.example/p/01234</span>' in html
    assert '<span class="invisible">56789abcdef</span>' in html
    assert 'class="mention hashtag" rel="tag">#<span>Lot42</span></a>' in html
    assert post.tags == ("lot42",)


def test_length_counts_graphemes_urls_and_local_part_of_mentions() -> None:
    assert countable_length("é👍🏽") == 2
    assert countable_length("x https://example.com/" + "a" * 100) == 2 + 23
    assert countable_length("@ana@very.long.domain.example") == len("@ana")
