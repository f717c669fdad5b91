"""The links of a conversation: where each really goes, to open in the browser or copy."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cmtui.i18n import _
from cmtui.model import Message
from cmtui.notify import over_ssh
from cmtui.text import safe_text, safe_url


@dataclass(frozen=True, slots=True)
class ThreadLink:
    """A link of a thread: its target, who posted it, and whether it is the post itself."""

    url: str
    author: str
    is_post: bool = False

    @property
    def host(self) -> str:
        """The real host, as the browser will reach it (punycode for look-alike letters)."""
        host = urlsplit(self.url).hostname or ""
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError:
            return host


def thread_links(thread: Sequence[Message]) -> list[ThreadLink]:
    """Every link of a thread, newest message first: the message's links, then the post
    itself on its network; each target once."""
    found: dict[str, ThreadLink] = {}
    for message in reversed(thread):
        author = message.author.label  # as the list shows them (a Facebook handle is a number)
        for url in message.link_targets():
            found.setdefault(url, ThreadLink(url, author))
        post = safe_url(message.url) if message.url else None
        if post:
            found.setdefault(post, ThreadLink(post, author, is_post=True))
    return list(found.values())


class LinksScreen(ModalScreen[None]):
    """Lists a conversation's links by their real target; opens one (http and https only)
    in the browser, or copies it to the clipboard (OSC 52, which reaches the user's own
    terminal over SSH).

    | Key(s) | Description |
    | :- | :- |
    | enter | Open the link in the browser (over SSH: copy it instead). |
    | c | Copy the link. |
    | escape, L | Close. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_link", _("Open"), id="links.open"),
        Binding("c", "copy_link", _("Copy"), id="links.copy"),
        Binding("escape,L", "dismiss", _("Close"), id="links.close"),
    ]

    DEFAULT_CSS = """
    LinksScreen {
        align: center middle;
        & > Vertical {
            width: 90%;
            max-width: 120;
            height: auto;
            max-height: 80%;
            background: $surface;
            border: round $primary;
        }
        & OptionList { height: auto; max-height: 20; border: none; }
        & #links-note { height: auto; padding: 0 1; color: $text-muted; }
    }
    """

    def __init__(self, links: Sequence[ThreadLink], *, remote: bool | None = None) -> None:
        """`remote`: whether the browser would open on another machine (by default: over
        SSH), where enter copies instead."""
        super().__init__()
        self.links = list(links)
        self.remote = over_ssh(os.environ) if remote is None else remote

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = _("Links · enter open · c copy · esc close")
            yield OptionList(*(self._option(link) for link in self.links))
            yield Static(self._note(), id="links-note", markup=False)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @staticmethod
    def _option(link: ThreadLink) -> Option:
        what = _("the post on its network") if link.is_post else link.host
        line = Text.assemble(
            (safe_text(what, single_line=True), "bold"),
            "  ",
            (safe_text(link.author, single_line=True), "dim"),
        )
        line.append("\n")
        line.append(safe_text(link.url, single_line=True, max_chars=300))
        return Option(line)

    def _note(self) -> str:
        if not self.links:
            return _("No links in this conversation.")
        if self.remote:
            return _("Over SSH, enter copies the link: the browser would open on the server.")
        return _("Each link is shown by where it really goes.")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on the list (the list takes enter before the screen's binding sees it)."""
        event.stop()
        self.action_open_link()

    def _current(self) -> ThreadLink | None:
        index = self.query_one(OptionList).highlighted
        return None if index is None or not self.links else self.links[index]

    def action_open_link(self) -> None:
        """Open the highlighted link (a safe http(s) one only) or, over SSH, copy it."""
        link = self._current()
        if link is None:
            return
        if self.remote:
            self.action_copy_link()
            return
        url = safe_url(link.url)
        if url is None:  # stored links are checked when read; this guards older caches
            self.notify(_("This link cannot be opened safely."), severity="error", markup=False)
            return
        self.app.open_url(url)
        self.notify(_("Opening {host} in the browser.").format(host=link.host), markup=False)

    def action_copy_link(self) -> None:
        """Copy the highlighted link to the clipboard."""
        link = self._current()
        if link is None:
            return
        self.app.copy_to_clipboard(link.url)
        self.notify(_("Copied the link to {host}.").format(host=link.host), markup=False)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
