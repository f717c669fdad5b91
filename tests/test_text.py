"""cmtui.text, the gate for remote text: SAFETY.md rows 1-17 at the function level, and
property tests over hostile Unicode and HTML."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmtui.text import (
    Link,
    display_handle,
    first_line,
    grapheme_count,
    graphemes,
    html_to_text,
    is_mixed_script,
    match_key,
    parse_html,
    safe_text,
    safe_url,
    truncate_graphemes,
)

BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
INVISIBLE = set("\u200b\u2060\ufeff\u00ad")
FAMILY = "👨\u200d👩\u200d👧\u200d👦"
HEART = "❤\ufe0f"
SCOTLAND = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"


def assert_displayable(text: str) -> None:
    """No escape, C0 but newline and tab, C1, bidi control, invisible or lone surrogate."""
    for ch in text:
        cp = ord(ch)
        assert cp >= 0x20 or ch in "\n\t", ascii(text)
        assert not 0x7F <= cp <= 0x9F, ascii(text)
        assert not 0xD800 <= cp <= 0xDFFF, ascii(text)
        assert ch not in BIDI and ch not in INVISIBLE, ascii(text)
    text.encode("utf-8")


# Rows 1-5: terminal escapes and controls.


def test_row1_osc52_clipboard_write_is_removed() -> None:
    assert safe_text("A\x1b]52;c;cm0gLXJmIH4=\x07B") == "AB"


@pytest.mark.parametrize(
    ("sequence", "visible"),
    [
        ("\x1b]0;t\x07", ""),
        ("\x1b]8;;https://e\x07x\x1b]8;;\x07", "x"),
        ("\x1b[2J\x1b[H", ""),
        ("\x1b[6n", ""),
        ('\x1bP$q"p\x1b\\', ""),
        ("\x1b_x\x1b\\", ""),
        ("\x1bc", ""),
    ],
)
def test_row2_escape_sequences_leave_visible_text_only(sequence: str, visible: str) -> None:
    assert safe_text(sequence) == visible
    assert safe_text(f"before {sequence} after") == f"before {visible} after"


@pytest.mark.parametrize("sequence", ["\x9b2J", "\x9d0;x\x9c", "\x90q\x9c"])
def test_row3_c1_sequences_are_removed(sequence: str) -> None:
    assert safe_text(f"left{sequence}right") == "leftright"


def test_row4_unterminated_osc_is_removed_to_end_of_input() -> None:
    payload = "ok \x1b]52;c;" + "QUFB" * 2560
    assert safe_text(payload) == "ok "


@pytest.mark.parametrize(
    ("text", "expected"), [("Paid\rREFUND", "PaidREFUND"), ("abc\b\b\bxyz", "abcxyz")]
)
def test_row5_no_overwrite_controls(text: str, expected: str) -> None:
    assert safe_text(text) == expected


def test_row6_markup_stays_literal_text() -> None:
    # Escaping markup is the widgets' job (Content/Text); the gate must not mangle it.
    for text in ["[bold]x[/bold]", "[/]", "[@click=app.quit]x[/]", "[$accent]r[/]"]:
        assert safe_text(text) == text
        assert html_to_text(f"<p>{text}</p>") == text


# Rows 7-11: names, handles, Unicode.


def test_row7_bidi_and_invisibles_stripped_from_names() -> None:
    name = "\u202eEve\u2066 Admin\u2069\u200b\u2060\ufeff\U000e0041\U000e0042"
    assert safe_text(name, single_line=True) == "Eve Admin"
    assert display_handle("\u202eeve\u200b", "\u2066social.example\u2069") == (
        "@eve@social.example"
    )


def test_row8_lookalike_domain_in_punycode_and_flagged() -> None:
    assert display_handle("pаypal", "xn--pypal-4ve.example") == "@pаypal@xn--pypal-4ve.example"
    assert display_handle("paypal", "pаypal.example") == "@paypal@xn--pypal-4ve.example"
    assert is_mixed_script("pаypal")


def test_row9_zalgo_keeps_at_most_four_marks() -> None:
    out = safe_text("a" + "\u0301" * 500)
    assert out == "a" + "\u0301" * 4
    assert grapheme_count(out) == 1


@pytest.mark.parametrize("cluster", [FAMILY, HEART, "🇫🇷", SCOTLAND, "東", "e\u0301", "👍🏽"])
def test_row10_truncation_never_splits_a_grapheme(cluster: str) -> None:
    text = cluster * 6
    assert graphemes(text) == [cluster] * 6
    assert safe_text(text) == text
    for limit in range(8):
        cut = truncate_graphemes(text, limit)
        body = cut.removesuffix("…")
        assert body == cluster * (len(body) // len(cluster))
        assert grapheme_count(cut) <= max(limit, 1)


def test_row11_lone_surrogate_becomes_replacement_character() -> None:
    decoded = json.loads('"\\ud800"')
    assert safe_text(decoded) == "\ufffd"
    assert safe_text(f"a{decoded}b\ud83d\ude00").encode("utf-8") == "a\ufffdb😀".encode()
    assert html_to_text(f"<p>{decoded}</p>") == "\ufffd"


# Rows 12-17: size caps and HTML.


def test_row12_huge_text_and_html_are_capped() -> None:
    out = safe_text("word " * 200_000)
    assert out.endswith("…[truncated]")
    assert grapheme_count(out) <= 5000
    html = html_to_text("<p>" + "x" * 200_000 + "</p>")
    assert html.endswith("…[truncated]")
    assert len(html) < 20_000


def test_row13_entities_decoded_before_sanitising() -> None:
    assert html_to_text("<p>a</p><p>b &amp;lt;</p><br>&#8238;x&#27;") == "a\n\nb &lt;\nx"


def test_row14_script_and_style_skipped() -> None:
    assert html_to_text("<script>alert(1)</script><style>p{}</style>ok") == "ok"
    assert html_to_text("<template><p>t</p></template><title>T</title>ok") == "ok"


def test_row15_real_link_domain_shown() -> None:
    parsed = parse_html('<a href="https://evil.example">https://bank.example</a>')
    assert parsed.text == "https://bank.example [evil.example]"
    assert parsed.links == (Link("https://bank.example", "https://evil.example"),)
    assert parsed.links[0].domain == "evil.example"


@pytest.mark.parametrize(
    "href", ["javascript:alert(1)", "file:///etc/passwd", "-x", "data:text/html,<b>x</b>"]
)
def test_row15_non_http_hrefs_are_never_links(href: str) -> None:
    assert safe_url(href) is None
    parsed = parse_html(f'<a href="{href}">open me</a>')
    assert parsed.text == "open me"
    assert parsed.links == ()


def test_row16_deep_nesting_and_garbage_parse_flat() -> None:
    deep = "<div>" * 20_000  # twenty times Python's recursion limit
    assert html_to_text(deep) == "…[truncated]"
    assert html_to_text(deep + "x", max_input=len(deep) + 1) == "x"
    # "<closed <p>" is one tag whose attribute is "<p"; stray end tags are ignored.
    assert html_to_text("<b><i>un<closed <p>garbage</x></y>\x00 <<>>") == "ungarbage <<>>"


def test_row17_quadratic_parser_input_is_capped() -> None:
    attack = "<a " * 20_000
    assert html_to_text(attack) == "…[truncated]"
    # Uncapped, the unfinished tag is dropped at end of input instead of retried at every "<".
    assert html_to_text(attack, max_input=len(attack)) == ""
    assert html_to_text("ok <a b='>'" * 2000, max_input=10**6) == "ok"


# safe_text details.


def test_blank_lines_collapse_to_two() -> None:
    assert safe_text("a\n\n\n\n\n \n\t\nb") == "a\n\n\nb"
    assert safe_text("a\n\n\nb") == "a\n\n\nb"


def test_single_line_joins_lines_and_trims() -> None:
    assert safe_text("  Jane\n\tDoe \r\n ", single_line=True) == "Jane Doe"
    assert safe_text("a\u2028b\u2029c", single_line=True) == "a b c"


def test_zwj_kept_only_between_pictographs() -> None:
    assert safe_text(FAMILY) == FAMILY
    assert safe_text("a\u200db\u200d") == "ab"
    assert safe_text("👍\u200d") == "👍"


def test_tag_characters_kept_only_in_flag_sequences() -> None:
    assert safe_text(SCOTLAND) == SCOTLAND
    assert safe_text("hi\U000e0068\U000e0069") == "hi"
    assert safe_text("🏴\U000e0067\U000e0062") == "🏴"


def test_max_chars_counts_graphemes_and_marks_the_cut() -> None:
    assert safe_text("x" * 30, max_chars=30) == "x" * 30
    assert safe_text("x" * 31, max_chars=30) == "x" * 18 + "…[truncated]"
    out = safe_text(FAMILY * 40, max_chars=20)
    assert out == FAMILY * 8 + "…[truncated]"


# HTML details.


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>a</p><p>b</p>", "a\n\nb"),
        ("<ul><li>a</li><li>b</li></ul><p>c</p>", "a\nb\n\nc"),
        ("a<br><br>b", "a\n\nb"),
        ("<p>a<br></p><p>b</p>", "a\n\nb"),
        ("<div>a</div>b", "a\nb"),
        ("<p>\n   hello\n   <b>big</b>  world  </p>", "hello big world"),
        ("<pre>  x = 1\n  y = 2</pre>", "x = 1\n  y = 2"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"),
        ("caf&eacute; &#x9b;2J&nbsp;!", "café ›2J\xa0!"),
    ],
)
def test_html_layout(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_mastodon_link_display() -> None:
    html = (
        '<p><span class="h-card"><a href="https://m.example/@bob" class="u-url mention">'
        "@<span>bob</span></a></span> see "
        '<a href="https://www.example.com/a/very/long/path" rel="nofollow">'
        '<span class="invisible">https://www.</span>'
        '<span class="ellipsis">example.com/a/very/lo</span>'
        '<span class="invisible">ng/path</span></a> '
        '<a href="https://m.example/tags/cm" class="mention hashtag">#<span>cm</span></a></p>'
    )
    parsed = parse_html(html)
    assert parsed.text == "@bob see example.com/a/very/lo… #cm"
    assert [link.text for link in parsed.links] == ["@bob", "example.com/a/very/lo…", "#cm"]


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ('<a href="https://evil.example/">click here</a>!', "click here [evil.example]!"),
        ('<a href="https://bücher.example/">bücher.example</a>', "bücher.example"),
        (
            '<a href="https://xn--pypal-4ve.example/">paypal.example</a>',
            "paypal.example [xn--pypal-4ve.example]",
        ),
        (
            '<a href="https://evil.example/">https://bank.example@evil.example</a>',
            "https://bank.example@evil.example [evil.example]",
        ),
        ('<a href="https://a.example/">one<a href="https://a.example/x">a.example</a>', None),
    ],
)
def test_link_text_that_hides_the_target_gets_the_real_domain(html: str, text: str) -> None:
    if text is None:  # links do not nest: the first closes where the second opens
        parsed = parse_html(html)
        assert parsed.text == "one [a.example]a.example"
        assert len(parsed.links) == 2
    else:
        assert html_to_text(html) == text


def test_link_domain_is_punycode() -> None:
    assert Link("x", "https://Bücher.Example:8443/p").domain == "xn--bcher-kva.example"
    assert Link("x", "https://user@host.example/").domain == "host.example"


# URLs, handles, scripts, keys.


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a?b=1#c",
        "http://127.0.0.1:8080/",
        "HTTPS://EXAMPLE.COM",
        "https://[::1]/",
    ],
)
def test_safe_url_accepts_http_urls(url: str) -> None:
    assert safe_url(f"  {url}\n") == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "file:///etc/passwd",
        "-x",
        "--help",
        "/relative/path",
        "//example.com/x",
        "https://",
        "ftp://example.com/",
        "https://exa\u202emple.com/",
        "https://ex\u200bample.com/",
        "https://evil.example\\@bank.example/",
        "https://a.example/x y",
        "https://a.example:99999/",
        "https://[::1/",
        "https://a.example/" + "x" * 5000,
    ],
)
def test_safe_url_rejects(url: str) -> None:
    assert safe_url(url) is None


def test_display_handle() -> None:
    assert display_handle("bob", "xn--pypal-4ve.example") == "@bob@xn--pypal-4ve.example"
    assert display_handle("bob", "Bücher.Example") == "@bob@xn--bcher-kva.example"
    assert display_handle("@bob") == "@bob"
    assert display_handle("bob", "") == "@bob"
    assert display_handle("bo\nb", "a..b") == "@bob@a..b"
    assert display_handle("bob@bücher.example") == "@bob@xn--bcher-kva.example"
    assert display_handle("bob@bank.example", "evil.example") == "@bob@evil.example"
    long_label = "é" * 70 + ".example"
    assert display_handle("bob", long_label).isascii()


@pytest.mark.parametrize(
    ("name", "mixed"),
    [
        ("pаypal", True),
        ("Ivan Иван", True),
        ("Αpple", True),  # Greek capital alpha
        ("Léa", False),
        ("東京 Tokyo", False),
        ("Ελληνικά", False),
        ("Маша", False),
        ("𝐩𝐚𝐲pal 2024 🎉!", False),  # mathematical bold letters are Latin
        ("", False),
    ],
)
def test_is_mixed_script(name: str, mixed: bool) -> None:
    assert is_mixed_script(name) is mixed


def test_a_letter_without_a_name_is_no_script() -> None:
    """unicodedata names no Tangut ideograph: such a letter neither raises nor counts."""
    assert unicodedata.name("\U00017000", None) is None
    assert is_mixed_script("Tangut \U00017000") is False


def test_match_key() -> None:
    assert match_key("c\u200br\u200bisis") == "crisis"
    assert match_key("ＣＲＩＳＩＳ") == "crisis"
    assert match_key("Cri\U000e0041sis\u00ad!") == "crisis!"
    assert "crise" in match_key("Une CRISE\u2060 majeure")


def test_first_line() -> None:
    assert first_line("\n \n  Hello\tworld \x1b[31m!\nsecond") == "Hello world !"
    assert first_line("") == ""
    assert first_line("x" * 300, limit=10) == "x" * 9 + "…"
    assert first_line(FAMILY * 5, limit=3) == FAMILY * 2 + "…"


def test_grapheme_clusters() -> None:
    assert graphemes("a\r\nb") == ["a", "\r\n", "b"]
    assert graphemes("🇫🇷🇩") == ["🇫🇷", "🇩"]
    assert graphemes("\u0301a") == ["\u0301", "a"]
    assert graphemes("\n\u0301") == ["\n", "\u0301"]
    hangul = unicodedata.normalize("NFD", "한국")
    assert graphemes(hangul) == [unicodedata.normalize("NFD", c) for c in "한국"]
    assert grapheme_count("e\u0301" + FAMILY + HEART + "東京") == 5


# Properties.

HOSTILE_CHARS = list(
    "\x1b[]P_^X\\\x07\x9b\x9c\x9d\x90\x00\r\n\t\b\x7f;0?m "
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u202e\u2066\u2069\u061c\u2028\u3164"
    "\u0301\u0300\ufe0f\U0001f3fb\u1160\u11a8\ud800\udc00\ud83d\ude00"
    "👨👩🏴🇫🇷❤東é"
    "\U000e0067\U000e0062\U000e007f\U000e0041"
)
hostile_text = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=()),  # the full range, surrogates included
        st.sampled_from(HOSTILE_CHARS),
    ),
    max_size=200,
)
html_pieces = st.one_of(
    st.sampled_from(
        [
            "<p>",
            "</p>",
            "<br>",
            "<div>",
            "</div>",
            "<li>",
            "<pre>",
            "</pre>",
            "<script>",
            "</script>",
            "<style>",
            "<template>",
            '<span class="invisible">',
            '<span class="ellipsis">',
            "</span>",
            '<a href="https://a.example/x">',
            '<a href="javascript:x">',
            "<a href=",
            "</a>",
            "<!--",
            "-->",
            "<![CDATA[",
            "]]>",
            "<!x>",
            "<?x>",
            "<a ",
            "<b",
            "'",
            '"',
            ">",
            "<",
            "&",
            "&amp;",
            "&lt;",
            "&#8238;",
            "&#27;",
            "&#x9b;",
            "&#0;",
            "&#xd800;",
            "&#1114112;",
            "&nbsp;",
            "&eacute",
        ]
    ),
    hostile_text,
)
hostile_html = st.lists(html_pieces, max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(hostile_text, st.integers(min_value=0, max_value=60), st.booleans())
def test_safe_text_is_clean_bounded_and_idempotent(
    text: str, max_chars: int, single_line: bool
) -> None:
    out = safe_text(text, max_chars=max_chars, single_line=single_line)
    assert_displayable(out)
    assert grapheme_count(out) <= max(max_chars, len("…[truncated]"))
    assert len(out) <= max_chars * 8 + len("…[truncated]")
    if single_line:
        assert "\n" not in out and "\t" not in out
        assert out == out.strip()
    assert safe_text(out, max_chars=max_chars, single_line=single_line) == out


@settings(max_examples=200, deadline=None)
@given(hostile_html, st.integers(min_value=0, max_value=400))
def test_html_to_text_is_clean_and_bounded(html: str, max_input: int) -> None:
    parsed = parse_html(html, max_input=max_input)
    assert_displayable(parsed.text)
    assert grapheme_count(parsed.text) <= 5000
    for link in parsed.links:
        assert_displayable(link.text)
        assert "\n" not in link.text
        assert safe_url(link.href) == link.href
        assert link.domain.isascii()


@settings(max_examples=200, deadline=None)
@given(hostile_text, st.integers(min_value=0, max_value=20))
def test_graphemes_partition_the_text_and_truncation_respects_them(text: str, limit: int) -> None:
    clusters = graphemes(text)
    assert "".join(clusters) == text
    cut = truncate_graphemes(text, limit)
    if cut != text:
        body = cut.removesuffix("…")
        assert text.startswith(body)
        assert grapheme_count(cut) <= max(limit, 1)


@settings(max_examples=150, deadline=None)
@given(hostile_text, hostile_text)
def test_handles_urls_and_keys_never_raise(user: str, domain: str) -> None:
    handle = display_handle(user, domain)
    assert_displayable(handle)
    assert "\n" not in handle and " " not in handle
    assert handle.startswith("@")
    assert handle.partition("@")[2].partition("@")[2].isascii()
    url = safe_url(domain)
    assert url is None or url.lower().startswith(("http://", "https://"))
    assert isinstance(match_key(user), str)
    assert isinstance(is_mixed_script(user), bool)
    assert_displayable(first_line(user))


# Each boundary of the grapheme classes, with the code points on both sides, and the class
# UAX #29 gives them (the approximation's classes: other, control, extend, tag, ZWJ, regional).
KIND_BOUNDARIES = {
    "other": [0x20, 0x7E, 0xA0, 0xAC, 0xAE, 0x2FF, 0x115F, 0x1200, 0x1F1E5, 0x1F200, 0x1F3FA,
              0x1F400, 0xD7AF, 0xE0080, 0x2600, 0x2102, 0xE000],
    "control": [0x00, 0x1F, 0x7F, 0x9F, 0xAD, 0x200B, 0x200E, 0x2060, 0x2028, 0x2029, 0xE0001],
    "extend": [0x300, 0x36F, 0x20DD, 0x0903, 0x200C, 0x1160, 0x11FF, 0xD7B0, 0xD7FF, 0x1F3FB,
               0x1F3FF, 0xFE0F],
    "tag": [0xE0020, 0xE007F],
    "zwj": [0x200D],
    "regional": [0x1F1E6, 0x1F1FF],
}  # fmt: skip
PICTOGRAPHIC = {
    True: [0x1F000, 0x1F1E5, 0x1F200, 0x1F3FA, 0x1F400, 0x1FFFD, 0x2100, 0x2BFF, 0x2600,
           0xA9, 0xAE, 0x203C, 0x2049, 0x3030, 0x303D, 0x3297, 0x3299],
    False: [0x1EFFF, 0x1F1E6, 0x1F1FF, 0x1F3FB, 0x1F3FF, 0x1FFFE, 0x20FF, 0x2102, 0x2C00,
            0xA8, 0xAA, 0x41, 0x3298],
}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "code"), [(kind, code) for kind, codes in KIND_BOUNDARIES.items() for code in codes]
)
def test_each_boundary_of_the_grapheme_classes(kind: str, code: int) -> None:
    """Seen through segmentation: a class decides whether a character joins the one before."""
    ch = chr(code)
    base = "e"
    joined = graphemes(base + ch)
    if kind in ("extend", "tag"):
        assert joined == [base + ch]
    elif kind == "zwj":
        assert graphemes("👩" + ch + "👩") == ["👩" + ch + "👩"]
        assert graphemes("e" + ch + "e") == ["e" + ch, "e"]
    else:
        assert joined == [base, ch]
        after = graphemes(ch + "\u0301")  # a combining mark joins anything but a control
        assert after == ([ch, "\u0301"] if kind == "control" else [ch + "\u0301"])
    if kind == "regional":
        assert graphemes(ch * 3) == [ch * 2, ch]
    else:
        assert graphemes(ch * 2 + "x")[-1] == "x"
        assert len(graphemes(ch * 2)) == (1 if kind in ("extend", "tag") else 2) or kind == "zwj"


@pytest.mark.parametrize(
    ("expected", "code"), [(value, code) for value, codes in PICTOGRAPHIC.items() for code in codes]
)
def test_what_a_zwj_may_join(expected: bool, code: int) -> None:
    """A ZWJ joins two pictographs, and nothing else: elsewhere safe_text drops it."""
    sequence = "👩\u200d" + chr(code)
    assert ("\u200d" in safe_text(sequence)) is expected
    if not 0x1F3FB <= code <= 0x1F3FF:  # a skin tone joins anything, with or without ZWJ
        assert (len(graphemes(sequence)) == 1) is expected


# Boundaries and rules found by mutation testing: each test names the rule it protects.

SKIN_FAMILY = "👨🏽\u200d👩🏽\u200d👧🏽\u200d👦🏽"  # one grapheme of 11 code points


def test_counting_graphemes_never_drops_a_mark() -> None:
    """Only the sanitiser caps marks; counting (reply length) keeps and counts every one."""
    zalgo = "a" + "\u0301" * 10
    assert graphemes(zalgo + "b") == [zalgo, "b"]


def test_a_lone_surrogate_never_joins_the_character_before() -> None:
    """The Hangul jamo that extend a syllable end at U+D7FF; U+D800 is a character of its own."""
    assert graphemes("\u1100\ud7fb") == ["\u1100\ud7fb"]
    assert graphemes("e\ud800") == ["e", "\ud800"]


def test_only_cr_lf_pairs_a_line_break() -> None:
    """CR+LF is one grapheme; a newline after anything else, or anything after CR, is not."""
    assert graphemes("é\nx") == ["é", "\n", "x"]
    assert graphemes("\ré") == ["\r", "é"]
    assert grapheme_count("é\r\n") == 2


def test_a_zwj_sequence_keeps_at_most_eight_joins() -> None:
    """Nine pictographs joined by eight ZWJs stay one grapheme; a ninth ZWJ is dropped."""
    nine = "\u200d".join(["👩"] * 9)
    assert safe_text(nine) == nine
    assert graphemes(safe_text(nine + "\u200d👩")) == [nine, "👩"]


def test_each_joined_pictograph_keeps_its_own_four_marks() -> None:
    """The mark count starts again after each ZWJ join (skin tones on both people)."""
    couple = "👩🏽\u200d🤝\u200d👨🏿"
    assert safe_text(couple) == couple
    assert safe_text("👩\u200d👩" + "\u0301" * 6) == "👩\u200d👩" + "\u0301" * 4


def test_truncation_keeps_what_fits_and_no_space_before_the_ellipsis() -> None:
    assert truncate_graphemes("abc", 3) == "abc"
    assert truncate_graphemes("ab cdef", 4) == "ab…"


def test_max_chars_counts_graphemes_not_code_points() -> None:
    accented = "e\u0301" * 30  # 30 graphemes, 60 code points
    assert safe_text(accented, max_chars=30) == accented


def test_the_input_cap_holds_max_chars_graphemes_of_eight_code_points_and_the_marker() -> None:
    """Four graphemes of 11 code points fill the cap of max_chars=4 (4 x 8 + 12) exactly."""
    assert len(SKIN_FAMILY * 4) == 4 * 8 + len("…[truncated]")
    assert safe_text(SKIN_FAMILY * 4, max_chars=4) == SKIN_FAMILY * 4


@pytest.mark.parametrize("max_chars", [0, 5, 50])
def test_text_cut_before_reading_is_marked_even_if_nothing_visible_is_left(max_chars: int) -> None:
    """What lay past the input cap was never read, so it may have been visible: say so."""
    cap = max_chars * 8 + len("…[truncated]")
    assert safe_text("\x00" * cap, max_chars=max_chars) == ""
    assert safe_text("\x00" * (cap + 1), max_chars=max_chars) == "…[truncated]"


def test_a_cut_never_holds_more_code_points_than_the_input_cap() -> None:
    """So that a second pass never cuts again (idempotence), whatever the graphemes' size."""
    chain20 = "👩🏽" + "\u200d👩🏽" * 6  # one grapheme, 20 code points
    out = safe_text(chain20 * 30, max_chars=20)
    assert out == chain20 * 8 + "…[truncated]"  # 160 code points: exactly the budget
    chain25 = "👩" + "\u200d👩🏽" * 8  # one grapheme, 25 code points
    out = safe_text(chain25 * 30, max_chars=20)
    assert out == chain25 * 6 + "…[truncated]"  # a seventh would pass 160
    assert safe_text(out, max_chars=20) == out


def test_line_and_paragraph_separators_become_newlines() -> None:
    """A terminal may break a line at U+2028/U+2029 or not: make it a plain newline."""
    assert safe_text("a\u2028b\u2029c") == "a\nb\nc"


@pytest.mark.parametrize("separator", ["\n", "\t"])
def test_single_line_caps_marks_after_a_newline_or_tab(separator: str) -> None:
    """A newline or tab becomes a space before marks are counted, so none slip past the cap."""
    zalgo = "x" + separator + "\u0301" * 6
    assert safe_text(zalgo, single_line=True) == "x " + "\u0301" * 4
    assert display_handle(zalgo, "a.example") == "@x" + "\u0301" * 4 + "@a.example"


# first_line


def test_first_line_default_limit_is_200() -> None:
    assert first_line("x" * 300) == "x" * 199 + "…"


def test_first_line_of_exactly_the_limit_is_kept_whole() -> None:
    """The rest of the text is not the first line: no cut and no marker for a line that fits."""
    assert first_line("x" * 10 + "\n" + "y" * 100, limit=10) == "x" * 10
    assert first_line("Hello\n" + " " * 3000) == "Hello"


def test_first_line_whitespace_costs_nothing() -> None:
    """Indentation, blank lines and runs of spaces are collapsed, never counted in the limit."""
    assert first_line(" " * 300 + "Hello", limit=10) == "Hello"  # more than the part read
    assert first_line("\n \n" * 200 + "Hello", limit=10) == "Hello"
    assert first_line("a" + " " * 50 + "b", limit=10) == "a b"
    assert first_line("word  " * 40) == ("word " * 40).strip()


def test_first_line_reads_limit_plus_one_graphemes_of_eight_code_points() -> None:
    """What lies past the part read is shown as "…", never as "[truncated]" text."""
    assert first_line("a" + " " * 86 + "b", limit=10) == "a b"  # 88 = (10 + 1) * 8: all read
    assert first_line("a" + " " * 87 + "b", limit=10) == "a…"  # "b" was never read
    assert first_line("\x00" * 88, limit=10) == ""
    assert first_line("\x00" * 89, limit=10) == "…"


def test_first_line_is_sanitised_whole_not_line_by_line() -> None:
    """An escape sequence spanning lines is removed whole; its second line is not shown, and a
    line of escape sequences only is blank."""
    assert first_line("\x1b]0;evil\ntitle\x07Hello\nworld") == "Hello"
    assert first_line("\x1b[2J\x1b[H\nHello") == "Hello"


# Handles and hosts


def test_a_root_dot_and_case_do_not_change_the_host() -> None:
    assert display_handle("bob", "MASTO.BOX.") == "@bob@masto.box"
    assert Link("x", "https://social.example./").domain == "social.example"


def test_a_domain_idna_refuses_is_still_shown_label_by_label_in_punycode() -> None:
    assert display_handle("bob", "a..bücher") == "@bob@a..xn--bcher-kva"
    label = "é" * 70  # longer than a DNS label may be
    punycode = "xn--" + label.encode("punycode").decode("ascii")
    assert display_handle("bob", f"{label}.example") == f"@bob@{punycode}.example"


def test_a_handle_is_one_word_with_exactly_two_at_signs() -> None:
    """A domain cannot smuggle another "@" (reading as another account) or a space."""
    handle = display_handle("bob", "bank.example@evil.example")
    assert handle == "@bob@bank.exampleevil.example"
    assert display_handle("bob", "bad host.example") == "@bob@badhost.example"


def test_only_leading_at_signs_are_dropped_from_a_user() -> None:
    assert display_handle("@Xavier", "a.example") == "@Xavier@a.example"


def test_a_newline_in_a_domain_gives_no_way_past_the_mark_cap() -> None:
    marks = "\u0301" * 6
    assert display_handle("bob", "b\n" + marks) == display_handle("bob", "b " + marks)


def test_handles_are_bounded_to_200_graphemes() -> None:
    assert display_handle("x" * 300, "a.example") == "@" + "x" * 188 + "…[truncated]@a.example"
    assert len(display_handle("bob", "a" * 300 + ".example")) < 250


def test_safe_url_accepts_4096_characters_and_no_more() -> None:
    base = "https://a.example/"
    assert safe_url(base + "x" * (4096 - len(base))) is not None
    assert safe_url(base + "x" * (4097 - len(base))) is None


# Links: whether the visible text shows the real host


def test_mastodon_ellipsis_right_after_the_host_still_shows_it() -> None:
    html = (
        '<a href="https://averyveryverylong.example/some/path">'
        '<span class="invisible">https://</span>'
        '<span class="ellipsis">averyveryverylong.example</span>'
        '<span class="invisible">/some/path</span></a>'
    )
    assert html_to_text(html) == "averyveryverylong.example…"


def test_the_shown_host_is_compared_whole_and_case_blind() -> None:
    html = '<a href="https://shop.example.lux/">SHOP.EXAMPLE.LUX</a>'
    assert html_to_text(html) == "SHOP.EXAMPLE.LUX"


def test_a_www_prefix_on_either_side_is_the_same_host() -> None:
    assert html_to_text('<a href="https://example.com/x">www.example.com/x</a>') == (
        "www.example.com/x"
    )
    assert html_to_text('<a href="https://www.example.com/x">example.com/x</a>') == (
        "example.com/x"
    )


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ('<a href="https://evil.example/">/login</a>', "/login [evil.example]"),
        ('<a href="https://evil.example/"><img src="x.png"></a> Sale!', "[evil.example] Sale!"),
        ('<a href="https://evil.example/"><img src="x.png"></a><br>Sale', "[evil.example]\nSale"),
        ('<a href="https://evil.example/">click </a>now', "click [evil.example]now"),
        ('<pre><a href="https://evil.example/">run this\n</a></pre>', "run this\n[evil.example]"),
    ],
)
def test_a_link_whose_text_shows_no_host_gets_the_real_domain(html: str, text: str) -> None:
    """Text with no host, or none at all (an image), is followed by "[domain]", set apart by
    exactly one space or line break."""
    assert html_to_text(html) == text


def test_link_text_is_one_line_of_at_most_200_graphemes() -> None:
    parsed = parse_html('<a href="https://a.example/x">line one<br>line two</a>')
    assert parsed.links[0].text == "line one line two"
    parsed = parse_html(f'<a href="https://a.example/">{"x" * 300}</a>')
    assert parsed.links[0].text == "x" * 188 + "…[truncated]"


def test_only_a_elements_are_links_and_only_spans_take_mastodon_classes() -> None:
    parsed = parse_html('<b href="https://evil.example/">x</b>')
    assert (parsed.text, parsed.links) == ("x", ())
    assert html_to_text('<p class="invisible">shown</p>') == "shown"
    assert html_to_text('<a href="https://a.example/" class="ellipsis">a.example</a>') == (
        "a.example"
    )


# HTML layout


def test_nested_blocks_close_one_at_a_time() -> None:
    assert html_to_text("<div><div>a</div>b</div>c") == "a\nb\nc"


def test_pre_keeps_whitespace_inside_inline_tags_and_only_until_it_closes() -> None:
    html = "<pre>x  = <b>1  +  2</b>\n  y</pre><p>a   b</p>"
    assert html_to_text(html) == "x  = 1  +  2\n  y\n\na b"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("a<br><div><br>b</div>", "a\n\nb"),  # the div adds no line: the second <br> counts
        ("<p>a</p><br><br>b", "a\n\nb"),  # a block absorbs one <br>, not two
        ("<p>a <b> b</b></p>", "a b"),  # no space twice
        ("<p>Hi</p><p>Xavier</p>", "Hi\n\nXavier"),  # only spaces are trimmed at a line start
        ("a <br>b", "a\nb"),  # no space at a line end
        ("MARX <br>Engels", "MARX\nEngels"),
        ("<p>a</p><p>&nbsp;&nbsp;b</p>", "a\n\n\xa0\xa0b"),  # &nbsp; is the author's, kept
        ("<p>a&nbsp;</p><p>b</p>", "a\xa0\n\nb"),
    ],
)
def test_html_spacing(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_html_input_cap_is_16_kb() -> None:
    """3.11's parser is quadratic on some input: 16,384 characters (about 1 s at worst)."""
    fits, over = " " * 16_382 + "ok", " " * 16_383 + "ok"
    assert html_to_text(fits) == parse_html(fits).text == "ok"
    assert html_to_text(over) == parse_html(over).text == "o…[truncated]"


def test_html_text_is_capped_at_5000_graphemes() -> None:
    assert html_to_text("x" * 5000) == "x" * 5000
    assert html_to_text("x" * 5001) == "x" * 4988 + "…[truncated]"
