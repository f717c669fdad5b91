"""The sources pane: saved views, then brands and their accounts, with unread counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from cmtui.config import Config
from cmtui.views import (
    BUILTIN_VIEWS,
    View,
    ViewCounts,
    account_view,
    brand_view,
    views_for,
)


class SourcesTree(Tree[str]):
    """Views, brands and accounts. Moving the cursor picks the view shown in the list.

    | Key(s) | Description |
    | :- | :- |
    | j, down | Next source. |
    | k, up | Previous source. |
    | enter | Show this source and go to the list. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="sources.down"),
        Binding("k", "cursor_up", "Up", show=False, id="sources.up"),
    ]

    DEFAULT_CSS = """
    SourcesTree {
        background: $surface;
        padding: 0 1;
        & > .tree--guides { color: $primary-muted; }
    }
    """

    class ViewChosen(Message):
        """The user moved to another source."""

        def __init__(self, view: View) -> None:
            super().__init__()
            self.view = view

    def __init__(self, config: Config, *, id: str | None = None) -> None:
        super().__init__(Text("Sources"), id=id)
        self.show_root = False
        self.auto_expand = False  # enter opens a brand's view; it does not fold its accounts
        self.guide_depth = 2
        self._views = {view.id: view for view in views_for(config)}
        self._view_nodes: dict[str, TreeNode[str]] = {}
        self._add_sources(config)

    def _add_sources(self, config: Config) -> None:
        for view in BUILTIN_VIEWS:
            self._view_nodes[view.id] = self.root.add_leaf(Text(view.title), data=view.id)
        for brand in config.brands:
            view = brand_view(brand.name)
            node = self.root.add(Text(view.label), data=view.id, expand=True)
            self._view_nodes[view.id] = node
            for account in config.accounts:
                if account.brand == brand.name:
                    child = account_view(account.id)
                    self._view_nodes[child.id] = node.add_leaf(Text(child.label), data=child.id)

    def view(self, view_id: str) -> View:
        """The view with that id (the inbox when it is unknown)."""
        return self._views.get(view_id, BUILTIN_VIEWS[0])

    @property
    def views(self) -> Sequence[View]:
        """Every view, in display order."""
        return list(self._views.values())

    def show_counts(self, counts: ViewCounts) -> None:
        """Refresh the labels with each view's count: unread conversations, or all of them
        for the views that hold what is dealt with (Done, All), shown muted."""
        for view_id, node in self._view_nodes.items():
            view = self._views[view_id]
            label = Text(view.title)
            count = counts.shown(view)
            if count:
                label.append(f"  {count}", "dim" if view.counts_all else "bold")
            node.set_label(label)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.ViewChosen(self.view(event.node.data)))
