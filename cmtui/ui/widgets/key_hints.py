"""The key-hint line at the bottom of a screen: what the keys do where the focus is.

Textual's `Footer` mounts a widget per key and recomposes them all at each focus change; this
is one widget drawing one line, so the first paint and every focus change cost a line of text.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget


class KeyHints(Widget):
    """The shown bindings active where the focus is: the focused widget's first, then its
    containers', the screen's and the app's (one per action), with the keys the keymap gives
    them. Redrawn whenever the screen's bindings change: on focus, on a keymap change, and
    when an action becomes available or not (then shown dimmed).

    | Class | Description |
    | :- | :- |
    | `key-hints--key` | A key. |
    | `key-hints--description` | What it does. |
    | `key-hints--disabled` | A key and its description while the action is unavailable. |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-hints--key",
        "key-hints--description",
        "key-hints--disabled",
    }
    DEFAULT_CSS = """
    KeyHints {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        & > .key-hints--key { color: $footer-key-foreground; text-style: bold; }
        & > .key-hints--description { color: $footer-description-foreground; }
        & > .key-hints--disabled { color: $text-disabled; }
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen:
            self.refresh()

    def hints(self) -> list[tuple[str, str, bool]]:
        """(key, description, enabled) for each action shown now, in the line's order."""
        shown: dict[str, tuple[str, str, bool]] = {}
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in shown:
                key = self.app.get_key_display(binding)
                shown[binding.action] = (key, binding.description, enabled)
        return list(shown.values())

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-hints--key")
        description_style = self.get_component_rich_style("key-hints--description")
        disabled_style = self.get_component_rich_style("key-hints--disabled")
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        for key, description, enabled in self.hints():
            line.append(f" {key} ", key_style if enabled else disabled_style)
            line.append(f"{description} ", description_style if enabled else disabled_style)
        return line
