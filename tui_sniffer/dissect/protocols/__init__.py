"""Every protocol dissector; importing this package registers all fields and handlers."""
from tui_sniffer.dissect.protocols import data, frame, ip, link, tcp, udp  # noqa: F401
