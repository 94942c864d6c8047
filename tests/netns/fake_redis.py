# SPDX-License-Identifier: GPL-2.0-or-later
#
# fake_redis.py PATH MODE - a hostile "Redis" on the unix socket PATH, for
# test_cluster_hostile_redis.sh: it answers the first command of every
# connection with a reply that never ends, sent as fast as the client takes
# it. MODE array: an array of 2**31-1 empty strings; MODE nested: an array
# of 1,000,000 arrays of 100,000 empty strings each; MODE string: one bulk
# string of 2**31-1 bytes. Each connection is served until the client
# closes it.
import socket
import sys
import threading


def serve(conn, mode):
    try:
        conn.recv(65536)
        if mode == "array":
            conn.sendall(b"*2147483647\r\n")
            chunk = b"$0\r\n\r\n" * 1000000
        elif mode == "nested":
            conn.sendall(b"*1000000\r\n")
            chunk = b"*100000\r\n" + b"$0\r\n\r\n" * 100000
        else:
            conn.sendall(b"$2147483647\r\n")
            chunk = b"a" * 4000000
        while True:
            conn.sendall(chunk)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    path, mode = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(8)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


main()
