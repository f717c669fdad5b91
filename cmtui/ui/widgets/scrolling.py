"""What the virtual lists (conversations, thread) share about scrolling."""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.widget import Widget


def set_content_size(view: ScrollView, size: Size) -> None:
    """Give `view` a new virtual size (what its content would measure), and repaint it.

    Assigning `virtual_size` asks for a layout of the whole screen, and after each layout
    Textual repaints the scrollbars of every scroll view on it: with a new thread on each
    cursor key, that was two full-height columns redrawn per key. The pane's own size does
    not depend on its content, so only its scrollbars are told; when one appears or goes,
    that change asks for the layout it needs.
    """
    if size != view.virtual_size:
        view.set_reactive(Widget.virtual_size, size)
        view._scroll_update(size)
    view.refresh()
