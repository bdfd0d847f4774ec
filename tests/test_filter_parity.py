"""Display-filter parity with tshark on every fixture: 156 filters, the same frame numbers.

tshark evaluates every filter of one capture in a single two-pass run (`-2`, as the rest of the suite
reads files, so replies and reassembled messages ahead are known): a Lua listener per filter prints
the frames it matches, which is what `tshark -n -2 -r F -Y FILTER -T fields -e frame.number` prints
(checked here on a sample). Filters that read what TCP reassembly builds (HTTP, TLS and their bodies)
are also counted apart, since that belongs to the reassembly work; TCP expert analysis is left out.
"""
from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import tui_sniffer
from tests.conftest import FIXTURE_CAPTURES, FIXTURES, TSHARK, needs_tshark
from tui_sniffer.filter import compile_filter

pytestmark = needs_tshark

PARITY_FILTERS = [
    'eth',
    'ip',
    'ipv6',
    'tcp',
    'udp',
    'icmp',
    'icmpv6',
    'arp',
    'dns',
    'http',
    'tls',
    'mdns',
    'llmnr',
    'sll',
    'null',
    'data',
    'frame',
    'ip or ipv6',
    'tcp && !http',
    '!arp',
    'not dns',
    'udp and not dns',
    'tcp.port == 80',
    'tcp.port == 8000',
    'tcp.srcport == 5050',
    'tcp.dstport >= 1024',
    'udp.port == 53',
    'udp.dstport == 5353',
    'tcp.port in {80, 443, 8000..8080}',
    'tcp.port not in {80, 443}',
    'udp.port != 53',
    'tcp.port !== 80',
    'tcp.port === 80',
    'tcp.srcport < tcp.dstport',
    'tcp.port == 5050 and tcp.len > 0',
    'ip.src == 127.0.0.1',
    'ip.dst == 10.10.0.1 or ip.src == 10.10.0.1',
    'ip.dst == 47.93.242.17 or ip.src == 47.93.242.17',
    'ip.addr == 10.10.0.2',
    'ip.addr != 127.0.0.1',
    'ip.src == ip.dst',
    'ipv6.addr == ::1',
    'ipv6.src == ::1 and udp',
    'eth.addr == 00:00:00:00:00:00',
    'eth.dst == ff:ff:ff:ff:ff:ff',
    'eth.src[0:3] == 00:00:00',
    'ip.addr == 10.0.0.0/8',
    'ip.src == 127.0.0.0/8',
    'ip.dst == 10.10.0.0/24',
    'ipv6.addr == fe80::/10',
    'ip.addr == 192.168.0.0/16',
    '!(ip.addr == 127.0.0.0/8)',
    'tcp.flags.syn == 1',
    'tcp.flags.fin == 1',
    'tcp.flags.reset == 1',
    'tcp.flags.push == 1',
    'tcp.flags.ack == 0',
    'tcp.flags == 0x012',
    'tcp.flags & 0x02',
    'tcp.flags.syn == 1 and tcp.flags.ack == 1',
    'tcp.flags.syn == True',
    'ip.flags.df == 1',
    'ip.flags.mf == 0',
    'dns.flags.response == 1',
    'dns.flags.rcode != 0',
    'frame.len > 1000',
    'frame.len <= 60',
    'frame.number == 5',
    'frame.number in {1..5}',
    'tcp.len > 0',
    'tcp.len == 0',
    'udp.length > 50',
    'ip.ttl == 64',
    'ip.ttl < 64',
    'tcp.window_size_value > 1000',
    'tcp.hdr_len == 32',
    'ip.proto == 17',
    'ip.proto == UDP',
    'eth.type == 0x0800',
    'eth.type == IPv6',
    'frame.cap_len < frame.len',
    'tcp.seq == 1',
    'tcp.ack == 1',
    'tcp.nxtseq == 1',
    'tcp.ack > 1000 and tcp.seq > 1000',
    'tcp.seq_raw > 2000000000',
    'tcp.stream == 0',
    'tcp.stream == 1',
    'udp.stream == 1',
    'icmp.type == 8',
    'icmp.type == 0',
    'icmp.seq == 2',
    'icmpv6.type == 128',
    'frame.time_relative > 0.1',
    'frame.time_delta < 0.0001',
    'frame.time_epoch == 1795242471.018554000',
    'frame.time_relative == 0.000499',
    'frame.time_delta == 0.000015',
    'http.request.method == "GET"',
    'http.request.method == "POST"',
    'http.request',
    'http.response',
    'http.host contains "example"',
    'http.request.uri contains "/"',
    'http.request.uri matches "\\\\.html?$"',
    'http.user_agent contains "curl"',
    'http.response.code == 200',
    'http.response.code >= 300',
    'http.content_type contains "text"',
    'dns.qry.name == "www.example.test"',
    'dns.qry.name contains "example"',
    'dns.qry.name matches "^www\\\\."',
    'dns.qry.type == 1',
    'dns.qry.type == 28',
    'dns.a',
    'dns.aaaa',
    'dns.count.answers > 0',
    'dns.resp.name contains "example"',
    'dns.id == 0',
    'tls.handshake.type == 1',
    'tls.handshake.type == 2',
    'tls.record.content_type == 23',
    'tls.handshake.extensions_server_name contains "local"',
    'tls.record.version == 0x0303',
    'frame contains "GET"',
    'frame matches "HTTP/1\\\\.[01]"',
    'tcp.payload contains "HTTP"',
    'udp.payload[0:2] == 00:00',
    'frame[0:6] == ff:ff:ff:ff:ff:ff',
    'eth.dst[0] & 1',
    'ip.src[0] == 127',
    'len(http.request.uri) > 10',
    'count(ip.addr) == 2',
    'count(dns.a) >= 2',
    'upper(http.request.method) == "GET"',
    'lower(dns.qry.name) contains "example"',
    'string(tcp.srcport) == "5050"',
    'max(tcp.srcport, tcp.dstport) == 80',
    'min(tcp.srcport, tcp.dstport) < 1024',
    'ip.addr#1 == 127.0.0.1',
    '{tcp.srcport + tcp.dstport} > 40000',
    '{frame.len - frame.cap_len} == 0',
    '!tcp.port == 80',
    'not (tcp or udp)',
    'ip.addr === 127.0.0.1',
    'ip.addr !== 127.0.0.1',
    'any ip.addr == 127.0.0.1',
    'all ip.addr == 127.0.0.1',
    '!(http or dns)',
    'icmp and ip.proto == 1',
    'udp.port == 53 || udp.port == 5353 || udp.port == 5355',
    'tcp.len > 0 && !(tcp.port == 443)',
    'ip.len > 1000 and tcp',
    'frame.len > 100 and frame.len < 200',
    'ssl',
    'tcp.port ~= 443',
]

REASSEMBLED_PROTOCOLS = frozenset({"http", "tls", "data", "media", "data-text-lines", "urlencoded-form",
                                   "json"})
"""What a filter reads from these comes from reassembled TCP payloads."""

CAPTURES = [path for path in FIXTURE_CAPTURES if path.suffix == ".pcapng"]
"""Each fixture once (the .pcap twins hold the same packets)."""

_LUA_LISTENERS = """
local number = 0
for line in io.lines(os.getenv("FILTER_LIST")) do
  number = number + 1
  local index = number
  local listener = Listener.new(nil, line)
  function listener.packet(pinfo) io.write(index, " ", pinfo.number, "\\n") end
end
"""


def write_tshark_listeners(filters: list[str], folder: Path) -> tuple[Path, Path]:
    """The filter list and the Lua script that make one tshark run report each filter's frames."""
    filter_list, script = folder / "filters.txt", folder / "listeners.lua"
    filter_list.write_text("\n".join(filters) + "\n")
    script.write_text(_LUA_LISTENERS)
    return filter_list, script


def tshark_matches(path: Path, filter_count: int, filter_list: Path, script: Path) -> list[list[int]]:
    """Per filter of the list, the frames tshark -2 matches in one capture (one run for all filters)."""
    output = subprocess.run([TSHARK, "-n", "-2", "-r", str(path), "-q", "-X", f"lua_script:{script}"],
                            capture_output=True, text=True, check=True,
                            env={"FILTER_LIST": str(filter_list), "PATH": "/usr/bin:/bin"}).stdout
    matches: list[list[int]] = [[] for _ in range(filter_count)]
    for line in output.splitlines():
        index, number = line.split()
        matches[int(index) - 1].append(int(number))
    return [sorted(frames) for frames in matches]


@pytest.fixture(scope="module")
def tshark_results(tmp_path_factory) -> dict[str, list[list[int]]]:
    folder = tmp_path_factory.mktemp("parity")
    filter_list, script = write_tshark_listeners(PARITY_FILTERS, folder)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda path: tshark_matches(path, len(PARITY_FILTERS), filter_list, script), CAPTURES)
        return dict(zip((path.name for path in CAPTURES), results))


def _reads_reassembled_data(text: str) -> bool:
    compiled = compile_filter(text)
    return any(name.split(".")[0] in REASSEMBLED_PROTOCOLS for name in compiled.field_names)


def test_there_are_at_least_a_hundred_distinct_filters():
    assert len(set(PARITY_FILTERS)) == len(PARITY_FILTERS) >= 100


def test_filters_match_the_frames_tshark_matches(tshark_results, capsys):
    tally = {"all": [0, 0], "without reassembled data": [0, 0]}
    disagreements = []
    for path in CAPTURES:
        with tui_sniffer.open_capture(str(path)) as capture:
            for text, expected in zip(PARITY_FILTERS, tshark_results[path.name]):
                ours = capture.filter(text)
                groups = ["all"] if _reads_reassembled_data(text) else ["all", "without reassembled data"]
                for group in groups:
                    tally[group][0] += ours == expected
                    tally[group][1] += 1
                if ours != expected:
                    disagreements.append(f"{path.name}: {text!r}: ours {ours[:8]} tshark {expected[:8]}")
    figures = {group: 100.0 * agreed / total for group, (agreed, total) in tally.items()}
    with capsys.disabled():
        print(f"\nfilter parity with tshark over {len(CAPTURES)} captures x {len(PARITY_FILTERS)} filters: " +
              ", ".join(f"{group} {figures[group]:.1f}% ({tally[group][0]}/{tally[group][1]})" for group in tally))
        print("\n".join(disagreements))
    assert figures["all"] >= 98.0


@pytest.mark.parametrize("name, text", [("demo.pcapng", "http.request.method == \"GET\""),
                                        ("demo.pcapng", "ip.dst == 10.10.0.1 or ip.src == 10.10.0.1"),
                                        ("demo.pcapng", "tls.handshake.type == 1"),
                                        ("dns_udp.pcapng", "dns.qry.name contains \"example\""),
                                        ("tcp_chat_5050.pcapng", "tcp.port == 5050 and tcp.len > 0"),
                                        ("ping.pcapng", "icmp.seq == 2")])
def test_the_lua_listeners_match_what_tshark_y_prints(tshark_results, name, text):
    printed = subprocess.run([TSHARK, "-n", "-2", "-r", str(FIXTURES / name), "-Y", text, "-T", "fields",
                              "-e", "frame.number"], capture_output=True, text=True, check=True).stdout
    assert tshark_results[name][PARITY_FILTERS.index(text)] == [int(number) for number in printed.split()]
