"""The sources pane: saved views, the Alerts and Advocates panels, then brands and their
accounts, with unread counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from cmtui.config import Config
from cmtui.i18n import N_, _
from cmtui.ui.format import NETWORK_MIN_CELLS, NetworkNames
from cmtui.views import (
    BUILTIN_VIEWS,
    View,
    ViewCounts,
    account_view,
    brand_view,
    views_for,
)

NETWORK_SEPARATOR = " · "
PANELS: dict[str, str] = {
    "alerts": N_("Alerts"),
    "advocates": N_("Advocates"),
    "approvals": N_("Approvals"),  # team mode only
}
"""Sources that are not views of conversations: the list pane shows their own list."""
_PANEL = "panel:"  # their node data: "panel:alerts"
_PLACES = ("brand:", "account:")  # ids of the views listed under the brands, after the panels


class SourcesTree(Tree[str]):
    """Views, brands and accounts. Moving the cursor picks the view shown in the list.

    An account is shown with its network ("ml-masto · mastodon.social"); where the pane is
    too narrow the network's name is cut, never the account or its count.

    | Key(s) | Description |
    | :- | :- |
    | j, down | Next source. |
    | k, up | Previous source. |
    | enter | Show this source and go to the list. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", _("Down"), show=False, id="sources.down"),
        Binding("k", "cursor_up", _("Up"), show=False, id="sources.up"),
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

    class PanelChosen(Message):
        """The user moved to a panel (a key of `PANELS`)."""

        def __init__(self, panel: str) -> None:
            super().__init__()
            self.panel = panel

    def __init__(self, config: Config, *, id: str | None = None) -> None:
        super().__init__(Text("Sources"), id=id)
        networks = NetworkNames.of(config.accounts)
        # view id -> the network of an account view (set first: labels render from here on)
        self._networks = {
            account_view(a.id).id: networks.name(a.id, a.platform) for a in config.accounts
        }
        self.show_root = False
        self.auto_expand = False  # enter opens a brand's view; it does not fold its accounts
        self.guide_depth = 2
        self._views = {view.id: view for view in views_for(config)}
        self._view_nodes: dict[str, TreeNode[str]] = {}
        self._panel_nodes: dict[str, TreeNode[str]] = {}
        self._add_sources(config)

    def _add_sources(self, config: Config) -> None:
        for view in self._views.values():
            if not view.id.startswith(_PLACES):  # built in, Mine and the saved views
                self._view_nodes[view.id] = self.root.add_leaf(self._label(view.id), data=view.id)
        for panel, label in PANELS.items():
            if panel == "approvals" and config.team.database is None:
                continue
            leaf = self.root.add_leaf(Text(_(label)), data=_PANEL + panel)
            self._panel_nodes[panel] = leaf
        for brand in config.brands:
            view = brand_view(brand.name)
            node = self.root.add(self._label(view.id), data=view.id, expand=True)
            self._view_nodes[view.id] = node
            for account in config.accounts:
                if account.brand == brand.name:
                    child = account_view(account.id)
                    leaf = node.add_leaf(self._label(child.id), data=child.id)
                    self._view_nodes[child.id] = leaf

    def _label(self, view_id: str) -> Text:
        """A view's name; an account's is followed by its network."""
        label = Text(self._views[view_id].title)
        network = self._networks.get(view_id)
        if network:
            label.append(NETWORK_SEPARATOR + network, "dim")
        return label

    def render_label(self, node: TreeNode[str], base_style: Style, style: Style) -> Text:
        """The node's label, its network's name cut to what the pane leaves room for."""
        label = super().render_label(node, base_style, style)
        network = self._networks.get(node.data or "")
        over = label.cell_len - self._label_room(node)
        if network is None or over <= 0:
            return label
        start = label.plain.find(NETWORK_SEPARATOR + network)
        if start < 0:
            return label
        before, middle, after = label.divide([start, start + len(NETWORK_SEPARATOR + network)])
        middle.truncate(max(0, middle.cell_len - over), overflow="ellipsis")
        if middle.cell_len < len(NETWORK_SEPARATOR) + NETWORK_MIN_CELLS:
            middle = Text()
        return Text.assemble(before, middle, after)

    def _label_room(self, node: TreeNode[str]) -> int:
        """Cells left for `node`'s label after the guides (the root is hidden: its children
        have none, each level below adds `guide_depth`)."""
        depth = 0
        parent = node.parent
        while parent is not None and parent is not self.root:
            depth += 1
            parent = parent.parent
        return self.scrollable_content_region.width - depth * self.guide_depth

    def show_view(self, view_id: str) -> None:
        """Put the cursor on `view_id`'s line (the view or panel the list shows), once laid
        out."""
        node = self._view_nodes.get(view_id) or self._panel_nodes.get(view_id)
        if node is not None:
            self.call_after_refresh(self.move_cursor, node)

    def view(self, view_id: str) -> View:
        """The view with that id (the inbox when it is unknown)."""
        return self._views.get(view_id, BUILTIN_VIEWS[0])

    @property
    def views(self) -> Sequence[View]:
        """Every view, in display order."""
        return list(self._views.values())

    def put_view(self, view: View) -> None:
        """Show `view` in place of the view with its id, or as a new saved view after the
        last one (before the panels)."""
        known = view.id in self._views
        self._views[view.id] = view
        if known:
            self._view_nodes[view.id].set_label(self._label(view.id))
            return
        first_panel = next(iter(self._panel_nodes.values()))
        node = self.root.add_leaf(self._label(view.id), data=view.id, before=first_panel)
        self._view_nodes[view.id] = node

    def show_counts(self, counts: ViewCounts) -> None:
        """Refresh the labels with each view's count: unread conversations, or all of them
        for the views that hold what is dealt with (Done, All), shown muted."""
        for view_id, node in self._view_nodes.items():
            view = self._views[view_id]
            label = self._label(view_id)
            count = counts.shown(view)
            if count:
                label.append(f"  {count}", "dim" if view.counts_all else "bold")
            node.set_label(label)

    def show_panel_count(self, panel: str, count: int, *, loud: bool) -> None:
        """Show `count` beside a panel: bold when it calls for attention (active alerts)."""
        label = Text(_(PANELS[panel]))
        if count:
            label.append(f"  {count}", "bold" if loud else "dim")
        self._panel_nodes[panel].set_label(label)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        event.stop()
        data = event.node.data
        if data is None:
            return
        if data.startswith(_PANEL):
            self.post_message(self.PanelChosen(data.removeprefix(_PANEL)))
        else:
            self.post_message(self.ViewChosen(self.view(data)))
