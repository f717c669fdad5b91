"""The Maison Lumière scenario: who posts what, when, and how people answer the brand back.

Everything is drawn from RNGs seeded by the scenario seed plus a fixed label (the network and
the hour slot, the day of an announcement, the id of a brand reply), never from one shared
stream, so the world at a given time is the same however often and in whatever order it was
looked at, and one network's traffic never shifts another's.

The brand is on the fediverse (two Mastodon accounts), on a Facebook page (comments under
its posts, posts on its wall, Messenger), on X and on Bluesky (mentions, and posts that only
name it), on its WordPress blog (comments, some held for moderation), and in the news
(articles a Google Alert finds), and on its Discourse community forum (members' questions
as topics, the brand's answers, members answering back and calling it in with an
@-mention). The rhythm follows Europe/Paris hours (quiet nights, busy
mornings and lunch, slower weekend mornings) in French and English. A crisis about lot 42 of
the Ambre candle breaks out at 14:00 the day before the live part begins, as crises do: a
photo is posted as a comment under the Facebook page's latest post and a burst of distinct
customers (mostly first-time posters) report the same cracked glass within minutes; it
reaches X within the hour, then Bluesky and the fediverse, each in a burst of its own,
settles into a steady stream of complaints that lasts through the demo, and the press
writes about it. A troll shows up at least once in the history.
"""

from __future__ import annotations

import math
import random
import string
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from cmtui.config import Brand, ToneRules
from cmtui.sandbox import content
from cmtui.sandbox.world import Directory, Link, Person, Post, Tone, parse_text, snowflake

if TYPE_CHECKING:
    from cmtui.sandbox.world import World

BrandProfile = Brand  # the sandbox's brand is plain config data, as a user would write it

PARIS = ZoneInfo("Europe/Paris")
DEMO_START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday morning in Paris
SLOT = timedelta(hours=1)

MAISON_LUMIERE = Brand(
    name=content.BRAND_NAME,
    keywords=("maison lumière", "maison lumiere", "#maisonlumiere", "lot 42"),
    signature="— Léa, Maison Lumière",
    tone=ToneRules(
        banned=("cheap", "pas cher", "bon marché"), require_signature=True, max_exclamations=1
    ),
)

# Posts per hour relative to BASE_RATE, by Paris hour (index 0 = midnight).
WEEKDAY_WEIGHTS = (
    0.15,
    0.08,
    0.05,
    0.04,
    0.04,
    0.08,
    0.3,
    0.8,
    1.4,
    1.8,
    1.7,
    1.5,
    1.9,
    1.8,
    1.2,
    1.1,
    1.1,
    1.2,
    1.3,
    1.2,
    1.3,
    1.1,
    0.7,
    0.35,
)
WEEKEND_WEIGHTS = (
    0.25,
    0.15,
    0.08,
    0.05,
    0.04,
    0.04,
    0.08,
    0.2,
    0.4,
    0.8,
    1.2,
    1.4,
    1.5,
    1.4,
    1.2,
    1.1,
    1.1,
    1.1,
    1.2,
    1.2,
    1.3,
    1.2,
    0.9,
    0.5,
)
BASE_RATE = 4.5  # the fediverse's ordinary posts per hour at weight 1
FACEBOOK_COMMENT_RATE = 2.2  # comments under the page's latest post
FACEBOOK_VISITOR_RATE = 0.35  # posts on the page's wall
FACEBOOK_MESSENGER_RATE = 0.5  # Messenger messages to the page
X_MENTION_RATE = 1.8  # posts mentioning the brand's X account
X_SEARCH_RATE = 0.9  # posts naming the brand without mentioning it
BSKY_MENTION_RATE = 1.2  # posts mentioning the brand's Bluesky account
BSKY_SEARCH_RATE = 0.6  # posts naming the brand without mentioning it
BLOG_COMMENT_RATE = 0.35  # comments under the blog's latest post
ARTICLE_RATE = 0.12  # news articles naming the brand
REDDIT_THREAD_RATE = 0.3  # Reddit threads naming the brand
REDDIT_COMMENTS = 3.0  # mean comments under each of them
REDDIT_PM_RATE = 0.08  # private messages to the brand's Reddit account
FORUM_TOPIC_RATE = 0.3  # topics members open on the brand's community forum
FORUM_MENTION_RATE = 0.15  # posts calling the brand's user into the latest topic
FORUM_ANSWERED = 0.5  # share of topics the brand answered in the history
REPLY_SHARE = 0.3  # questions another customer answers under them
CRISIS_HALF_LIFE = timedelta(hours=2)  # a network's burst halves every two hours
CRISIS_NEWCOMERS = 0.75  # share of crisis posts from people who never posted before
CRISIS_ECHOES = 0.8  # mean echoes of each crisis post
_CRISIS_STEPS = 12  # the slot's expected crisis posts, summed five minutes at a time
TROLL_RATE = 0.008  # chance per slot of an extra troll post
STRANGER_RATE = 0.3  # mentions from brand-new fediverse accounts (held by the servers)
MASTODON_DM_RATE = 0.25  # direct messages to a brand Mastodon account
CW_RATE = 0.12  # complaints under a content warning
EDIT_RATE = 0.15  # questions their authors edit a few minutes later
STRANGER_KINDS = (("question", 50), ("complaint", 50))
MASTODON_DM_KINDS = (("question", 60), ("complaint", 40))
ANSWER_BACK_CHANCE = 0.6
CRISIS_DM_SHARE = 0.2  # Facebook victims who also write to the page on Messenger
# After the onset: when the press writes about lot 42, and who (an index in NEWS_WRITERS).
CRISIS_ARTICLES = (
    (timedelta(hours=2, minutes=40), 0),
    (timedelta(hours=6, minutes=10), 1),
    (timedelta(hours=19, minutes=30), 4),
)


@dataclass(frozen=True, slots=True)
class Wave:
    """How the lot 42 crisis reaches one network: how long after the onset, how hard."""

    delay: timedelta
    burst: float  # extra crisis posts per hour on arrival, whatever the hour, then halving
    peak: float  # crisis posts per hour at weight 1, once the burst has died down


# It starts on Facebook, reaches X within the hour, then Bluesky, then the fediverse.
# Facebook's burst alone brings an alert within 15 minutes of the onset, the fediverse's
# within 15 minutes of its own arrival (what a demo reading only Mastodon sees).
CRISIS_WAVES = {
    "facebook": Wave(timedelta(0), 30.0, 1.5),
    "x": Wave(timedelta(minutes=20), 30.0, 1.2),
    "bluesky": Wave(timedelta(minutes=35), 20.0, 0.8),
    "mastodon": Wave(timedelta(minutes=45), 36.0, 2.5),
}

KINDS = (  # kind of an ordinary event, weight
    ("question", 24),
    ("complaint", 12),
    ("praise", 16),
    ("recommend", 11),
    ("thread", 9),
    ("announcement_reply", 15),
    ("journalist", 2),
    ("competitor", 4),
    ("influencer", 3),
)
FACEBOOK_KINDS = (("question", 35), ("announcement_reply", 30), ("praise", 20), ("complaint", 15))
VISITOR_KINDS = (("praise", 45), ("question", 35), ("complaint", 20))
MESSENGER_KINDS = (("dm", 60), ("complaint", 40))
X_KINDS = (("question", 30), ("complaint", 30), ("praise", 40))
X_SEARCH_KINDS = (("buzz", 75), ("competitor", 25))
BLOG_KINDS = (("blog_comment", 45), ("blog_question", 35), ("held", 20))
# Comments under a Reddit thread: most only talk about the brand, some summon its account
# (their templates start with it), a few are deleted by their author or removed by the
# subreddit's moderators (the server shows them as Reddit does).
REDDIT_KINDS = (
    ("reddit_comment", 45),
    ("question", 15),
    ("complaint", 12),
    ("praise", 10),
    ("reddit_deleted", 10),
    ("reddit_removed", 8),
)
TONES: dict[str, Tone] = {
    "question": "neutral",
    "complaint": "negative",
    "praise": "positive",
    "recommend": "positive",
    "thread_root": "neutral",
    "third_party": "positive",
    "announcement": "positive",
    "announcement_reply": "neutral",
    "journalist": "neutral",
    "competitor": "negative",
    "influencer": "positive",
    "crisis": "negative",
    "echo": "negative",
    "followup": "negative",
    "thanks_resolved": "positive",
    "thanks_info": "positive",
    "insist": "negative",
    "troll": "hostile",
    "comment_reply": "neutral",
    "dm": "neutral",
    "buzz": "positive",
    "blog_post": "positive",
    "blog_comment": "positive",
    "blog_question": "neutral",
    "held": "neutral",
    "article": "neutral",
    "reddit_thread": "neutral",
    "reddit_comment": "neutral",
    "reddit_deleted": "neutral",
    "reddit_removed": "neutral",
    "reddit_pm": "neutral",
    "forum_topic": "neutral",
    "forum_answer": "positive",
    "forum_followup": "neutral",
    "forum_mention": "neutral",
}
# Their own words, as written (the brand's forum answers end with Léa's name).
_WITHOUT_CLOSER = frozenset({"announcement", "troll", "held", "forum_topic", "forum_answer"})
_UNTAGGED = frozenset(
    {
        "comment_reply",
        "dm",
        "blog_comment",
        "blog_question",
        "held",
        "reddit_comment",
        "reddit_deleted",
        "reddit_removed",
        "forum_topic",
        "forum_answer",
        "forum_followup",
        "forum_mention",
    }
)
_REDDIT_TEMPLATE = {"reddit_deleted": "reddit_comment", "reddit_removed": "reddit_comment"}
_RESOLVING = (
    "rembours",
    "refund",
    "remplac",
    "replace",
    "échange",
    "exchange",
    "renvo",
    "resend",
    "avoir",
    "voucher",
)


def paris_hour_weight(when: datetime) -> float:
    """How busy the network is at `when`, relative to an average daytime hour."""
    local = when.astimezone(PARIS)
    weights = WEEKEND_WEIGHTS if local.weekday() >= 5 else WEEKDAY_WEIGHTS
    return weights[local.hour]


def poisson(rng: random.Random, rate: float) -> int:
    """A Poisson-distributed count with mean `rate` (Knuth's method; rates here are small)."""
    limit, count, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _ascii(name: str) -> str:
    """`name` without accents, spaces or apostrophes, lower-cased: a plausible username."""
    folded = unicodedata.normalize("NFKD", name)
    return "".join(c for c in folded if c.isascii() and c.isalnum()).lower()


def newcomer(lang: str, first: str, last: str, number: int, domain: str | None = None) -> Person:
    """A first-time poster; everything about them follows from their name and number (and
    their network's domain, when it is not one of the fediverse's instances)."""
    user, family = _ascii(first), _ascii(last)
    username = (
        f"{user}{family}",
        f"{user}_{family}{number}",
        f"{user}.{family[0]}",
        f"{user}{number}",
    )[number % 4]
    display = (f"{first} {last}", f"{first} {last[0]}.", first)[number % 3]
    emoji = content.NAME_EMOJI[number % len(content.NAME_EMOJI)]
    domain = domain or content.INSTANCES[number % len(content.INSTANCES)]
    if domain == content.XNET:  # X names: letters, digits and "_", 15 at most
        username = username.replace(".", "_")[:15]
    elif domain == content.BSKY:  # a Bluesky name is a full handle: DNS labels, no "_"
        username = f"{username.replace('_', '-')}.{domain}"
    elif domain == content.REDDIT:  # Reddit names: letters, digits, "_" and "-", 20 at most
        username, display = username.replace(".", "_")[:20], username.replace(".", "_")[:20]
    return Person(username, domain, display + emoji, lang, "newcomer", 5 + 3 * number)


def _pick(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    """A name from a (name, weight) table."""
    return rng.choices([name for name, _ in table], [weight for _, weight in table])[0]


@dataclass(frozen=True, slots=True)
class Announcer:
    """A brand account posting on a schedule: at `hour` (Paris) plus `first_minute` and up to
    `spread` minutes, on `weekdays`; in English on days whose ordinal is a multiple of
    `english_every` (never when 0); `source` tags its shop links."""

    person: Person
    kind: str  # "announcement" or "blog_post"
    hour: int
    first_minute: int
    spread: int
    english_every: int
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    source: str = "mastodon"


ANNOUNCERS = (
    Announcer(content.BRANDS[0], "announcement", 10, 0, 45, 2),
    Announcer(content.BRANDS[1], "announcement", 12, 15, 40, 0),
    Announcer(content.FACEBOOK_PAGE, "announcement", 11, 0, 60, 3, source="facebook"),
    Announcer(content.BLOG_OWNER, "blog_post", 16, 0, 60, 3, weekdays=(0, 2, 4, 5)),
)
FACEBOOK_PAGE, BLOG = 2, 3  # their indexes in ANNOUNCERS


def _templates(kind: str, lang: str) -> tuple[str | tuple[str, str], ...]:
    """The templates of `kind`: texts, or (title, text) pairs for what has a title."""
    titled = content.TITLED.get(kind)
    return titled[lang] if titled is not None else content.TEMPLATES[kind][lang]


@dataclass(frozen=True, slots=True)
class Announcement:
    """A post of the brand's own, which people then reply to."""

    account: int  # index into ANNOUNCERS
    when: datetime
    lang: str
    template: int
    product: int
    id: str


_PHOTO_CHARS = string.ascii_letters + string.digits


class _Fill(dict[str, str]):
    """Template values: given ones, plus vocabulary drawn from the RNG only when used."""

    def __init__(self, rng: random.Random, lang: str, given: dict[str, str]) -> None:
        super().__init__(given)
        self._rng = rng
        self._vocab = content.VOCAB[lang]

    def __missing__(self, key: str) -> str:
        rng, vocab = self._rng, self._vocab
        draws: dict[str, Callable[[], str]] = {
            "product": lambda: rng.choice(vocab["candle"] + vocab["lamp"] + vocab["other"]),
            "order": lambda: f"ML-{rng.randrange(10_000, 100_000)}",
            "days": lambda: str(rng.randrange(3, 16)),
            "hours": lambda: str(rng.randrange(30, 81)),
            "budget": lambda: str(rng.choice((30, 40, 50, 60, 80))),
            "photo": lambda: content.PHOTOS + "".join(rng.choices(_PHOTO_CHARS, k=10)),
        }
        value = draws[key]() if key in draws else rng.choice(vocab[key])
        self[key] = value
        return value


class Scenario:
    """The Maison Lumière world: a `SlotSource` for `World`, plus the answers back."""

    slot_length = SLOT

    def __init__(self, seed: int, start: datetime, live_from: datetime) -> None:
        self.seed = seed
        self.start = start
        self.live_from = live_from
        eve = (live_from - timedelta(days=1)).astimezone(PARIS).date()
        self.crisis_onset = datetime.combine(eve, time(14), PARIS).astimezone(UTC)
        offset = (live_from - start) * 0.75
        self.troll_at = start + timedelta(minutes=offset // timedelta(minutes=1))
        self.brands = content.BRANDS  # the fediverse's two accounts
        self.announcers = ANNOUNCERS

    def people(self) -> list[Person]:
        """Everyone known from the start: the brand's accounts and the recurring personas."""
        brand = [
            *self.brands,
            content.FACEBOOK_PAGE,
            content.X_ACCOUNT,
            content.BSKY_ACCOUNT,
            content.BLOG_OWNER,
            content.REDDIT_ACCOUNT,
            content.FORUM_OWNER,
        ]
        regulars = [
            *content.REGULARS,
            *content.FACEBOOK_REGULARS,
            *content.X_REGULARS,
            *content.BSKY_REGULARS,
            *content.BLOG_REGULARS,
            *content.REDDIT_REGULARS,
            *content.FORUM_REGULARS,
        ]
        cast = [content.JOURNALIST, content.COMPETITOR_FAN, content.INFLUENCER, content.TROLL]
        return [*brand, *regulars, *cast, *content.NEWS_WRITERS, *content.HN_PEOPLE]

    def crisis_arrival(self, network: str) -> datetime:
        """When lot 42 reaches `network` (a key of CRISIS_WAVES): Facebook at the onset."""
        return self.crisis_onset + CRISIS_WAVES[network].delay

    def crisis_rate(self, network: str, when: datetime) -> float:
        """Crisis posts per hour on `network` at `when`: none before the crisis reaches it, a
        burst then that halves every CRISIS_HALF_LIFE, over a steady stream following the
        day's rhythm."""
        wave, arrival = CRISIS_WAVES[network], self.crisis_arrival(network)
        if when < arrival:
            return 0.0
        burst = wave.burst * math.pow(0.5, (when - arrival) / CRISIS_HALF_LIFE)
        return wave.peak * paris_hour_weight(when) + burst

    def announcement(self, account: int, day: date) -> Announcement | None:
        """What the announcer `account` posts on the (Paris) `day`, if it posts that day."""
        announcer = self.announcers[account]
        if day.weekday() not in announcer.weekdays:
            return None
        rng = random.Random(f"{self.seed}:announce:{account}:{day.isoformat()}")
        local = time(announcer.hour, announcer.first_minute + rng.randrange(announcer.spread))
        when = datetime.combine(day, local, PARIS).astimezone(UTC)
        when += timedelta(seconds=rng.randrange(60))
        every = announcer.english_every
        lang = "en" if every and day.toordinal() % every == 0 else "fr"
        template = rng.randrange(len(_templates(announcer.kind, lang)))
        product = rng.randrange(len(content.NEW_SLUGS))
        slot = (when - self.start) // SLOT
        post_id = snowflake(when, (slot & 0x1F) << 10 | (1000 + account))
        return Announcement(account, when, lang, template, product, post_id)

    def latest_announcement(self, account: int, when: datetime) -> Announcement | None:
        """The newest post of announcer `account` at least a few minutes before `when`."""
        today = when.astimezone(PARIS).date()
        for back in range(7):
            found = self.announcement(account, today - timedelta(days=back))
            if found is None:
                continue
            if found.when < self.start:
                return None
            if found.when + timedelta(minutes=3) <= when:
                return found
        return None

    def slot_posts(self, index: int, directory: Directory) -> list[Post]:
        """Every post of hour slot `index`, network by network, each drawn from an RNG seeded
        by the seed, the network and the index."""
        posts: list[Post] = []
        for writer in _WRITERS:
            writer(self, index, directory, posts).fill()
        return posts

    def answer_back(self, reply: Post, parent: Post, world: World) -> Post | None:
        """Maybe the customer's answer to the brand's `reply` to their `parent` post.

        Drawn from the seed and the reply's id: 60% of replies get one, 2 to 20 minutes
        later, in the customer's language, in private if the reply was; a fix (refund,
        replacement, a link) is thanked, a non-answer to a complaint often draws insistence.
        """
        person = parent.author
        if reply.author.role != "brand" or person.role in ("brand", "troll"):
            return None
        if parent.kind in ("thanks_resolved", "thanks_info"):
            return None
        rng = random.Random(f"{self.seed}:answer:{reply.id}")
        if rng.random() >= ANSWER_BACK_CHANCE:
            return None
        fixed = any(isinstance(s, Link) for s in reply.segments) or any(
            word in reply.text.casefold() for word in _RESOLVING
        )
        if parent.tone == "negative":
            kind = "thanks_resolved" if fixed or rng.random() < 0.35 else "insist"
        else:
            kind = "thanks_info" if rng.random() < 0.85 else "insist"
        when = reply.created_at + timedelta(seconds=rng.uniform(120, 1200))
        template = rng.choice(content.TEMPLATES[kind][person.lang])
        brand = reply.author.mention_from(person.domain)
        if person.domain == content.REDDIT:  # Reddit's way of naming a user
            brand = f"u/{reply.author.username}"
        values = _Fill(rng, person.lang, {"brand": brand})
        text = template.format_map(values)
        return _post(
            world.new_id(when),
            person,
            when,
            text,
            world.directory,
            kind=kind,
            parent_id=reply.id,
            parent_author=reply.author,
            visibility="direct" if reply.visibility == "direct" else "public",
        )


def _post(
    post_id: str,
    author: Person,
    when: datetime,
    text: str,
    directory: Directory,
    *,
    kind: str,
    tone: Tone | None = None,
    **fields: Any,
) -> Post:
    """A post of `author` in their language, its text's mentions and links read in
    `directory`; its tone the kind's unless told."""
    return Post(
        id=post_id,
        author=author,
        created_at=when,
        text=text,
        segments=parse_text(text, author.domain, directory),
        lang=author.lang,
        kind=kind,
        tone=TONES[kind] if tone is None else tone,
        **fields,
    )


class _Writer(ABC):
    """Writes one network's posts of one hour slot into the slot's list (whose length numbers
    the ids); its RNG is seeded by (seed, network, slot index) only."""

    network = "mastodon"  # as the accounts' `platform` says it
    brand: Person = content.BRANDS[0]  # the account people address there
    regulars: tuple[Person, ...] = ()
    home: str | None = None  # the newcomers' domain (None: one of the fediverse's)
    accounts: tuple[int, ...] = ()  # its announcers, as indexes in ANNOUNCERS
    seed_label = ""  # its RNG's label, where the network's own would be another writer's

    def __init__(
        self, scenario: Scenario, index: int, directory: Directory, posts: list[Post]
    ) -> None:
        self.scenario = scenario
        self.index = index
        self.directory = directory
        label = self.seed_label or (
            "slot" if self.network == "mastodon" else f"{self.network}:slot"
        )
        self.rng = random.Random(f"{scenario.seed}:{label}:{index}")
        self.begin = scenario.start + index * SLOT
        self.weight = paris_hour_weight(self.begin)
        self.posts = posts

    @abstractmethod
    def fill(self) -> None:
        """Write the slot's posts."""

    def count(self, rate: float) -> int:
        """How many events of something happening `rate` times an hour at weight 1 happen."""
        return poisson(self.rng, rate * self.weight)

    def moment(self) -> datetime:
        """A random millisecond within the slot."""
        return self.begin + timedelta(milliseconds=self.rng.randrange(3_600_000))

    def later(self, when: datetime, low: float, high: float) -> datetime:
        """`when` plus a random number of minutes between `low` and `high`."""
        return when + timedelta(seconds=round(self.rng.uniform(low, high) * 60, 3))

    def customer(self, lang: str | None = None, *, regular_share: float = 0.7) -> Person:
        """A recurring customer of this network (with probability `regular_share`) or a
        newcomer, optionally writing in `lang`."""
        rng = self.rng
        if rng.random() < regular_share:
            regulars = [p for p in self.regulars if lang in (None, p.lang)]
            return rng.choice(regulars)
        lang = lang or ("fr" if rng.random() < 0.6 else "en")
        firsts, lasts = content.NEWCOMER_NAMES[lang]
        first, last, number = rng.choice(firsts), rng.choice(lasts), rng.randrange(100)
        return self.directory.add(newcomer(lang, first, last, number, self.home))

    def address(self, author: Person) -> str:
        """How `author` mentions the brand's account on this network."""
        return self.brand.mention_from(author.domain)

    def headed(
        self,
        author: Person,
        when: datetime,
        kind: str,
        template: tuple[str, str],
        *,
        visibility: str = "public",
    ) -> tuple[Post, _Fill]:
        """A post with a heading (a thread's title, a message's subject) from a (title,
        text) `template`, and the values drawn to fill it (an answer may reuse them)."""
        title, text = template
        values = _Fill(self.rng, author.lang, {"name": content.BRAND_NAME})
        body = text.format_map(values)
        post = _post(
            self.next_id(when),
            author,
            when,
            body,
            self.directory,
            kind=kind,
            visibility=visibility,
            title=title.format_map(values),
        )
        self.posts.append(post)
        return post, values

    def write(
        self,
        author: Person,
        when: datetime,
        kind: str,
        values: dict[str, str],
        parent: Post | Announcement | None = None,
        template: str | None = None,
        *,
        visibility: str = "public",
    ) -> Post:
        """Fill a template of `kind` in the author's language and add the post to the slot."""
        rng, lang = self.rng, author.lang
        fill = _Fill(rng, lang, {"name": content.BRAND_NAME, **values})
        text = (template or rng.choice(content.TEMPLATES[kind][lang])).format_map(fill)
        tone = TONES[kind]
        if kind not in _WITHOUT_CLOSER:
            text += rng.choice(content.CLOSERS[lang][tone])
        tagged = visibility == "public" and kind not in _UNTAGGED
        if tagged and "#" not in text and rng.random() < 0.12:
            text += " #maisonlumiere"
        parent_author = None
        if isinstance(parent, Post):
            parent_author = parent.author
        elif isinstance(parent, Announcement):
            parent_author = self.scenario.announcers[parent.account].person
        post = Post(
            id=self.next_id(when),
            author=author,
            created_at=when,
            text=text,
            segments=parse_text(text, author.domain, self.directory),
            lang=lang,
            kind=kind,
            tone=tone,
            parent_id=parent.id if parent is not None else None,
            parent_author=parent_author,
            visibility=visibility,
        )
        self.posts.append(post)
        return post

    def next_id(self, when: datetime) -> str:
        """The id of the slot's next post."""
        return snowflake(when, (self.index & 0x1F) << 10 | len(self.posts))

    def reply_to(self, post: Post, kind: str, low: float, high: float) -> None:
        """Another customer answers `post` under it, `low` to `high` minutes later."""
        replier = self.customer(post.author.lang)
        if replier.handle == post.author.handle:
            return
        values = {"op": post.author.mention_from(replier.domain)}
        self.write(replier, self.later(post.created_at, low, high), kind, values, post)

    def follow_up(self, post: Post) -> None:
        """The author of an unanswered complaint insists, under it, within the next hours."""
        brand = post.mentions[0] if post.mentions else self.brand
        values = {"brand": brand.mention_from(post.author.domain)}
        self.write(post.author, self.later(post.created_at, 30, 90), "followup", values, post)

    def announcements(self) -> None:
        """The posts this network's announcers publish within the slot."""
        day = self.begin.astimezone(PARIS).date()
        for account in self.accounts:
            found = self.scenario.announcement(account, day)
            if found is not None and self.begin <= found.when < self.begin + SLOT:
                self.announce(found)

    def announce(self, found: Announcement) -> None:
        """The brand's own post (an announcement, a blog post), written with its fixed id."""
        announcer = self.scenario.announcers[found.account]
        brand = announcer.person
        new = content.VOCAB[found.lang]["new"][found.product]
        slug = content.NEW_SLUGS[found.product]
        values = {
            "new": new,
            "New": new[:1].upper() + new[1:],
            "shop_link": f"{content.SHOP}/collections/{slug}?utm_source={announcer.source}",
        }
        template = _templates(announcer.kind, found.lang)[found.template]
        title, body = template if isinstance(template, tuple) else ("", template)
        text = body.format_map(values)
        self.posts.append(
            Post(
                id=found.id,
                author=brand,
                created_at=found.when,
                text=text,
                segments=parse_text(text, brand.domain, self.directory),
                lang=found.lang,
                kind=announcer.kind,
                tone=TONES[announcer.kind],
                title=title.format_map(values),
            )
        )


class _CrisisWriter(_Writer):
    """A network lot 42 reaches: its crisis posts follow `Scenario.crisis_rate`."""

    @abstractmethod
    def crisis(self, when: datetime) -> None:
        """One lot 42 post at `when`, and what it sets off."""

    def crisis_wave(self) -> None:
        """The slot's crisis posts (one draw before the crisis arrives, as ever)."""
        scenario = self.scenario
        step = SLOT / _CRISIS_STEPS
        points = [self.begin + step * (n + 0.5) for n in range(_CRISIS_STEPS)]
        rates = (scenario.crisis_rate(self.network, at) for at in points)
        expected = sum(rates) * (step / timedelta(hours=1))
        for _ in range(poisson(self.rng, expected)):
            self.crisis(self.crisis_moment())

    def crisis_moment(self) -> datetime:
        """A moment of the slot drawn as the crisis rate runs (rejection sampling: the rate
        is highest at the slot's start or at the crisis' arrival, the burst only decaying)."""
        scenario = self.scenario
        arrival = scenario.crisis_arrival(self.network)
        highest = scenario.crisis_rate(self.network, max(self.begin, arrival))
        while True:
            when = self.moment()
            if self.rng.random() * highest <= scenario.crisis_rate(self.network, when):
                return when

    def victim(self) -> Person:
        """Who reports lot 42: mostly someone who never posted before."""
        return self.customer(regular_share=1 - CRISIS_NEWCOMERS)

    def echo_template(self, lang: str) -> str:
        """How someone repeats a lot 42 post, in `lang`."""
        return self.rng.choice(content.TEMPLATES["echo"][lang])

    def echoes(self, victim: Post, when: datetime) -> None:
        """Others repeat `victim`'s lot 42 post: in its thread, or on their own."""
        for _ in range(poisson(self.rng, CRISIS_ECHOES)):
            echoer = self.victim()
            if echoer.handle == victim.author.handle:
                continue
            template = self.echo_template(echoer.lang)
            values = {
                "victim": victim.author.mention_from(echoer.domain),
                "brand": self.address(echoer),
            }
            parent = victim if template.startswith("{victim}") else None
            self.write(echoer, self.later(when, 2, 45), "echo", values, parent, template)


class _FediverseWriter(_CrisisWriter):
    """The Mastodon instances: ordinary traffic, the crisis, announcements and the troll."""

    regulars = content.REGULARS
    accounts = (0, 1)

    def fill(self) -> None:
        """Ordinary traffic, the crisis, the brand's announcements and the troll."""
        rng, scenario = self.rng, self.scenario
        for _ in range(self.count(BASE_RATE)):
            self.event(_pick(rng, KINDS), self.moment())
        self.crisis_wave()
        self.announcements()
        scheduled = self.begin <= scenario.troll_at < self.begin + SLOT
        if scheduled or rng.random() < TROLL_RATE:
            self.troll(scenario.troll_at if scheduled else self.moment(), every_trick=scheduled)

    def target(self, author: Person) -> int:
        """Which brand account `author` addresses: mostly Piaille in French, Mastodon in English."""
        if author.lang == "fr":
            return 1 if self.rng.random() < 0.55 else 0
        return 1 if self.rng.random() < 0.08 else 0

    def address(self, author: Person, account: int | None = None) -> str:
        """How `author` writes a mention of the brand account they address."""
        brand = self.scenario.brands[self.target(author) if account is None else account]
        return brand.mention_from(author.domain)

    def event(self, kind: str, when: datetime) -> None:
        """One ordinary event: a post, sometimes with its follow-up or its thread."""
        if kind == "journalist":
            author = content.JOURNALIST
        elif kind == "competitor":
            author = content.COMPETITOR_FAN
        elif kind == "influencer":
            author = content.INFLUENCER
        else:
            author = self.customer()
        if kind == "recommend":
            self.recommend(author, when)
        elif kind == "thread":
            root = self.write(author, when, "thread_root", {})
            self.reply_to(root, "third_party", 5, 60)
        elif kind == "announcement_reply":
            self.announcement_reply(author, when)
        else:
            post = self.write(author, when, kind, {"brand": self.address(author)})
            if kind == "complaint" and self.rng.random() < 0.25:
                self.follow_up(post)

    def recommend(self, author: Person, when: datetime) -> None:
        """A customer tells a friend about the brand, mentioning it or only naming it."""
        friend = self.rng.choice([p for p in content.REGULARS if p.handle != author.handle])
        who = self.address(author) if self.rng.random() < 0.5 else content.BRAND_NAME
        self.write(
            author, when, "recommend", {"friend": friend.mention_from(author.domain), "who": who}
        )

    def announcement_reply(self, author: Person, when: datetime) -> None:
        """A reply to the brand's latest announcement, or a plain question when there is none."""
        account = self.target(author)
        found = self.scenario.latest_announcement(account, when)
        if found is None:
            self.write(author, when, "question", {"brand": self.address(author, account)})
            return
        new = content.VOCAB[author.lang]["new"][found.product]
        values = {"brand": self.address(author, account), "new": new}
        self.write(author, when, "announcement_reply", values, found)

    def crisis(self, when: datetime) -> None:
        """A post about lot 42, mostly by someone new, then echoes of it."""
        author = self.victim()
        self.echoes(self.write(author, when, "crisis", {"brand": self.address(author)}), when)

    def troll(self, when: datetime, *, every_trick: bool) -> None:
        """A hostile post; the scheduled one of the history uses every trick at once."""
        troll = content.TROLL
        text = content.TROLL_TEXTS[0] if every_trick else self.rng.choice(content.TROLL_TEXTS)
        values = {"brand": self.scenario.brands[0].mention_from(troll.domain)}
        self.write(troll, when, "troll", values, template=text)


class _FediverseExtrasWriter(_Writer):
    """What the fediverse's ordinary traffic lacks, on its own RNG (so that traffic is
    unchanged): mentions from brand-new accounts, which the servers hold in notification
    requests; direct messages to the brand; complaints under a content warning; questions
    their authors edit a few minutes later."""

    regulars = content.REGULARS
    seed_label = "mastodon-extras:slot"

    def fill(self) -> None:
        """The slot's held mentions, direct messages, content warnings and edits."""
        rng = self.rng
        for _ in range(self.count(STRANGER_RATE)):
            self.addressed(self.stranger(), _pick(rng, STRANGER_KINDS))
        for _ in range(self.count(MASTODON_DM_RATE)):
            self.addressed(self.customer(), _pick(rng, MASTODON_DM_KINDS), visibility="direct")
        for _ in range(self.count(CW_RATE)):
            post = self.addressed(self.customer(), "complaint")
            cw = rng.choice(content.CONTENT_WARNINGS[post.lang])
            self.posts[-1] = replace(post, spoiler=cw)
        for _ in range(self.count(EDIT_RATE)):
            post = self.addressed(self.customer(), "question")
            text = post.text + rng.choice(content.EDIT_NOTES[post.lang])
            self.posts[-1] = replace(
                post,
                text=text,
                segments=parse_text(text, post.author.domain, self.directory),
                edited_at=self.later(post.created_at, 3, 20),
                before_edit=post.segments,
            )

    def stranger(self) -> Person:
        """Someone whose account is days old (the role the servers' filter holds)."""
        rng = self.rng
        lang = "fr" if rng.random() < 0.6 else "en"
        firsts, lasts = content.NEWCOMER_NAMES[lang]
        number = 101 + 2 * rng.randrange(50)  # odd: a username with its number, unlike others'
        person = newcomer(lang, rng.choice(firsts), rng.choice(lasts), number)
        return self.directory.add(replace(person, role="new_account"))

    def addressed(self, author: Person, kind: str, *, visibility: str = "public") -> Post:
        """A post of `kind` that mentions a brand account (the French one for most French
        authors), whatever its template says."""
        brand = self.scenario.brands[1 if author.lang == "fr" else 0]
        template = self.rng.choice(content.TEMPLATES[kind][author.lang])
        if "{brand}" not in template:
            template = "{brand} " + template
        values = {"brand": brand.mention_from(author.domain)}
        return self.write(
            author, self.moment(), kind, values, template=template, visibility=visibility
        )


class _FacebookWriter(_CrisisWriter):
    """The brand's Facebook page: comments under its posts (some answered by other
    customers), posts on its wall, Messenger, and the first of the lot 42 photos."""

    network = "facebook"
    brand = content.FACEBOOK_PAGE
    regulars = content.FACEBOOK_REGULARS
    home = content.FACEBOOK
    accounts = (FACEBOOK_PAGE,)

    def fill(self) -> None:
        """The page's post of the day, comments, wall posts, Messenger, the crisis."""
        rng = self.rng
        self.announcements()
        for _ in range(self.count(FACEBOOK_COMMENT_RATE)):
            self.comment(_pick(rng, FACEBOOK_KINDS), self.moment())
        for _ in range(self.count(FACEBOOK_VISITOR_RATE)):
            self.to_page(self.customer(), self.moment(), _pick(rng, VISITOR_KINDS))
        for _ in range(self.count(FACEBOOK_MESSENGER_RATE)):
            author, kind = self.customer(), _pick(rng, MESSENGER_KINDS)
            self.to_page(author, self.moment(), kind, visibility="direct")
        self.crisis_wave()

    def to_page(
        self, author: Person, when: datetime, kind: str, *, visibility: str = "public"
    ) -> Post:
        """A post on the page's wall, or a Messenger message when direct: either mentions the
        page, which is how its inbox finds them."""
        template = self.rng.choice(
            [t for t in content.TEMPLATES[kind][author.lang] if "{brand}" in t]
        )
        values = {"brand": self.address(author)}
        return self.write(author, when, kind, values, template=template, visibility=visibility)

    def echo_template(self, lang: str) -> str:
        """An echo answering the victim's comment, or one on the page's wall mentioning it."""
        echoes = content.TEMPLATES["echo"][lang]
        return self.rng.choice([t for t in echoes if t.startswith("{victim}") or "{brand}" in t])

    def comment(self, kind: str, when: datetime) -> None:
        """A comment under the page's latest post (on its wall while it has none). The page is
        named, as Facebook shows a tag, not mentioned: the comment is on its post already."""
        author = self.customer()
        found = self.scenario.latest_announcement(FACEBOOK_PAGE, when)
        if found is None:
            self.to_page(author, when, "question" if kind == "announcement_reply" else kind)
            return
        new = content.VOCAB[author.lang]["new"][found.product]
        post = self.write(author, when, kind, {"brand": content.BRAND_NAME, "new": new}, found)
        if kind == "question" and self.rng.random() < REPLY_SHARE:
            self.reply_to(post, "comment_reply", 3, 90)
        elif kind == "complaint" and self.rng.random() < 0.25:
            self.follow_up(post)

    def crisis(self, when: datetime) -> None:
        """A lot 42 photo under the page's latest post, sometimes on Messenger too; echoes
        answer it under it or post on the page's wall."""
        author = self.victim()
        found = self.scenario.latest_announcement(FACEBOOK_PAGE, when)
        if found is None:
            victim = self.to_page(author, when, "crisis")
        else:
            victim = self.write(author, when, "crisis", {"brand": content.BRAND_NAME}, found)
        if self.rng.random() < CRISIS_DM_SHARE:
            self.to_page(author, self.later(when, 1, 20), "crisis", visibility="direct")
        self.echoes(victim, when)


class _XWriter(_CrisisWriter):
    """X: posts mentioning the brand's account, posts only naming it, and lot 42."""

    network = "x"
    brand = content.X_ACCOUNT
    regulars: tuple[Person, ...] = content.X_REGULARS
    home = content.XNET
    rates: tuple[float, float] = (X_MENTION_RATE, X_SEARCH_RATE)  # mentions, posts naming the brand

    def fill(self) -> None:
        """Mentions (some answered, some insisted on), posts naming the brand, the crisis."""
        rng = self.rng
        mention_rate, search_rate = self.rates
        for _ in range(self.count(mention_rate)):
            author, kind = self.customer(), _pick(rng, X_KINDS)
            post = self.write(author, self.moment(), kind, {"brand": self.address(author)})
            if kind == "question" and rng.random() < REPLY_SHARE:
                self.reply_to(post, "comment_reply", 2, 60)
            elif kind == "complaint" and rng.random() < 0.25:
                self.follow_up(post)
        for _ in range(self.count(search_rate)):
            author = self.customer()
            kind = _pick(rng, X_SEARCH_KINDS)
            self.write(author, self.moment(), kind, {"brand": content.BRAND_NAME})
        self.crisis_wave()

    def crisis(self, when: datetime) -> None:
        """A lot 42 post mentioning the brand, then echoes in its conversation or beside it."""
        author = self.victim()
        self.echoes(self.write(author, when, "crisis", {"brand": self.address(author)}), when)


class _BlueskyWriter(_XWriter):
    """Bluesky: the same kinds of posts as on X, fewer of them, and lot 42 a little later."""

    network = "bluesky"
    brand = content.BSKY_ACCOUNT
    regulars = content.BSKY_REGULARS
    home = content.BSKY
    rates = (BSKY_MENTION_RATE, BSKY_SEARCH_RATE)


class _BlogWriter(_Writer):
    """The brand's WordPress blog: its posts, and comments under the latest one."""

    network = "wordpress"
    brand = content.BLOG_OWNER
    regulars = content.BLOG_REGULARS
    home = content.BLOG
    accounts = (BLOG,)

    def fill(self) -> None:
        """The blog post of the day, if any, then comments; some are held for moderation."""
        self.announcements()
        for _ in range(self.count(BLOG_COMMENT_RATE)):
            self.comment(_pick(self.rng, BLOG_KINDS), self.moment())

    def comment(self, kind: str, when: datetime) -> None:
        """A comment under the latest blog post; held ones mostly come from new people."""
        found = self.scenario.latest_announcement(BLOG, when)
        if found is None:
            return
        author = self.customer(regular_share=0.2 if kind == "held" else 0.6)
        post = self.write(author, when, kind, {}, found)
        if kind == "blog_question" and self.rng.random() < REPLY_SHARE:
            self.reply_to(post, "comment_reply", 10, 240)


class _NewsWriter(_Writer):
    """The press: articles naming the brand, and on lot 42 once the crisis has spread."""

    network = "feed"

    def fill(self) -> None:
        """The slot's articles, and the crisis' scheduled ones."""
        for _ in range(self.count(ARTICLE_RATE)):
            self.article(self.rng.choice(content.NEWS_WRITERS), self.moment(), "article")
        for delay, writer in CRISIS_ARTICLES:
            when = self.scenario.crisis_onset + delay
            if self.begin <= when < self.begin + SLOT:
                self.article(content.NEWS_WRITERS[writer], when, "article_crisis")

    def article(self, author: Person, when: datetime, kind: str) -> None:
        """An article (kind "article" whatever its subject), with its title."""
        title, text = self.rng.choice(content.TITLED[kind][author.lang])
        values = _Fill(self.rng, author.lang, {"name": content.BRAND_NAME})
        body = text.format_map(values)
        self.posts.append(
            Post(
                id=self.next_id(when),
                author=author,
                created_at=when,
                text=body,
                segments=parse_text(body, author.domain, self.directory),
                lang=author.lang,
                kind="article",
                tone="negative" if kind == "article_crisis" else TONES["article"],
                title=title.format_map(values),
            )
        )


HN_SHOW_BEFORE_LIVE = timedelta(hours=30)  # the Show HN, a day and a half before the demo
HN_ASK_AFTER_ONSET = timedelta(hours=4)  # the Ask HN, the evening the crisis broke out
_HN_SEQUENCE = 900  # the low sequence bits of scripted HN items (+ their place in the thread)


class _HackerNewsWriter(_Writer):
    """Hacker News: the scripted Show HN and Ask HN threads (`content.HN_SHOW`, `HN_ASK`),
    each item written in the slot its time falls in, with an id any later slot can compute
    (its parent's). A thread whose story would come before the world's start is left out."""

    network = "hackernews"
    home = content.HN

    def fill(self) -> None:
        """The threads' items whose time falls in this slot."""
        scenario = self.scenario
        threads = (
            ("show", scenario.live_from - HN_SHOW_BEFORE_LIVE, content.HN_SHOW),
            ("ask", scenario.crisis_onset + HN_ASK_AFTER_ONSET, content.HN_ASK),
        )
        people = {person.username: person for person in content.HN_PEOPLE}
        for name, anchor, entries in threads:
            if anchor < scenario.start:
                continue
            placed = {e.key: self._placed(name, anchor, n, e) for n, e in enumerate(entries)}
            for entry in entries:
                when, post_id = placed[entry.key]
                if self.begin <= when < self.begin + SLOT:
                    parent = placed[entry.parent or "story"][1] if entry.key != "story" else None
                    self._item(entry, people[entry.author], when, post_id, parent)

    def _placed(
        self, thread: str, anchor: datetime, number: int, entry: content.HnEntry
    ) -> tuple[datetime, str]:
        """When an entry is written (its minutes after the story, plus a few seconds drawn
        from its own RNG), and its id."""
        rng = random.Random(f"{self.scenario.seed}:hn:{thread}:{entry.key}")
        when = anchor + timedelta(minutes=entry.minutes, milliseconds=rng.randrange(59_000))
        slot = (when - self.scenario.start) // SLOT
        return when, snowflake(when, (slot & 0x1F) << 10 | (_HN_SEQUENCE + number))

    def _item(
        self,
        entry: content.HnEntry,
        author: Person,
        when: datetime,
        post_id: str,
        parent: str | None,
    ) -> None:
        self.posts.append(
            _post(
                post_id,
                author,
                when,
                entry.text,
                self.directory,
                kind="hn_comment" if parent else "hn_story",
                tone=entry.tone,
                parent_id=parent,
                title=entry.title,
            )
        )


class _RedditWriter(_Writer):
    """Reddit: threads naming the brand in two subreddits, their comments (some summoning
    the brand's account, some deleted or removed), and private messages to it."""

    network = "reddit"
    brand = content.REDDIT_ACCOUNT
    regulars = content.REDDIT_REGULARS
    home = content.REDDIT

    def fill(self) -> None:
        """The slot's threads with their comments, and private messages."""
        for _ in range(self.count(REDDIT_THREAD_RATE)):
            self.thread(self.customer(), self.moment())
        for _ in range(self.count(REDDIT_PM_RATE)):
            self.titled(self.customer(), self.moment(), "reddit_pm", visibility="direct")

    def address(self, author: Person) -> str:
        """A summons, as Reddit writes it: u/name."""
        return f"u/{self.brand.username}"

    def thread(self, author: Person, when: datetime) -> None:
        """A post naming the brand, then comments under it or under each other."""
        root = self.titled(author, when, "reddit_thread")
        under = [root]
        for _ in range(poisson(self.rng, REDDIT_COMMENTS)):
            kind = _pick(self.rng, REDDIT_KINDS)
            commenter = self.customer(root.lang)
            parent = root if self.rng.random() < 0.6 else self.rng.choice(under)
            template = self.rng.choice(
                content.TEMPLATES[_REDDIT_TEMPLATE.get(kind, kind)][commenter.lang]
            )
            values = {"brand": self.address(commenter), "op": f"u/{parent.author.username}"}
            later = self.later(parent.created_at, 2, 180)
            under.append(self.write(commenter, later, kind, values, parent, template))

    def titled(
        self, author: Person, when: datetime, kind: str, *, visibility: str = "public"
    ) -> Post:
        """A post with a title (a thread) or a subject (a private message)."""
        title, text = self.rng.choice(content.TITLED[kind][author.lang])
        return self.headed(author, when, kind, (title, text), visibility=visibility)[0]


class _ForumWriter(_Writer):
    """The brand's Discourse community forum: members open topics (a title and a question,
    some naming the brand), answer each other, the brand answers some of them (and is
    answered back), and members call its user in with an @-mention."""

    network = "discourse"
    brand = content.FORUM_OWNER
    regulars = content.FORUM_REGULARS
    home = content.FORUM

    def fill(self) -> None:
        """The slot's topics, their answers, and mentions of the brand in the latest one."""
        count = self.count(FORUM_TOPIC_RATE)
        topics = [self.topic(self.customer(), self.moment()) for _ in range(count)]
        for _ in range(self.count(FORUM_MENTION_RATE)):
            root = topics[-1] if topics else self.topic(self.customer(), self.moment())
            author = self.customer()
            when = self.later(root.created_at, 5, 60)
            self.write(author, when, "forum_mention", {"brand": self.address(author)}, root)

    def topic(self, author: Person, when: datetime) -> Post:
        """A topic (its first post carries the title), then maybe a member's answer, and in
        the history maybe the brand's answer and the member's reply to it."""
        topics = content.TITLED["forum_topic"][author.lang]
        index = self.rng.randrange(len(topics))
        root, values = self.headed(author, when, "forum_topic", topics[index])
        if self.rng.random() < REPLY_SHARE:
            self.reply_to(root, "comment_reply", 5, 120)
        answered_at = self.later(when, 20, 180)
        history = answered_at < self.scenario.live_from and author.lang == self.brand.lang
        if history and self.rng.random() < FORUM_ANSWERED:  # Léa answers in French
            template = content.TEMPLATES["forum_answer"][author.lang][index]
            # The same candle, country or city as the question (the values it drew).
            answer = self.write(self.brand, answered_at, "forum_answer", values, root, template)
            self.write(author, self.later(answered_at, 10, 90), "forum_followup", {}, answer)
        return root


# In this order, the fediverse first: each network's ids follow the ones before it, so a
# network added at the end leaves every other network's ids as they were.
_WRITERS: tuple[type[_Writer], ...] = (
    _FediverseWriter,
    _FacebookWriter,
    _XWriter,
    _BlogWriter,
    _NewsWriter,
    _BlueskyWriter,
    _HackerNewsWriter,
    _RedditWriter,
    _FediverseExtrasWriter,
    _ForumWriter,
)
