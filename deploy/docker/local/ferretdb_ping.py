"""Health check of the `inovda-ferretdb` image: a MongoDB `ping` command over the wire protocol (OP_MSG),
with the standard library only. Exit status 0 when the server answers `ok: 1`.

Usage: ferretdb-ping [HOST] [PORT]   (default 127.0.0.1 27017)
"""

import socket
import struct
import sys

OP_MSG = 2013


def bson_ping() -> bytes:
    """The document {ping: 1, $db: "admin"}."""
    elements = b"\x10ping\x00" + struct.pack("<i", 1) + b"\x02$db\x00" + struct.pack("<i", 6) + b"admin\x00"
    return struct.pack("<i", 4 + len(elements) + 1) + elements + b"\x00"


def ping(host: str, port: int) -> bool:
    body = struct.pack("<I", 0) + b"\x00" + bson_ping()  # flag bits, then section kind 0 (the body)
    header = struct.pack("<iiii", 16 + len(body), 1, 0, OP_MSG)
    with socket.create_connection((host, port), timeout=3) as connection:
        connection.sendall(header + body)
        reply = b""
        while len(reply) < 4 or len(reply) < struct.unpack("<i", reply[:4])[0]:
            chunk = connection.recv(65536)
            if not chunk:
                return False
            reply += chunk
    # The answer's body holds `ok` as a double (type 0x01): 1.0 when the server is well.
    marker = reply.find(b"\x01ok\x00")
    return marker >= 0 and struct.unpack("<d", reply[marker + 4 : marker + 12])[0] == 1.0


if __name__ == "__main__":
    arguments = sys.argv[1:]
    host = arguments[0] if arguments else "127.0.0.1"
    port = int(arguments[1]) if len(arguments) > 1 else 27017
    try:
        healthy = ping(host, port)
    except OSError as error:
        print(f"ferretdb-ping: {error}", file=sys.stderr)
        healthy = False
    sys.exit(0 if healthy else 1)
