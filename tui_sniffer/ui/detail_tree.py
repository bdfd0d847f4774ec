"""The detail tree of the selected packet, keeping expansion and cursor across packets alike in shape."""
from __future__ import annotations

import time
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode as WidgetNode

from tui_sniffer.dissect.tree import DissectedPacket, TreeNode
from tui_sniffer.ui.text_safety import safe_text

NodePath = tuple[tuple[str, int], ...]
_GG_SECONDS = 1.0


def node_key(node: TreeNode) -> str:
    """What identifies a node among its siblings: its field name, else its label up to a colon."""
    return node.field_name or node.text.split(":", 1)[0]


def visible_children(node: TreeNode) -> list[TreeNode]:
    """The children a user sees (hidden fields only exist for filters)."""
    return [child for child in node.children if not child.hidden]


def deepest_node_at(packet: DissectedPacket, source: int, offset: int) -> TreeNode | None:
    """The most specific visible node covering byte `offset` of `source` (ties: the later one)."""
    best: tuple[int, int, TreeNode] | None = None

    def visit(node: TreeNode, depth: int) -> None:
        nonlocal best
        if node.length and node.source == source and node.offset <= offset < node.offset + node.length:
            candidate = (node.length, -depth, node)
            if best is None or candidate[:2] <= best[:2]:
                best = candidate
        for child in visible_children(node):
            visit(child, depth + 1)

    for layer in packet.tree:
        if not layer.hidden:
            visit(layer, 0)
    return best[2] if best else None


def subtree_text(node: TreeNode, depth: int = 0) -> str:
    """A node and its visible descendants as indented text, the way Wireshark copies them."""
    lines = ["    " * depth + node.text]
    lines += [subtree_text(child, depth + 1) for child in visible_children(node)]
    return "\n".join(lines)


class DetailTree(Tree[TreeNode]):
    """The protocol tree of one packet; nodes carry their dissection `TreeNode` as data."""

    BINDINGS = [
        Binding("j", "cursor_down", "Next line", show=False),
        Binding("k", "cursor_up", "Previous line", show=False),
        Binding("g", "top_after_second_g", "First line (gg)", show=False),
        Binding("G", "scroll_end", "Last line", show=False),
        Binding("ctrl+d", "page_down", "Page down", show=False),
        Binding("ctrl+u", "page_up", "Page up", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("packet", id=id)
        self.show_root = False
        self.auto_expand = True
        self.packet: DissectedPacket | None = None
        self._remembered_expansion: dict[NodePath, bool] = {}
        self._expanded_by_default = False
        self._widget_nodes: dict[int, WidgetNode[TreeNode]] = {}
        self._paths: dict[int, NodePath] = {}
        self._first_g_at = 0.0

    def show_packet(self, packet: DissectedPacket | None) -> None:
        """Show `packet`, expanding what was expanded and keeping the cursor on the same field."""
        self._remember_expansion()
        cursor_path = self._paths.get(id(self.cursor_node.data)) if self.cursor_node and self.cursor_node.data else None
        self.packet = packet
        self.clear()
        self._widget_nodes.clear()
        self._paths.clear()
        if packet is None:
            return
        self._add_children(self.root, [layer for layer in packet.tree if not layer.hidden], ())
        target = self._node_at_path(cursor_path) if cursor_path else None
        first_layer = self.root.children[0] if self.root.children else None
        self._move_cursor_after_layout(target or first_layer)

    def _add_children(self, parent: WidgetNode[TreeNode], nodes: list[TreeNode], path: NodePath) -> None:
        """Add `nodes` under `parent`, recursively, expanding remembered paths."""
        seen: dict[str, int] = {}
        for node in nodes:
            key = node_key(node)
            seen[key] = seen.get(key, -1) + 1
            node_path = path + ((key, seen[key]),)
            children = visible_children(node)
            expand = self._remembered_expansion.get(node_path, self._expanded_by_default)
            widget_node = parent.add(safe_text(node.text), data=node, allow_expand=bool(children),
                                     expand=expand and bool(children))
            self._widget_nodes[id(node)] = widget_node
            self._paths[id(node)] = node_path
            if children:
                self._add_children(widget_node, children, node_path)

    def _remember_expansion(self) -> None:
        """Record whether each expandable node path is expanded in the tree being replaced."""
        for node_id, widget_node in self._widget_nodes.items():
            if widget_node.allow_expand:
                self._remembered_expansion[self._paths[node_id]] = widget_node.is_expanded

    def _node_at_path(self, path: NodePath) -> WidgetNode[TreeNode] | None:
        """The widget node at `path` in the current packet, if it has one."""
        for node_id, node_path in self._paths.items():
            if node_path == path:
                widget_node = self._widget_nodes[node_id]
                return widget_node if self._is_shown(widget_node) else None
        return None

    @staticmethod
    def _is_shown(widget_node: WidgetNode[TreeNode]) -> bool:
        """Whether every ancestor of `widget_node` is expanded (so the cursor can rest on it)."""
        parent = widget_node.parent
        while parent is not None and not parent.is_root:
            if not parent.is_expanded:
                return False
            parent = parent.parent
        return True

    def select_field(self, node: TreeNode) -> None:
        """Put the cursor on `node`, expanding its ancestors (the hex pane asked for it)."""
        widget_node = self._widget_nodes.get(id(node))
        if widget_node is None:
            return
        parent = widget_node.parent
        while parent is not None and not parent.is_root:
            parent.expand()
            parent = parent.parent
        self._move_cursor_after_layout(widget_node)

    def _move_cursor_after_layout(self, widget_node: WidgetNode[TreeNode] | None) -> None:
        """Move the cursor once the tree's lines reflect the latest adds and expansions."""
        self.get_node_at_line(0)  # reading a line rebuilds stale line numbers first
        self.move_cursor(widget_node, animate=False)

    def expand_everything(self) -> None:
        """Expand every node, here and in the next packets, except what the user collapses later.

        As in Wireshark, Expand All makes expanded the remembered state of every subtree; a subtree
        collapsed by hand afterwards stays collapsed in the next packets.
        """
        self._remembered_expansion.clear()
        self._expanded_by_default = True
        for widget_node in self.root.children:
            widget_node.expand_all()

    def collapse_everything(self) -> None:
        """Collapse every node, here and in the next packets, except what the user expands later."""
        for widget_node in self.root.children:
            widget_node.collapse_all()
        self._remembered_expansion.clear()
        self._expanded_by_default = False
        if self.root.children:
            self._move_cursor_after_layout(self.root.children[0])

    def action_top_after_second_g(self) -> None:
        """`gg`: the second `g` within a second goes to the first line."""
        now = time.monotonic()
        if now - self._first_g_at <= _GG_SECONDS:
            self._first_g_at = 0.0
            self.action_scroll_home()
        else:
            self._first_g_at = now
