#!/usr/bin/env python3
"""Latency of protocol queries, one client, one request at a time: median and p99 per query.

usage: query_latency.py PORT TOKEN ROUNDS QUERIES_FILE [POSTGRES_LOG]

QUERIES_FILE holds one query per line. With POSTGRES_LOG (a log that auto_explain writes
to), each query is then sent once more and the plans PostgreSQL logged for it are printed.
"""
import socket
import statistics
import sys
import time


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buffer = b""
        self.line()  # greeting

    def line(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def request(self, text):
        """Sends one request and reads its whole reply; returns the first line."""
        self.sock.sendall(text.encode() + b"\n")
        first = self.line()
        parts = first.split(" ", 2)
        if len(parts) >= 2 and parts[0] == "OK" and parts[1].isdigit():
            while self.line() != ".":
                pass
        return first


def main():
    port, token, rounds, queries_file = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    log = sys.argv[5] if len(sys.argv) > 5 else None
    queries = [q.strip() for q in open(queries_file, encoding="utf-8") if q.strip() and not q.startswith("#")]
    client = Client(port)
    assert client.request("AUTH " + token).startswith("OK")
    if log is None:
        print(f"{'query':<58} {'median ms':>10} {'p99 ms':>10}  reply")
    for query in queries:
        if log is not None:
            with open(log, "rb") as f:
                f.seek(0, 2)
                start = f.tell()
            client.request(query)
            time.sleep(0.3)  # let the logger flush
            with open(log, "rb") as f:
                f.seek(start)
                text = f.read().decode(errors="replace")
            print(f"\n=== {query}")
            for entry in text.split("LOG:  duration: ")[1:]:
                if "api_token" in entry:  # the per-command token re-check
                    continue
                print("duration: " + entry.rstrip())
            continue
        first = ""
        for _ in range(3):  # warm the caches and the pool's connections
            first = client.request(query)
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            first = client.request(query)
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        print(f"{query:<58} {statistics.median(samples):>10.2f} {p99:>10.2f}  {first[:60]}")


main()
