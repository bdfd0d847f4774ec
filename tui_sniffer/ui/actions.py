"""One registry of user actions: the key bindings, the help screen and the command palette all read it."""
from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """A user action: what it runs, the keys that run it, and how help and the palette describe it."""

    action: str
    keys: str
    description: str
    bound_by_app: bool = True
    in_palette: bool = True


APP_ACTIONS = [
    ActionSpec("quit", "q", "Quit", in_palette=False),
    ActionSpec("help", "question_mark", "Show every key binding"),
    ActionSpec("focus_filter", "slash,ctrl+f", "Focus the display filter bar"),
    ActionSpec("goto_packet", "ctrl+g", "Go to packet number"),
    ActionSpec("first_packet", "", "Go to the first packet", bound_by_app=False),
    ActionSpec("last_packet", "", "Go to the last packet", bound_by_app=False),
    ActionSpec("expand_all", "e", "Expand all tree nodes"),
    ActionSpec("collapse_all", "E", "Collapse all tree nodes"),
    ActionSpec("toggle_layout", "L", "Toggle layout: stacked / tree and hex side by side"),
    ActionSpec("zoom_pane", "z", "Zoom the focused pane full screen (again, or esc, to restore)"),
    ActionSpec("grow_pane", "plus,equals_sign", "Grow the focused pane"),
    ActionSpec("shrink_pane", "minus", "Shrink the focused pane"),
    ActionSpec("cycle_time_format", "t", "Next time display format"),
    ActionSpec("toggle_theme", "T", "Switch between dark and light theme"),
    ActionSpec("copy_tree_line", "c", "Copy the selected tree line"),
    ActionSpec("copy_subtree", "C", "Copy the selected subtree as text"),
    ActionSpec("copy_packet_hex", "y", "Copy the packet's bytes as hex"),
    ActionSpec("next_byte_source", "s", "Next byte source in the hex pane (frame, reassembled…)"),
    ActionSpec("open_start", "ctrl+o", "Open another capture (start screen)"),
    ActionSpec("apply_selected", "a", "Apply the selected tree line as the display filter (field == value)"),
    ActionSpec("apply_selected_menu", "A", "Apply as Filter: not / and / or / and not / or not selected"),
    ActionSpec("follow_stream", "F,ctrl+alt+shift+t", "Follow the selected packet's TCP/UDP stream"),
    ActionSpec("capture_toggle", "ctrl+e", "Live capture: stop, or start again on the same interfaces"),
    ActionSpec("capture_start", "", "Live capture: start (again)", bound_by_app=False),
    ActionSpec("capture_stop", "", "Live capture: stop", bound_by_app=False),
    ActionSpec("capture_restart", "ctrl+r", "Live capture: restart (asks to save unsaved packets)"),
    ActionSpec("capture_filter", "ctrl+k", "Live capture: change the capture filter and restart"),
    ActionSpec("save_capture", "ctrl+s", "Save the packets (all or displayed) as pcapng or pcap"),
]

TIME_FORMAT_ACTIONS = [
    ActionSpec(f"set_time_format('{name}')", "", f"Time display format: {label}", bound_by_app=False)
    for name, label in (("RELATIVE", "seconds since beginning of capture"),
                        ("ABSOLUTE", "time of day"),
                        ("DELTA", "seconds since previous displayed packet"),
                        ("EPOCH", "seconds since epoch"))
]

PANE_ACTIONS = [
    ActionSpec("focus_next", "tab", "Next pane"),
    ActionSpec("focus_previous", "shift+tab", "Previous pane"),
    ActionSpec("cursor_down", "j,down", "Next row / tree line / hex row", False, False),
    ActionSpec("cursor_up", "k,up", "Previous row / tree line / hex row", False, False),
    ActionSpec("top", "g g,home", "First row (press g twice)", False, False),
    ActionSpec("bottom", "G,end", "Last row", False, False),
    ActionSpec("half_page_down", "ctrl+d,pagedown", "Page down", False, False),
    ActionSpec("half_page_up", "ctrl+u,pageup", "Page up", False, False),
    ActionSpec("toggle", "enter,space", "Tree: expand / collapse the node", False, False),
    ActionSpec("byte", "h,l,left,right", "Hex: previous / next byte", False, False),
    ActionSpec("complete", "tab", "Filter bar: complete the field name (suggestions show descriptions)",
               False, False),
    ActionSpec("older", "up,down", "Filter bar: walk the filters applied before (kept across runs)",
               False, False),
    ActionSpec("search_history", "ctrl+r", "Filter bar: earlier filter containing the typed text",
               False, False),
]

ALL_ACTIONS = APP_ACTIONS + PANE_ACTIONS + TIME_FORMAT_ACTIONS


def app_bindings() -> list[Binding]:
    """The app-level bindings, with ids, from the registry."""
    return [Binding(spec.keys, spec.action, spec.description, show=False, id=spec.action)
            for spec in APP_ACTIONS if spec.bound_by_app]


def shown_keys(keys: str) -> str:
    """Key names as a person types them (`question_mark` → `?`)."""
    names = {"question_mark": "?", "slash": "/", "plus": "+", "equals_sign": "=", "minus": "-"}
    return ", ".join(names.get(key, key) for key in keys.split(",")) if keys else "(palette)"
