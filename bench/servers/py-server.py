# The Python reference servers: socketserver.ThreadingTCPServer (a thread per connection,
# accept backlog raised from 5 to 4096) for echo and daytime, socketserver.UDPServer for UDP
# echo. Usage: python3 py-server.py echo|daytime|udp PORT [HOST]

import socketserver
import sys
import time


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    return
                sock.sendall(data)
        except OSError:
            return


class Daytime(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            self.request.sendall((time.ctime() + "\r\n").encode())
        except OSError:
            return


class UdpEcho(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data, self.client_address)


class Threading(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 4096


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("echo", "daytime", "udp"):
        sys.exit("usage: python3 py-server.py echo|daytime|udp PORT [HOST]")
    mode, port = sys.argv[1], int(sys.argv[2])
    host = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    if mode == "udp":
        server = socketserver.UDPServer((host, port), UdpEcho)
    else:
        server = Threading((host, port), Echo if mode == "echo" else Daytime)
    server.serve_forever()


main()
