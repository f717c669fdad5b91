"""The one gate for remote text: sanitising, HTML to text, links, handles, graphemes.

Everything a network sends is hostile (SAFETY.md). Adapters pass every remote string through
`safe_text()` (plain text) or `parse_html()` / `html_to_text()` (HTML) before it becomes a record
field, so nothing downstream ever sees terminal escapes, C0/C1 controls, bidi controls, invisible
characters, lone surrogates, zalgo stacks or unbounded lengths. The helpers around them show
links and handles truthfully (real domain, punycode) and count graphemes the way the networks
count reply length, without third-party libraries.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import urlsplit

_TRUNCATED = "…[truncated]"
_MAX_MARKS = 4  # extenders (combining marks, variation selectors, skin tones) per character
_MAX_JOINED = 8  # ZWJ joins in one emoji sequence; the longest real ones have 3
_CODEPOINTS_PER_GRAPHEME = 8  # input cap for safe_text, relative to max_chars
_MAX_LINK_TEXT = 200
_MAX_URL = 4096

# ECMA-48 sequences, ESC-introduced and C1-introduced. String sequences (OSC, DCS, SOS, PM, APC)
# end at BEL or ST; an unterminated one runs to the end of input, or to the next ESC.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# C0 but \t and \n, DEL, C1, bidi controls (Trojan Source), invisible and deprecated format
# characters, and the Hangul fillers used for blank-looking names.
_UNSAFE_CHARS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb"
)
_UNSAFE = re.compile(f"[{_UNSAFE_CHARS}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Tag characters survive only as an emoji flag tag sequence (subdivision flags).
_TAGS = re.compile(
    "(\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,7}\U000e007f)"
    "|[\U000e0000-\U000e007f]"
)
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n){3,}")
_URL_UNSAFE = re.compile(f"[{_UNSAFE_CHARS}\\s\\\\\u200d\ud800-\udfff\U000e0000-\U000e007f]")
# Default-ignorable code points (and controls) for keyword matching only.
_IGNORABLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
_HOMOGRAPH_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK", "COPTIC", "ARMENIAN", "CHEROKEE"})
_PICTOGRAPHIC_SINGLES = frozenset({0xA9, 0xAE, 0x203C, 0x2049, 0x3030, 0x303D, 0x3297, 0x3299})

# Grapheme cluster classes (an approximation of UAX #29 that needs only unicodedata).
_OTHER, _CONTROL, _EXTEND, _TAG, _ZWJ, _REGIONAL = range(6)


def _kind(ch: str) -> int:
    cp = ord(ch)
    if cp < 0x300:
        return _CONTROL if cp < 0x20 or 0x7F <= cp < 0xA0 or cp == 0xAD else _OTHER
    if cp == 0x200D:
        return _ZWJ
    if 0x1F1E6 <= cp <= 0x1F1FF:
        return _REGIONAL
    if 0xE0020 <= cp <= 0xE007F:
        return _TAG
    # Skin tones, ZWNJ, and Hangul vowel/final jamo (decomposed syllables) extend a cluster.
    if 0x1F3FB <= cp <= 0x1F3FF or cp == 0x200C or 0x1160 <= cp <= 0x11FF or 0xD7B0 <= cp <= 0xD7FF:
        return _EXTEND
    category = unicodedata.category(ch)
    if category in ("Mn", "Me", "Mc"):
        return _EXTEND
    if category in ("Cf", "Zl", "Zp"):  # every Cc is below U+0300
        return _CONTROL
    return _OTHER


def _is_pictographic(ch: str) -> bool:
    """Roughly Extended_Pictographic: what a ZWJ may join (not skin tones, not flag letters)."""
    cp = ord(ch)
    if 0x1F000 <= cp <= 0x1FFFD:
        return not (0x1F1E6 <= cp <= 0x1F1FF or 0x1F3FB <= cp <= 0x1F3FF)
    if 0x2100 <= cp <= 0x2BFF:
        return unicodedata.category(ch) == "So"
    return cp in _PICTOGRAPHIC_SINGLES


def _segment(text: str, *, clean: bool) -> list[str]:
    """Split into grapheme clusters; with `clean`, also drop what the sanitiser forbids.

    Cleaning keeps at most `_MAX_MARKS` extenders per character and keeps a ZWJ only between
    two pictographs (at most `_MAX_JOINED` of them). On already clean text both modes agree,
    which is what makes `safe_text` idempotent.
    """
    clusters: list[str] = []
    cur: list[str] = []
    glue = pictographic = regional_open = False  # glue: extenders may attach to `cur`
    marks = joined = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        kind = _kind(ch)
        i += 1
        if glue and kind in (_EXTEND, _TAG):
            if kind == _TAG or not clean or marks < _MAX_MARKS:
                cur.append(ch)
            marks += kind == _EXTEND
            continue
        if kind == _ZWJ and (clean or glue):
            joins = glue and pictographic and i < n and _is_pictographic(text[i])
            if joins and not (clean and joined >= _MAX_JOINED):
                cur += (ch, text[i])
                i += 1
                joined += 1
                marks = 0
            elif not clean:
                cur.append(ch)
            continue
        if kind == _REGIONAL and regional_open:
            cur.append(ch)
            regional_open = False
            continue
        if ch == "\n" and cur == ["\r"]:
            cur.append(ch)
            continue
        if cur:
            clusters.append("".join(cur))
        cur = [ch]
        glue = kind != _CONTROL
        pictographic = _is_pictographic(ch)
        regional_open = kind == _REGIONAL
        marks = joined = 0
    if cur:
        clusters.append("".join(cur))
    return clusters


def graphemes(text: str) -> list[str]:
    """Approximate extended grapheme clusters: what a user sees as one character.

    A base with its combining marks, variation selectors and skin tones, ZWJ emoji sequences,
    regional-indicator flag pairs, tag (subdivision flag) sequences, and CRLF each count once.
    """
    if text.isascii() and "\r\n" not in text:
        return list(text)
    return _segment(text, clean=False)


def grapheme_count(text: str) -> int:
    """How many graphemes `text` holds (Mastodon and Bluesky count reply length this way)."""
    return len(graphemes(text))


def _cut(clusters: list[str], keep: int, budget: int | None = None) -> str:
    """The first `keep` clusters (fewer if they exceed `budget` code points), right-stripped."""
    kept: list[str] = []
    size = 0
    for cluster in clusters[: max(keep, 0)]:
        size += len(cluster)
        if budget is not None and size > budget:
            break
        kept.append(cluster)
    return "".join(kept).rstrip()


def truncate_graphemes(text: str, limit: int, ellipsis: str = "…") -> str:
    """`text` cut to at most `limit` graphemes, `ellipsis` included; never splits a grapheme."""
    clusters = graphemes(text)
    if len(clusters) <= limit:
        return text
    return _cut(clusters, limit - grapheme_count(ellipsis)) + ellipsis


def without_surrogates(text: str) -> str:
    """`text` with surrogate pairs joined and lone surrogates turned into U+FFFD.

    A lone surrogate (from JSON `"\\ud800"` or an undecodable argv byte) cannot be encoded to
    UTF-8, so it would crash whatever sends or writes the text.
    """
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _clean(text: str, *, single_line: bool) -> str:
    """Every rule of `safe_text` except the length cap."""
    text = without_surrogates(text)
    text = _UNSAFE.sub("", _ESCAPES.sub("", text))
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    text = _TAGS.sub(lambda match: match.group(1) or "", text)
    if single_line:
        # Before segmenting: a mark after a newline is its own cluster, after a space it is not.
        text = text.replace("\n", " ").replace("\t", " ")
    if not text.isascii():
        text = "".join(_segment(text, clean=True))
    if single_line:
        return " ".join(text.split())
    return _BLANK_LINES.sub("\n\n\n", text)


def _sanitise(text: str, *, max_chars: int, single_line: bool, truncated: bool) -> str:
    # The input cap keeps the work linear; the same figure bounds the output, so a second pass
    # never cuts again (safe_text is idempotent).
    budget = max(max_chars, 0) * _CODEPOINTS_PER_GRAPHEME + len(_TRUNCATED)
    if len(text) > budget:
        text = text[:budget]
        truncated = True
    text = _clean(text, single_line=single_line)
    if not truncated and len(text) <= max_chars:
        return text
    clusters = graphemes(text)
    if not truncated and len(clusters) <= max_chars:
        return text
    kept = _cut(clusters, max_chars - len(_TRUNCATED), budget - len(_TRUNCATED))
    return kept + _TRUNCATED


def safe_text(text: str, *, max_chars: int = 5000, single_line: bool = False) -> str:
    """Remote text made safe to display, log, notify or copy.

    Removes terminal escape sequences (CSI, OSC, DCS, SOS, PM, APC in ESC and C1 forms, to the
    end of input when unterminated, and 2-byte ESC sequences), every other control except
    newline and tab, bidi controls and invisible characters (ZWJ kept inside emoji sequences,
    tag characters inside flag tag sequences); turns lone surrogates into U+FFFD; keeps at most
    4 combining marks per character; collapses more than 2 blank lines; and cuts to `max_chars`
    graphemes ending in "…[truncated]". `single_line` turns newlines and tabs into single
    spaces and trims (names, handles, snippets). Linear in `max_chars`, never raises, and
    `safe_text(safe_text(x)) == safe_text(x)`.
    """
    return _sanitise(text, max_chars=max_chars, single_line=single_line, truncated=False)


def first_line(text: str, limit: int = 200) -> str:
    """The first non-blank line of `text`, sanitised, on one line, cut to `limit` graphemes.

    Only the first `(limit + 1) * 8` code points after the leading whitespace are read (the cost
    stays linear in `limit`); a line that goes on past them, or text with no line shown in
    them, ends in "…". Runs of whitespace count once, as they are shown.
    """
    # Sanitised whole, not line by line: an escape sequence may span lines. Not through
    # safe_text, whose cap counts every space and whose marker would stick to the line.
    text = text.lstrip()
    budget = (limit + 1) * _CODEPOINTS_PER_GRAPHEME
    lines = _clean(text[:budget], single_line=False).split("\n")
    for index, line in enumerate(lines):
        line = " ".join(line.split())
        if not line:
            continue
        if index == len(lines) - 1 and len(text) > budget:  # the line goes on, unread
            return _cut(graphemes(line), limit - 1) + "…"
        return truncate_graphemes(line, limit)
    return "…" if len(text) > budget else ""


def match_key(text: str) -> str:
    """A form of `text` for keyword rules and sentiment only, never for display.

    NFKC, default-ignorable and tag characters removed, casefolded: "c\\u200br\\u200bisis"
    and "ＣＲＩＳＩＳ" both match "crisis".
    """
    return _IGNORABLE.sub("", unicodedata.normalize("NFKC", text)).casefold()


@lru_cache(maxsize=8)
def recent_match_key(text: str) -> str:
    """`match_key(text)`, remembered for the last few texts: ingest asks for the same post's
    key one step after the other (language, sentiment, priority, the search index's words)."""
    return match_key(text)


def is_mixed_script(name: str) -> bool:
    """True when the letters of `name` mix scripts that impersonators mix.

    Only Latin, Cyrillic, Greek, Coptic, Armenian and Cherokee count ("pаypal" with a Cyrillic
    "а"); CJK next to Latin is ordinary and not flagged. Digits, punctuation and emoji are
    ignored; compatibility forms (fullwidth, mathematical letters) count as their script.
    """
    scripts: set[str] = set()
    for ch in unicodedata.normalize("NFKC", name):
        if ch.isalpha():
            script = unicodedata.name(ch, "").partition(" ")[0]
            if script in _HOMOGRAPH_SCRIPTS:
                scripts.add(script)
                if len(scripts) > 1:
                    return True
    return False


def _ascii_host(host: str) -> str:
    """`host` lowercased in ASCII: IDNA (punycode) where valid, raw punycode labels otherwise."""
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return ".".join(
            label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
            for label in host.split(".")
        )


def display_handle(username: str, domain: str | None = None) -> str:
    """The handle as shown everywhere, "@user@domain": sanitised user, ASCII/punycode domain.

    The domain is never shown in Unicode, so a look-alike ("pаypal.example") reads as
    "xn--pypal-4ve.example". A username in Mastodon's `acct` form ("user@domain") supplies the
    domain when none is given; an explicit `domain` wins, so a username can never pose as
    another server's account. Without any domain the result is "@user".
    """
    user = "".join(safe_text(username, max_chars=_MAX_LINK_TEXT, single_line=True).split())
    user, _, embedded = user.lstrip("@").partition("@")
    host = safe_text(domain or embedded, max_chars=_MAX_LINK_TEXT, single_line=True)
    host = "".join(_ascii_host(host).split()).replace("@", "")
    return f"@{user}@{host}" if host else f"@{user}"


def safe_url(url: str) -> str | None:
    """`url` when it is safe to open, else None.

    Safe means: absolute http(s) with a host, a valid port, no control, bidi, invisible,
    whitespace or backslash characters (browsers read "\\" as "/" and would reach another host
    than the one shown), at most 4096 characters. An http(s) URL can never start with "-", so
    it is never taken for an option by a launcher. Surrounding whitespace is stripped.
    """
    url = url.strip()
    if len(url) > _MAX_URL or _URL_UNSAFE.search(url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


MAX_LINKS = 20  # links a message keeps: a wall of them is spam, not something to open
_WRITTEN_URL = re.compile(r"https?://[^\s<>\"\[\]]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)]}'\"…"  # punctuation after a link is the sentence's, not the link's


def links_in(text: str) -> list[str]:
    """The http(s) links written out in plain text, in order, once each, the punctuation
    after them left out; only those `safe_url` lets through, `MAX_LINKS` at most."""
    found: dict[str, None] = {}
    for match in _WRITTEN_URL.finditer(text):
        url = safe_url(match.group(0).rstrip(_URL_TRAILING))
        if url:
            found[url] = None
            if len(found) == MAX_LINKS:
                break
    return list(found)


def link_targets(links: list[Link] | tuple[Link, ...]) -> list[str]:
    """The targets of HTML links that lead away (not @mentions or #hashtags), once each."""
    found = dict.fromkeys(link.href for link in links if not link.text.startswith(("@", "#")))
    return list(found)[:MAX_LINKS]


@dataclass(frozen=True, slots=True)
class Link:
    """A link found in HTML: its sanitised visible text and its (safe, http(s)) target."""

    text: str
    href: str

    @property
    def domain(self) -> str:
        """The real host of `href` in ASCII/punycode, "" if it has none."""
        try:
            host = urlsplit(self.href).hostname
        except ValueError:
            return ""
        return _ascii_host(host) if host else ""


@dataclass(frozen=True, slots=True)
class ParsedHtml:
    """HTML reduced to sanitised plain text, with the links it holds in document order."""

    text: str
    links: tuple[Link, ...]


_PARAGRAPH_TAGS = frozenset(
    {"p", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table"}
    | {"figure", "section", "article", "aside", "header", "footer", "nav", "main", "address"}
    | {"details", "fieldset", "form", "hr"}
)
_LINE_TAGS = frozenset({"div", "li", "tr", "dt", "dd", "figcaption", "summary", "caption"})
_CELL_TAGS = frozenset({"td", "th"})
_SKIPPED_TAGS = frozenset({"script", "style", "template", "title"})
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_SHOWN_HOST = re.compile(r"(?:[a-z][a-z0-9+.-]*://)?([^\s/?#:]+)", re.IGNORECASE)


def _shows_host(text: str, host: str) -> bool:
    """Whether a link's visible text starts with its real host (Mastodon shows it so)."""
    match = _SHOWN_HOST.match(text.rstrip("…"))
    if match is None:
        return False
    return _ascii_host(match.group(1)).removeprefix("www.") == host.removeprefix("www.")


@dataclass(slots=True)
class _Element:
    """An open element on the parser's tag stack."""

    tag: str
    start: int  # index in the output parts where its text begins
    href: str | None = None  # safe target of an <a>
    hidden: bool = False  # script/style/template/title, Mastodon's span.invisible
    ellipsis: bool = False  # Mastodon's span.ellipsis: "…" after its text


class _TextParser(HTMLParser):
    """Collects text and links with an explicit tag stack (no recursion, any depth)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[Link] = []
        self._stack: list[_Element] = []
        self._open: Counter[str] = Counter()
        self._hidden = 0
        self._pre = 0
        self._breaks = 0  # newlines owed before the next text
        self._soft = False  # owed by a block boundary, which absorbs one following <br>

    def run(self, html: str) -> None:
        """Parse `html` in one `feed()`, then close every element left open."""
        try:
            self.feed(html)
            # A construct still open at the end of input is dropped, as HTML5 does. Letting
            # close() retry it at every "<" is CVE-2025-6069's quadratic path on 3.11.
            if self.rawdata.startswith("<"):
                self.rawdata = ""
            self.close()
        except AssertionError:
            pass  # _markupbase rejects some malformed "<![" sections: keep what was parsed
        while self._stack:
            self._close(self._stack[-1].tag)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._line_break()
            return
        if tag in _PARAGRAPH_TAGS:
            self._block(2)
        elif tag in _LINE_TAGS:
            self._block(1)
        elif tag in _CELL_TAGS:
            self._emit(" ")
        if tag in _VOID_TAGS:
            return
        if tag == "a" and self._open["a"]:
            self._close("a")  # links do not nest
        values = dict(attrs)
        classes = (values.get("class") or "").split() if tag == "span" else []
        element = _Element(
            tag,
            len(self.parts),
            href=safe_url(values.get("href") or "") if tag == "a" else None,
            hidden=tag in _SKIPPED_TAGS or "invisible" in classes,
            ellipsis="ellipsis" in classes,
        )
        self._stack.append(element)
        self._open[tag] += 1
        self._hidden += element.hidden
        self._pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if self._open[tag]:
            self._close(tag)

    def handle_data(self, data: str) -> None:
        self._emit(data if self._pre else _HTML_SPACE.sub(" ", data))

    def _close(self, tag: str) -> None:
        """Pop elements up to the innermost open `tag` (which must be open)."""
        while True:
            element = self._stack.pop()
            self._open[element.tag] -= 1
            self._hidden -= element.hidden
            self._pre -= element.tag == "pre"
            if element.ellipsis:
                self._emit("…")
            if element.href is not None and not self._hidden:
                self._add_link(element.href, "".join(self.parts[element.start :]))
            if element.tag in _PARAGRAPH_TAGS or element.tag in _LINE_TAGS:
                self._block(1)
            if element.tag == tag:
                return

    def _add_link(self, href: str, visible: str) -> None:
        link = Link(safe_text(visible, max_chars=_MAX_LINK_TEXT, single_line=True), href)
        self.links.append(link)
        domain = link.domain
        if link.text.startswith(("@", "#")) or not domain or _shows_host(link.text, domain):
            return
        # The visible text does not show where the link goes: show the real domain.
        joint = "" if not self.parts or self.parts[-1].endswith((" ", "\n")) else " "
        self.parts.append(f"{joint}[{domain}]")

    def _block(self, newlines: int) -> None:
        if self._breaks < newlines:
            self._breaks = newlines
            self._soft = True

    def _line_break(self) -> None:
        if self._soft:
            self._soft = False
        else:
            self._breaks += 1

    def _emit(self, text: str) -> None:
        """Append shown text, paying owed newlines first; no space at a line start or twice."""
        if self._hidden:
            return
        # parse_html strips the start of the text: spaces there need no care here.
        if not self._pre and (self._breaks or (self.parts and self.parts[-1].endswith(" "))):
            text = text.lstrip(" ")
        if not text:
            return
        if self._breaks and self.parts:
            self.parts[-1] = self.parts[-1].rstrip(" ")
            self.parts.append("\n" * self._breaks)
        self._breaks = 0
        self._soft = False
        self.parts.append(text)


def parse_html(html: str, *, max_input: int = 16_384) -> ParsedHtml:
    """HTML (Mastodon content, feed items, blog comments) as sanitised text plus its links.

    The input is cut to `max_input` characters before parsing (3.11's parser is quadratic on
    some inputs; the cut is marked "…[truncated]"). Script, style, template and title content
    is skipped; block elements become line or paragraph breaks and `<br>` a newline; links are
    shown as Mastodon shows them (span.invisible dropped, "…" after span.ellipsis), followed by
    " [real-domain]" whenever their visible text does not start with the real host (mentions
    and hashtags aside). Entities are decoded before `safe_text()` runs on the result.
    """
    parser = _TextParser()
    parser.run(html[:max_input])
    text = _sanitise(
        "".join(parser.parts).strip(),
        max_chars=5000,
        single_line=False,
        truncated=len(html) > max_input,
    )
    return ParsedHtml(text, tuple(parser.links))


def html_to_text(html: str, *, max_input: int = 16_384) -> str:
    """The sanitised text of `html`; see `parse_html()`."""
    return parse_html(html, max_input=max_input).text
