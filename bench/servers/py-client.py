# The Python one-shot client the benchmark times beside `wirecat connect`: connect,
# half-close, copy the reply to stdout. Usage: python3 py-client.py HOST PORT

import socket
import sys

with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10) as s:
    s.shutdown(socket.SHUT_WR)
    while True:
        data = s.recv(65536)
        if not data:
            break
        sys.stdout.buffer.write(data)
