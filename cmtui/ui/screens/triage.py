"""The small prompts of the triage keys: until when to snooze, which labels, whom to assign.

Each dismisses with what the user chose (None: escape, nothing changes); the inbox screen
applies it. A typed value that does not parse is explained under the field, which keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from cmtui.i18n import _
from cmtui.triage import complete_label, parse_labels, parse_snooze, snooze_choices, when_label

ResultT = TypeVar("ResultT")
UNASSIGN = ""
"""What `AssignScreen` dismisses with to unassign."""


class TriagePrompt(ModalScreen[ResultT | None], Generic[ResultT]):
    """A small box over the inbox: a title, a choice or a field, a line for errors.

    | Key(s) | Description |
    | :- | :- |
    | escape | Close without changing anything. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", _("Cancel"), id="triage.cancel"),
    ]

    DEFAULT_CSS = """
    TriagePrompt {
        align: center middle;
        & > Vertical {
            width: 60;
            max-width: 90%;
            height: auto;
            max-height: 80%;
            background: $surface;
            border: round $primary;
            padding: 0 1;
        }
        & OptionList { height: auto; max-height: 12; }
        & .prompt-hint { color: $text-muted; }
        & .prompt-error { color: $error; }
    }
    """

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def _box(self) -> Vertical:
        box = Vertical()
        box.border_title = self.title_text
        return box

    def show_error(self, text: str) -> None:
        """Say under the field why what was typed is refused (plain text)."""
        self.query_one(".prompt-error", Static).update(text)


class SnoozeScreen(TriagePrompt[datetime]):
    """Until when: the usual choices, or a typed time (`cmtui.triage.parse_snooze`)."""

    def __init__(self, now: datetime, tz: tzinfo | None = None, *, count: int = 1) -> None:
        super().__init__(_("Snooze {count} conversation(s) until").format(count=count))
        self.now = now
        self.tz = tz
        self.choices = snooze_choices(now, tz)

    def compose(self) -> ComposeResult:
        with self._box():
            yield OptionList(
                *(
                    Option(Text(f"{label} · {when_label(until, self.now, self.tz)}"), id=str(n))
                    for n, (label, until) in enumerate(self.choices)
                ),
                id="snooze-choices",
            )
            yield Input(
                placeholder=_("or type: 2h, 14:30, mon, 2026-12-24"),
                id="snooze-typed",
                select_on_focus=False,  # what typing on the choices put there stays
            )
            yield Static("", classes="prompt-error", markup=False)

    @on(OptionList.OptionSelected, "#snooze-choices")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index][1])

    def on_key(self, event: events.Key) -> None:
        """Typing on the choices types a time: no tab needed to reach the field."""
        typed = self.query_one("#snooze-typed", Input)
        if event.is_printable and event.character and not typed.has_focus:
            typed.focus()
            typed.insert_text_at_cursor(event.character)
            event.stop()
            event.prevent_default()

    @on(Input.Submitted, "#snooze-typed")
    def _typed(self, event: Input.Submitted) -> None:
        try:
            until = parse_snooze(event.value, self.now, self.tz)
        except ValueError as error:
            self.show_error(str(error))
            return
        self.dismiss(until)


class _LabelSuggester(Suggester):
    """Completes the last label typed from the labels in use."""

    def __init__(self, known: Sequence[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.known = known

    async def get_suggestion(self, value: str) -> str | None:
        return complete_label(value, self.known)


class LabelsScreen(TriagePrompt[tuple[list[str], list[str]]]):
    """Labels typed comma-separated (`-name` removes one), completed from those in use;
    dismisses with (to add, to remove)."""

    def __init__(self, known: Sequence[str], current: Sequence[str], *, count: int = 1) -> None:
        super().__init__(_("Labels of {count} conversation(s)").format(count=count))
        self.known = known
        self.current = current

    def compose(self) -> ComposeResult:
        with self._box():
            hint = _("now: {labels}").format(labels=", ".join(self.current) or "-")
            yield Static(hint, classes="prompt-hint", markup=False)
            yield Input(
                placeholder=_("vip, refund, -spam (right arrow completes)"),
                suggester=_LabelSuggester(self.known),
                id="labels-typed",
            )
            yield Static("", classes="prompt-error", markup=False)

    @on(Input.Submitted, "#labels-typed")
    def _typed(self, event: Input.Submitted) -> None:
        try:
            add, remove = parse_labels(event.value)
        except ValueError as error:
            self.show_error(str(error))
            return
        if not add and not remove:
            self.dismiss(None)
            return
        self.dismiss((add, remove))


class AssignScreen(TriagePrompt[str]):
    """A teammate from `[team] members`, or nobody (dismisses with `UNASSIGN`)."""

    def __init__(self, members: Sequence[str], me: str | None, *, count: int = 1) -> None:
        super().__init__(_("Assign {count} conversation(s) to").format(count=count))
        self.members = list(members)
        self.me = me

    def compose(self) -> ComposeResult:
        options = [
            Option(Text(_("{name} (me)").format(name=m) if m == self.me else m), id=f"m{n}")
            for n, m in enumerate(self.members)
        ]
        options.append(Option(Text(_("Nobody (unassign)")), id="unassign"))
        with self._box():
            yield OptionList(*options, id="assign-choices")

    @on(OptionList.OptionSelected, "#assign-choices")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        index = event.option_index
        self.dismiss(self.members[index] if index < len(self.members) else UNASSIGN)
