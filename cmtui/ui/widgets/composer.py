"""The reply composer: a text area, a live length counter and the brand's tone warnings."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, TextArea

from cmtui.analysis.tone import ToneWarning, check_draft
from cmtui.config import ToneRules
from cmtui.i18n import N_, _
from cmtui.model import Limits, parse_time
from cmtui.replies import fill

STATUS_SEPARATOR = "  ·  "


def pack_parts(parts: Sequence[str], width: int, separator: str = STATUS_SEPARATOR) -> list[str]:
    """`parts` joined by `separator` on as few lines of `width` cells as they fit, a part never
    split between two lines (one wider than a line gets a line of its own, word-wrapped).

    A width of 0 or less (not laid out yet) gives one line.
    """
    lines: list[str] = []
    for part in parts:
        joined = f"{lines[-1]}{separator}{part}" if lines else part
        if lines and (width <= 0 or cell_len(joined) <= width):
            lines[-1] = joined
        else:
            lines.append(part)
    return lines


class StatusLine(Static):
    """The composer's status: the length, every warning and the keys, packed on as many lines
    as the width needs, so that no warning is ever cut off."""

    DEFAULT_CSS = """
    StatusLine { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.parts: tuple[str, ...] = ()

    def show(self, parts: Sequence[str]) -> None:
        """Show these parts, in this order."""
        self.parts = tuple(parts)
        self._pack()

    def on_resize(self) -> None:
        self._pack()

    def _pack(self) -> None:
        self.update(Text("\n".join(pack_parts(self.parts, self.content_size.width))))


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """What the composer needs to know about the reply being written."""

    conversation_id: str
    recipient: str  # the handle answered, shown in the title
    limits: Limits
    rules: ToneRules = field(default_factory=ToneRules)
    signature: str = ""
    prefill: str = ""  # what a new reply starts with: the mention and the signature
    draft: str = ""  # the text kept from an earlier visit, if any; it replaces the prefill
    account: str = ""  # the account the reply leaves from, shown in the title
    accounts: tuple[str, ...] = ()  # every account that saw the message answered
    notice: str = ""  # a warning about the target itself (`reply_window_notice`)
    audience: str = ""  # who will see the reply, when not everyone (`audience_note`)
    spoiler: str = ""  # the content warning the reply keeps (counted in its length)
    link: str = ""  # the answered message's address, offered where no reply can be sent
    mention: str = ""  # how the prefill starts ("@handle "), kept when a saved reply fills it
    values: Mapping[str, str] = field(default_factory=dict)  # a saved reply's variables
    team: bool = False  # team mode: the draft may be shared with teammates


# Who sees a reply that keeps the answered message's visibility (`reply_target["visibility"]`,
# Mastodon's names): the composer says so, as a reply never widens its audience.
_AUDIENCES = {
    "direct": N_("direct message: only the people mentioned will see this reply"),
    "private": N_(
        "followers only: only the brand's followers and the people mentioned will see it"
    ),
    "unlisted": N_("unlisted: public, but kept out of public timelines"),
}


def audience_note(reply_target: Mapping[str, str]) -> str:
    """What the composer says of a reply's audience, "" when it is public."""
    note = _AUDIENCES.get(reply_target.get("visibility", ""))
    return _(note) if note else ""


def reply_window_notice(reply_by: str | None, now: datetime) -> str:
    """The warning for a target the network takes replies to only until `reply_by` (an
    adapter's `reply_target["reply_by"]`, ISO 8601: Messenger's 24-hour window), once that
    time is past; "" before it, or when there is no such limit."""
    if not reply_by:
        return ""
    try:
        closed = parse_time(reply_by)
    except ValueError:
        return ""
    if now < closed:
        return ""
    return _(
        "the 24-hour reply window closed at {time} UTC: Messenger will refuse this reply; "
        "reach them another way, or wait for them to write again"
    ).format(time=f"{closed:%Y-%m-%d %H:%M}")


class Composer(Vertical):
    """Writes one reply. Posts `Composer.Send` with the text; the screen queues it.

    | Key(s) | Description |
    | :- | :- |
    | ctrl+s | Send the reply (after the undo window). |
    | f2 | Send from the next account that saw the message. |
    | ctrl+o | Write the reply in your editor ($VISUAL or $EDITOR). |
    | ctrl+r | Pick a saved reply to insert. |
    | ctrl+g | Team mode: share this draft with teammates (again: stop sharing it). |
    | escape | Leave the composer; the draft stays. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", _("Send"), priority=True, id="composer.send"),
        Binding("f2", "next_account", _("From"), id="composer.account"),
        Binding("ctrl+o", "external_editor", _("Editor"), id="composer.editor"),
        Binding("ctrl+r", "pick_reply", _("Saved replies"), id="composer.replies"),
        Binding("ctrl+g", "share", _("Share draft"), id="composer.share"),
    ]

    DEFAULT_CSS = """
    Composer {
        height: auto;
        max-height: 50%;
        border-top: solid $primary-muted;
        display: none;
        &.-open { display: block; }
        & > TextArea { height: 6; border: none; padding: 0 1; background: $surface; }
        /* Docked: when the pane is short the text area gives way, never the warnings. */
        & > #composer-status { dock: bottom; padding: 0 1; color: $text-muted; }
        & > #composer-status.-blocked { color: $text-error; }
        & > #composer-status.-warned { color: $text-warning; }
    }
    """

    class DraftChanged(Message):
        """The draft of a conversation changed ("" when there is nothing worth keeping)."""

        def __init__(self, conversation_id: str, text: str) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.text = text

        def can_replace(self, message: Message) -> bool:
            # A burst of keystrokes: only the latest text of a conversation matters.
            return (
                isinstance(message, Composer.DraftChanged)
                and message.conversation_id == self.conversation_id
            )

    class Send(Message):
        """The user asked to send the draft (from `account_id`; "": the default one)."""

        def __init__(self, conversation_id: str, text: str, account_id: str = "") -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.text = text
            self.account_id = account_id

    class PickReply(Message):
        """The user asked for the saved-reply picker; the screen answers with
        `insert_reply`."""

        def __init__(self, conversation_id: str) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    class Share(Message):
        """Team mode: the user asked to share this draft with teammates, or to stop."""

        def __init__(self, conversation_id: str, text: str) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.text = text

    class NextAccount(Message):
        """The user asked to send from the next account that saw the message; the screen
        answers with `retarget`."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.context: ReplyContext | None = None

    def compose(self) -> ComposeResult:
        yield TextArea(id="composer-text", soft_wrap=True, show_line_numbers=False)
        yield StatusLine(id="composer-status")

    @property
    def text_area(self) -> TextArea:
        """The editing area."""
        return self.query_one(TextArea)

    def open(self, context: ReplyContext) -> None:
        """Start (or resume, from `context.draft`) the reply to a conversation; focus it."""
        self.retarget(context)
        read_only = context.limits.read_only is not None
        # Nothing can be sent: no mention nor signature to start from (a draft is still kept).
        text = context.draft or ("" if read_only else context.prefill)
        self.text_area.load_text(text)
        first_line_end = len(text.split("\n", 1)[0])
        self.text_area.move_cursor((0, first_line_end))
        self.add_class("-open")
        self.text_area.read_only = read_only
        self.text_area.focus()
        self._update_status()

    def retarget(self, context: ReplyContext) -> None:
        """Answer with `context` (another account, its limits) keeping the text typed."""
        self.context = context
        title = _("Reply to {recipient}").format(recipient=context.recipient)
        if context.account:
            # The account first: a long handle is cut at the pane's edge, not the account.
            title = _("Reply from {account} to {recipient}").format(
                recipient=context.recipient, account=context.account
            )
        self.border_title = Text(title)
        if self.is_mounted:
            self._update_status()

    def action_next_account(self) -> None:
        if self.context is not None and len(self.context.accounts) > 1:
            self.post_message(self.NextAccount())

    def action_external_editor(self) -> None:
        """Hand the terminal to the user's editor with the reply, and take the text back
        (a failure leaves the reply as it was, and says why)."""
        from textual.app import SuspendNotSupported

        from cmtui.editor import EditorError, edit_text, editor_argv

        area = self.text_area
        if self.context is None or area.read_only:
            return
        argv = editor_argv(os.environ)
        if argv is None:
            self.notify(
                _("Set $EDITOR (or $VISUAL) to write replies in your editor, e.g. EDITOR=nano."),
                severity="warning",
                markup=False,
            )
            return
        try:
            text = edit_text(area.text, argv, self.app.suspend)
        except SuspendNotSupported:
            reason = _("this terminal cannot be handed over to an editor (a web page?)")
            self.notify(reason, title=_("Editor"), severity="error", markup=False)
            return
        except EditorError as error:
            self.notify(str(error), title=_("Editor"), severity="error", markup=False)
            return
        area.load_text(text)  # the draft is kept as for typed text (on_text_area_changed)
        self.app.refresh(repaint=True, layout=True)
        area.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Sharing a draft is for team mode only (hidden from the hints otherwise)."""
        if action == "share":
            return self.context is not None and self.context.team
        return True

    def action_share(self) -> None:
        if self.context is not None and self.context.team:
            self.post_message(self.Share(self.context.conversation_id, self.text_area.text))

    def action_pick_reply(self) -> None:
        if self.context is not None and self.context.limits.read_only is None:
            self.post_message(self.PickReply(self.context.conversation_id))

    def insert_reply(self, template: str) -> None:
        """Put in a saved reply, its variables filled: in place of an untouched prefill (the
        mention kept, and the signature unless the reply brings it), else at the cursor."""
        context = self.context
        area = self.text_area
        if context is None or area.read_only:
            return
        text = fill(template, context.values)
        if area.text.strip() and area.text != context.prefill:
            area.insert(text)
        else:
            head = f"{context.mention}{text}"
            brings = not context.signature or context.signature in text
            tail = "" if brings else f"\n\n{context.signature}"
            area.replace(f"{head}{tail}", (0, 0), area.document.end)
            lines = head.split("\n")
            area.move_cursor((len(lines) - 1, len(lines[-1])))
        area.focus()

    def close(self) -> None:
        """Hide the composer; the screen keeps the draft it was told of."""
        self.remove_class("-open")

    def discard(self) -> None:
        """Empty and hide the composer (after its reply was queued)."""
        self.context = None
        self.text_area.load_text("")
        self.remove_class("-open")

    def warnings(self) -> list[ToneWarning]:
        """What the brand's rules and the network's limits say about the draft."""
        if self.context is None:
            return []
        context = self.context
        warnings = check_draft(
            self.text_area.text,
            context.rules,
            context.signature,
            context.limits,
            counted=context.spoiler,
        )
        if context.notice:
            warnings.append(ToneWarning("reply-window", context.notice))
        return warnings

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._update_status()
        context = self.context
        if context is not None and self.has_class("-open"):
            text = self.text_area.text
            kept = text if text.strip() and text != context.prefill else ""
            self.post_message(self.DraftChanged(context.conversation_id, kept))

    def _update_status(self) -> None:
        status = self.query_one(StatusLine)
        if self.context is None:
            status.show([])
            return
        limits = self.context.limits
        if limits.read_only is not None:
            # No send that would fail: why, and where to answer instead.
            link = _("Answer on the page: {link}").format(link=self.context.link)
            status.show([limits.read_only, *([link] if self.context.link else []), _("esc close")])
            status.set_class(True, "-blocked")
            status.set_class(False, "-warned")
            return
        context = self.context
        length = limits.length(context.spoiler + self.text_area.text)
        warnings = self.warnings()
        notes = [context.audience] if context.audience else []
        if context.spoiler:
            notes.append(_("content warning kept: {cw}").format(cw=context.spoiler))
        # A mark on each warning says, without colour, which ones stop the send key.
        status.show(
            [f"{length}/{limits.max_length}", *notes]
            + [f"{'✗' if w.blocking else '!'} {w.text}" for w in warnings]
            + [_("ctrl+s send · esc close")]
        )
        status.set_class(any(w.blocking for w in warnings), "-blocked")
        status.set_class(bool(warnings), "-warned")

    def action_send(self) -> None:
        if self.context is None:
            return
        if (reason := self.context.limits.read_only) is not None:
            self.notify(reason, title=_("Not sent"), severity="warning", markup=False)
            return
        blocking = [w for w in self.warnings() if w.blocking]
        if blocking:
            self.notify(blocking[0].text, title=_("Not sent"), severity="error", markup=False)
            return
        context = self.context
        self.post_message(self.Send(context.conversation_id, self.text_area.text, context.account))
