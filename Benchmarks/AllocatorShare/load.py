#!/usr/bin/env python3
"""A fixed load for a server under callgrind: the same requests every run, so that instruction
counts compare. Every answer is checked.

    load.py nginx PORT REQUESTS      GET / over one keep-alive connection
    load.py memcached PORT REQUESTS  1 set to 9 gets over 1,000 keys of 100 bytes
"""
import socket
import sys


def nginx(port, requests):
    connection = socket.create_connection(("127.0.0.1", port))
    reader = connection.makefile("rb")
    for _ in range(requests):
        connection.sendall(b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n")
        status = reader.readline()
        if b" 200 " not in status:
            sys.exit(f"nginx answered {status!r}")
        length = 0
        while (header := reader.readline()) not in (b"\r\n", b""):
            if header.lower().startswith(b"content-length:"):
                length = int(header.split(b":")[1])
        reader.read(length)


def memcached(port, requests):
    connection = socket.create_connection(("127.0.0.1", port))
    reader = connection.makefile("rb")
    value = b"v" * 100
    for request in range(requests):
        key = b"key%d" % (request * 7919 % 1000)
        if request % 10 == 0:
            connection.sendall(b"set %s 0 0 %d\r\n%s\r\n" % (key, len(value), value))
            if reader.readline() != b"STORED\r\n":
                sys.exit("memcached did not store")
        else:
            connection.sendall(b"get %s\r\n" % key)
            line = reader.readline()
            if line.startswith(b"VALUE"):
                if reader.readline() != value + b"\r\n" or reader.readline() != b"END\r\n":
                    sys.exit("memcached answered another value")
            elif line != b"END\r\n":
                sys.exit(f"memcached answered {line!r}")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("nginx", "memcached"):
        sys.exit(__doc__)
    {"nginx": nginx, "memcached": memcached}[sys.argv[1]](int(sys.argv[2]), int(sys.argv[3]))
