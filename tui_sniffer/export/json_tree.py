"""`tshark -T json`: every packet's tree as nested objects keyed by field name."""
from __future__ import annotations

import datetime as _dt
from typing import Any

from tui_sniffer.dissect.tree import DissectedPacket, TreeNode


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """Add a key, turning repeated keys into lists as tshark does."""
    if key not in target:
        target[key] = value
    elif isinstance(target[key], list):
        target[key].append(value)
    else:
        target[key] = [target[key], value]


def _children_object(nodes: list[TreeNode]) -> dict[str, Any]:
    """One subtree level: fields by name (`name_tree` for their children), text lines by label."""
    result: dict[str, Any] = {}
    for node in nodes:
        if node.definition is not None and not node.definition.is_protocol:
            _put(result, node.definition.name, node.definition.export(node.value))
            if node.children:
                _put(result, f"{node.definition.name}_tree", _children_object(node.children))
        else:
            _put(result, node.text if node.definition is None else node.definition.name,
                 _children_object(node.children) if node.children else "")
    return result


def packet_json(packet: DissectedPacket, timestamp_ns: int) -> dict[str, Any]:
    """One packet in tshark's JSON document shape."""
    layers: dict[str, Any] = {}
    for layer in packet.tree:
        name = layer.field_name or layer.text
        _put(layers, name, _children_object(layer.children))
    day = _dt.datetime.fromtimestamp(timestamp_ns // 1_000_000_000).strftime("%Y-%m-%d")
    return {"_index": f"packets-{day}", "_type": "doc", "_score": None,
            "_source": {"layers": layers}}
