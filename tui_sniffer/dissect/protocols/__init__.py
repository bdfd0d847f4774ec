"""Every protocol dissector; importing this package registers all fields and handlers."""
from tui_sniffer.dissect.protocols import arp, data, dhcp, dns, frame, http, icmp, icmpv6, ip, link, tcp, tls, udp  # noqa: F401
