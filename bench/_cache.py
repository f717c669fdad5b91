"""A realistic cmtui cache on disk for the benchmarks, built once and reused.

`data_dir(messages, conversations)` returns a data folder holding that many synthetic messages
in that many conversations (two brands, four Mastodon accounts, a year of activity, threads of
1 to ~120 messages, texts of 20 to 500 characters in French and English with emoji, brand
replies, sentiment). It is built under /tmp the first time and kept, keyed by a hash of this
file and of the store's code, so a store change rebuilds it and repeated runs start at once.
`bench_session(folder)` opens it as the app would, with a network that never answers, so sync
adds no rows while a benchmark runs.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cmtui
from cmtui.config import Account, Brand, Config
from cmtui.model import Author, Kind, Message, Platform
from cmtui.session import Session, open_session
from cmtui.store import Store

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
"""The benchmarks' clock: the newest message is a few minutes old."""
BRANDS = (Brand(name="Maison Lumière"), Brand(name="Atelier Nord"))
ACCOUNTS = tuple(
    Account(
        id=f"{brand}-{host}",
        brand=BRANDS[index // 2].name,
        platform=Platform.MASTODON,
        # Loopback, closed port: syncing adds nothing, and no traffic leaves the machine.
        base_url="http://127.0.0.1:9",
    )
    for index, (brand, host) in enumerate(
        [("ml", "masto"), ("ml", "piaille"), ("an", "masto"), ("an", "toot")]
    )
)
CONFIG = Config(brands=BRANDS, accounts=ACCOUNTS)
ROOT = Path(tempfile.gettempdir()) / "cmtui-bench"

_WORDS = (  # noqa: SIM905 - prose reads better than 70 quoted words
    "bonjour merci commande livraison retard colis bougie lampe parfum cassée abîmée "
    "remboursement échange magnifique adore super vraiment toujours encore jamais depuis "
    "semaine hier demain boutique site paiement carte question réponse service client "
    "hello thanks order delivery late parcel candle lamp scent broken refund exchange "
    "gorgeous love really still never since week yesterday tomorrow shop website payment "
    "question answer customer please help when where why how the and but with for"
).split()
_EMOJI = ("🕯️", "😍", "😞", "🙏", "✨", "👨\u200d👩\u200d👧", "🇫🇷", "💔", "👍🏽")
_FIRST = ("Claire", "Élodie", "Tom", "Aïcha", "Priya", "François", "Sam", "Zoé", "Maëlle", "Jonas")
_LAST = ("Dufresne", "Martin", "Becker", "Benali", "Raman", "Hébert", "O'Neill", "Garnier", "Liu")


def data_dir(messages: int = 100_000, conversations: int = 20_000) -> Path:
    """A data folder holding `messages` messages in `conversations` conversations."""
    folder = ROOT / _version() / f"{messages}-{conversations}"
    if not folder.exists():
        started = time.perf_counter()
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="building-", dir=folder.parent))
        _build(staging / "data", messages, conversations)
        (staging / "data").rename(folder)  # atomic: an interrupted build leaves no cache
        shutil.rmtree(staging)
        took = time.perf_counter() - started
        print(f"(built {folder} in {took:.0f} s; later runs reuse it)", flush=True)
    return folder


def bench_session(folder: Path) -> Session:
    """The session the app runs on, as a user's: real adapters, here on a closed port."""
    tokens = {account.id: "bench-token" for account in ACCOUNTS}
    return open_session(CONFIG, folder, tokens=tokens, clock=lambda: NOW)


def _version() -> str:
    """Changes whenever this file or the store's code (its on-disk format) changes."""
    digest = hashlib.sha256()
    package = Path(cmtui.__file__).parent
    for path in [Path(__file__), package / "model.py", *sorted((package / "store").glob("*.py"))]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _build(folder: Path, messages: int, conversations: int) -> None:
    rng = random.Random(20260310)
    with Store.open(folder) as store:
        for account in ACCOUNTS:
            batch = list(_messages(rng, account, messages, conversations))
            for first in range(0, len(batch), 10_000):
                store.add_messages(batch[first : first + 10_000], brand=account.brand)


def _messages(
    rng: random.Random, account: Account, messages: int, conversations: int
) -> Iterator[Message]:
    """This account's share of the messages: threads of skewed lengths over a year."""
    share = messages // len(ACCOUNTS)
    threads = conversations // len(ACCOUNTS)
    # Every thread has its root; the rest go mostly to a few busy threads (capped Pareto).
    lengths = [1] * threads
    weights = [min(rng.paretovariate(1.2), 100) for _ in range(threads)]
    for thread in rng.choices(range(threads), weights, k=share - threads):
        lengths[thread] += 1
    for thread, length in enumerate(lengths):
        started = NOW - timedelta(minutes=rng.uniform(5, 365 * 24 * 60))
        conversation = f"{account.id}:t{thread}"
        moment = started
        for position in range(length):
            moment = min(moment + timedelta(minutes=rng.expovariate(1 / 90)), NOW)
            native = f"t{thread}-{position}"
            own = position > 0 and rng.random() < 0.25
            yield Message(
                id=Message.make_id(account.id, native),
                account_id=account.id,
                platform=Platform.MASTODON,
                kind=Kind.MENTION if position == 0 else Kind.REPLY,
                native_id=native,
                conversation_id=conversation,
                parent_id=None if position == 0 else Message.make_id(account.id, f"t{thread}-0"),
                author=_brand_author(account) if own else _person(rng),
                text=_text(rng),
                url=f"{account.base_url}/@x/{native}",
                created_at=moment,
                lang=rng.choice(("fr", "en")),
                sentiment=None if own else round(rng.uniform(-1, 1), 2),
                is_own=own,
            )


def _brand_author(account: Account) -> Author:
    return Author(f"@{account.brand.split()[0].lower()}@{account.base_url[8:]}", account.brand)


def _person(rng: random.Random) -> Author:
    number = rng.randrange(5000)
    first, last = _FIRST[number % len(_FIRST)], _LAST[number // 10 % len(_LAST)]
    handle = f"@{first.lower()}{number}@social{number % 40}.example"
    name = f"{first} {last}" + (f" {_EMOJI[number % len(_EMOJI)]}" if number % 4 == 0 else "")
    return Author(handle, name if number % 5 else "")


def _text(rng: random.Random) -> str:
    """A post of 20 to 500 characters: mostly tweet-length, some long."""
    target = int(rng.choice((rng.uniform(20, 80), rng.uniform(80, 280), rng.uniform(280, 500))))
    words = ["@maisonlumiere"] if rng.random() < 0.6 else []
    length = 0
    while length < target:
        word = rng.choice(_EMOJI) if rng.random() < 0.04 else rng.choice(_WORDS)
        words.append(word)
        length += len(word) + 1
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice((".", " !", " ?", "…", ""))


if __name__ == "__main__":
    print(data_dir())
