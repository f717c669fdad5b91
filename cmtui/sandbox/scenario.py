"""The Maison Lumière scenario: who posts what, when, and how people answer the brand back.

Everything is drawn from RNGs seeded by the scenario seed plus a fixed label (the hour slot,
the day of an announcement, the id of a brand reply), never from one shared stream, so the
world at a given time is the same however often and in whatever order it was looked at.

The rhythm follows Europe/Paris hours (quiet nights, busy mornings and lunch, slower weekend
mornings); a crisis about lot 42 of the Ambre candle breaks out at 14:00 the day before the
live part begins, as crises do: a photo spreads and a burst of distinct customers (mostly
first-time posters) report the same cracked glass within minutes, then it settles into a
steady stream of complaints that lasts through the demo; a troll shows up at least once in
the history.
"""

from __future__ import annotations

import math
import random
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
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
BASE_RATE = 4.5
CRISIS_PEAK = 2.5  # crisis posts per hour at weight 1, once the burst has died down
CRISIS_BURST = 36.0  # extra crisis posts per hour at the onset, whatever the hour...
CRISIS_HALF_LIFE = timedelta(hours=2)  # ...halving every two hours
CRISIS_NEWCOMERS = 0.75  # share of crisis posts from people who never posted before
CRISIS_ECHOES = 0.8  # mean echoes of each crisis post
_CRISIS_STEPS = 12  # the slot's expected crisis posts, summed five minutes at a time
TROLL_RATE = 0.008  # chance per slot of an extra troll post
ANSWER_BACK_CHANCE = 0.6

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
_KIND_NAMES = tuple(name for name, _ in KINDS)
_KIND_WEIGHTS = tuple(weight for _, weight in KINDS)
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
}
_WITHOUT_CLOSER = frozenset({"announcement", "troll"})  # the brand's and the troll's own words
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


def newcomer(lang: str, first: str, last: str, number: int) -> Person:
    """A first-time poster; everything about them follows from their name and number."""
    user, family = _ascii(first), _ascii(last)
    username = (
        f"{user}{family}",
        f"{user}_{family}{number}",
        f"{user}.{family[0]}",
        f"{user}{number}",
    )[number % 4]
    display = (f"{first} {last}", f"{first} {last[0]}.", first)[number % 3]
    emoji = content.NAME_EMOJI[number % len(content.NAME_EMOJI)]
    domain = content.INSTANCES[number % len(content.INSTANCES)]
    return Person(username, domain, display + emoji, lang, "newcomer", 5 + 3 * number)


@dataclass(frozen=True, slots=True)
class Announcement:
    """A post of the brand's own, which people then reply to."""

    account: int  # index into Scenario.brands
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
        self.brands = content.BRANDS

    def people(self) -> list[Person]:
        """Everyone known from the start: the brand's accounts and the recurring personas."""
        cast = [content.JOURNALIST, content.COMPETITOR_FAN, content.INFLUENCER, content.TROLL]
        return [*self.brands, *content.REGULARS, *cast]

    def crisis_rate(self, when: datetime) -> float:
        """Crisis posts per hour at `when`: none before the onset, a burst at it that halves
        every CRISIS_HALF_LIFE, over a steady stream following the day's rhythm."""
        if when < self.crisis_onset:
            return 0.0
        halvings = (when - self.crisis_onset) / CRISIS_HALF_LIFE
        burst = CRISIS_BURST * math.pow(0.5, halvings)
        return CRISIS_PEAK * paris_hour_weight(when) + burst

    def announcement(self, account: int, day: date) -> Announcement:
        """The brand account's announcement of the (Paris) `day`: mornings, then lunchtime."""
        rng = random.Random(f"{self.seed}:announce:{account}:{day.isoformat()}")
        local = time(10, rng.randrange(45)) if account == 0 else time(12, 15 + rng.randrange(40))
        when = datetime.combine(day, local, PARIS).astimezone(UTC)
        when += timedelta(seconds=rng.randrange(60))
        lang = "fr" if account == 1 or day.toordinal() % 2 else "en"
        template = rng.randrange(len(content.TEMPLATES["announcement"][lang]))
        product = rng.randrange(len(content.NEW_SLUGS))
        slot = (when - self.start) // SLOT
        post_id = snowflake(when, (slot & 0x1F) << 10 | (1000 + account))
        return Announcement(account, when, lang, template, product, post_id)

    def latest_announcement(self, account: int, when: datetime) -> Announcement | None:
        """The newest announcement of `account` at least a few minutes before `when`."""
        today = when.astimezone(PARIS).date()
        for back in range(3):
            found = self.announcement(account, today - timedelta(days=back))
            if found.when < self.start:
                return None
            if found.when + timedelta(minutes=3) <= when:
                return found
        return None

    def slot_posts(self, index: int, directory: Directory) -> list[Post]:
        """Every post of hour slot `index`, drawn from an RNG seeded by the seed and index."""
        writer = _SlotWriter(self, index, directory)
        writer.fill()
        return writer.posts

    def answer_back(self, reply: Post, parent: Post, world: World) -> Post | None:
        """Maybe the customer's answer to the brand's `reply` to their `parent` post.

        Drawn from the seed and the reply's id: 60% of replies get one, 2 to 20 minutes
        later, in the customer's language; a fix (refund, replacement, a link) is thanked,
        a non-answer to a complaint often draws insistence.
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
        values = _Fill(rng, person.lang, {"brand": reply.author.mention_from(person.domain)})
        text = template.format_map(values)
        return Post(
            id=world.new_id(when),
            author=person,
            created_at=when,
            text=text,
            segments=parse_text(text, person.domain, world.directory),
            lang=person.lang,
            kind=kind,
            tone=TONES[kind],
            parent_id=reply.id,
            parent_author=reply.author,
        )


class _SlotWriter:
    """Writes the posts of one hour slot; its RNG is seeded by (seed, slot index) only."""

    def __init__(self, scenario: Scenario, index: int, directory: Directory) -> None:
        self.scenario = scenario
        self.index = index
        self.directory = directory
        self.rng = random.Random(f"{scenario.seed}:slot:{index}")
        self.begin = scenario.start + index * SLOT
        self.posts: list[Post] = []

    def fill(self) -> None:
        """Ordinary traffic, the crisis, the brand's announcements and the troll."""
        rng, scenario = self.rng, self.scenario
        weight = paris_hour_weight(self.begin)
        for _ in range(poisson(rng, BASE_RATE * weight)):
            self.event(rng.choices(_KIND_NAMES, _KIND_WEIGHTS)[0], self.moment())
        step = SLOT / _CRISIS_STEPS
        points = [self.begin + step * (n + 0.5) for n in range(_CRISIS_STEPS)]
        expected = sum(scenario.crisis_rate(at) for at in points) * (step / timedelta(hours=1))
        for _ in range(poisson(rng, expected)):  # one draw before the onset, as ever
            self.crisis(self.crisis_moment())
        for account in range(len(scenario.brands)):
            day = self.begin.astimezone(PARIS).date()
            found = scenario.announcement(account, day)
            if self.begin <= found.when < self.begin + SLOT:
                self.announce(found)
        scheduled = self.begin <= scenario.troll_at < self.begin + SLOT
        if scheduled or rng.random() < TROLL_RATE:
            self.troll(scenario.troll_at if scheduled else self.moment(), every_trick=scheduled)

    def moment(self) -> datetime:
        """A random millisecond within the slot."""
        return self.begin + timedelta(milliseconds=self.rng.randrange(3_600_000))

    def crisis_moment(self) -> datetime:
        """A moment of the slot drawn as the crisis rate runs (rejection sampling: the rate
        is highest at the slot's start or at the onset, the burst only decaying after it)."""
        scenario = self.scenario
        highest = scenario.crisis_rate(max(self.begin, scenario.crisis_onset))
        while True:
            when = self.moment()
            if self.rng.random() * highest <= scenario.crisis_rate(when):
                return when

    def later(self, when: datetime, low: float, high: float) -> datetime:
        """`when` plus a random number of minutes between `low` and `high`."""
        return when + timedelta(seconds=round(self.rng.uniform(low, high) * 60, 3))

    def customer(self, lang: str | None = None, *, regular_share: float = 0.7) -> Person:
        """A recurring customer (with probability `regular_share`) or a newcomer, optionally
        writing in `lang`."""
        rng = self.rng
        if rng.random() < regular_share:
            regulars = [p for p in content.REGULARS if lang in (None, p.lang)]
            return rng.choice(regulars)
        lang = lang or ("fr" if rng.random() < 0.6 else "en")
        firsts, lasts = content.NEWCOMER_NAMES[lang]
        person = newcomer(lang, rng.choice(firsts), rng.choice(lasts), rng.randrange(100))
        return self.directory.add(person)

    def target(self, author: Person) -> int:
        """Which brand account `author` addresses: mostly Piaille in French, Mastodon in English."""
        if author.lang == "fr":
            return 1 if self.rng.random() < 0.55 else 0
        return 1 if self.rng.random() < 0.08 else 0

    def brand_mention(self, author: Person, account: int | None = None) -> str:
        """How `author` writes a mention of the brand account they address."""
        brand = self.scenario.brands[self.target(author) if account is None else account]
        return brand.mention_from(author.domain)

    def write(
        self,
        author: Person,
        when: datetime,
        kind: str,
        values: dict[str, str],
        parent: Post | Announcement | None = None,
        template: str | None = None,
    ) -> Post:
        """Fill a template of `kind` in the author's language and add the post to the slot."""
        rng, lang = self.rng, author.lang
        fill = _Fill(rng, lang, {"name": content.BRAND_NAME, **values})
        text = (template or rng.choice(content.TEMPLATES[kind][lang])).format_map(fill)
        tone = TONES[kind]
        if kind not in _WITHOUT_CLOSER:
            text += rng.choice(content.CLOSERS[lang][tone])
        if "#" not in text and rng.random() < 0.12:
            text += " #maisonlumiere"
        sequence = (self.index & 0x1F) << 10 | len(self.posts)
        parent_author = None
        if isinstance(parent, Post):
            parent_author = parent.author
        elif isinstance(parent, Announcement):
            parent_author = self.scenario.brands[parent.account]
        post = Post(
            id=snowflake(when, sequence),
            author=author,
            created_at=when,
            text=text,
            segments=parse_text(text, author.domain, self.directory),
            lang=lang,
            kind=kind,
            tone=tone,
            parent_id=parent.id if parent is not None else None,
            parent_author=parent_author,
        )
        self.posts.append(post)
        return post

    def event(self, kind: str, when: datetime) -> None:
        """One ordinary event: a post, sometimes with its follow-up or its thread."""
        rng = self.rng
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
            self.thread(author, when)
        elif kind == "announcement_reply":
            self.announcement_reply(author, when)
        else:
            post = self.write(author, when, kind, {"brand": self.brand_mention(author)})
            if kind == "complaint" and rng.random() < 0.25:
                brand = post.mentions[0] if post.mentions else self.scenario.brands[0]
                values = {"brand": brand.mention_from(author.domain)}
                self.write(author, self.later(when, 30, 90), "followup", values, post)

    def recommend(self, author: Person, when: datetime) -> None:
        """A customer tells a friend about the brand, mentioning it or only naming it."""
        friend = self.rng.choice([p for p in content.REGULARS if p.handle != author.handle])
        who = self.brand_mention(author) if self.rng.random() < 0.5 else content.BRAND_NAME
        self.write(
            author, when, "recommend", {"friend": friend.mention_from(author.domain), "who": who}
        )

    def thread(self, author: Person, when: datetime) -> None:
        """Someone asks their followers; another person names the brand in the replies."""
        root = self.write(author, when, "thread_root", {})
        replier = self.customer(author.lang)
        if replier.handle == author.handle:
            return
        values = {"op": author.mention_from(replier.domain)}
        self.write(replier, self.later(when, 5, 60), "third_party", values, root)

    def announcement_reply(self, author: Person, when: datetime) -> None:
        """A reply to the brand's latest announcement, or a plain question when there is none."""
        account = self.target(author)
        found = self.scenario.latest_announcement(account, when)
        if found is None:
            self.write(author, when, "question", {"brand": self.brand_mention(author, account)})
            return
        new = content.VOCAB[author.lang]["new"][found.product]
        values = {"brand": self.brand_mention(author, account), "new": new}
        self.write(author, when, "announcement_reply", values, found)

    def announce(self, found: Announcement) -> None:
        """The brand's announcement itself, written with its fixed id."""
        brand = self.scenario.brands[found.account]
        new = content.VOCAB[found.lang]["new"][found.product]
        link = f"{content.SHOP}/collections/{content.NEW_SLUGS[found.product]}?utm_source=mastodon"
        template = content.TEMPLATES["announcement"][found.lang][found.template]
        text = template.format(new=new, New=new[:1].upper() + new[1:], shop_link=link)
        self.posts.append(
            Post(
                id=found.id,
                author=brand,
                created_at=found.when,
                text=text,
                segments=parse_text(text, brand.domain, self.directory),
                lang=found.lang,
                kind="announcement",
                tone=TONES["announcement"],
            )
        )

    def crisis(self, when: datetime) -> None:
        """A post about lot 42, mostly by someone new, then echoes of it."""
        author = self.customer(regular_share=1 - CRISIS_NEWCOMERS)
        victim = self.write(author, when, "crisis", {"brand": self.brand_mention(author)})
        for _ in range(poisson(self.rng, CRISIS_ECHOES)):
            echoer = self.customer(regular_share=1 - CRISIS_NEWCOMERS)
            if echoer.handle == author.handle:
                continue
            template = self.rng.choice(content.TEMPLATES["echo"][echoer.lang])
            values = {
                "victim": author.mention_from(echoer.domain),
                "brand": self.brand_mention(echoer),
            }
            parent = victim if template.startswith("{victim}") else None
            moment = self.later(when, 2, 45)
            self.write(echoer, moment, "echo", values, parent, template)

    def troll(self, when: datetime, *, every_trick: bool) -> None:
        """A hostile post; the scheduled one of the history uses every trick at once."""
        troll = content.TROLL
        text = content.TROLL_TEXTS[0] if every_trick else self.rng.choice(content.TROLL_TEXTS)
        values = {"brand": self.scenario.brands[0].mention_from(troll.domain)}
        self.write(troll, when, "troll", values, template=text)
