# Issue 6: real servers and clients from Debian's packages over the sandbox's own
# network (python3 http.server, curl, redis), and python's view of broken connections.
# Included by tests/CMakeLists.txt, which then gives every e2e_ and diff_ test a 150 s
# TIMEOUT and labels the ones in SENTRY_NET_REAL_PENDING "pending".
#
# Natively: e2e_python_http about 1.5 s, e2e_redis about 3 s, each diff_ test under 1 s.

# python3 -m http.server with a 5 MB file, fetched by urllib and curl (tests/e2e/python_http.sh).
add_test(NAME e2e_python_http COMMAND bash ${E2E}/python_http.sh $<TARGET_FILE:sentry> ${SENTRY_TEST_PYTHON3})
# redis-server, redis-cli and redis-benchmark (tests/e2e/redis.sh).
add_test(NAME e2e_redis COMMAND bash ${E2E}/redis.sh $<TARGET_FILE:sentry>)

# Broken connections as python reports them: EOF, then EPIPE on the second write after
# the peer closed (the first one is answered by an RST); ECONNRESET when the peer closed
# with unread data; the same over unix sockets, where the first write already fails;
# and SIGPIPE for a process that does not ignore it, unless MSG_NOSIGNAL.
add_test(NAME diff_python_brokenpipe COMMAND ${DIFFTEST} ${SENTRY_TEST_PYTHON3} -c [=[
import errno, os, select, signal, socket, threading, time

def outcome(fn):
    try:
        r = fn()
        return "ok " + repr(r)
    except OSError as e:
        return f"{type(e).__name__} {errno.errorcode[e.errno]}"

def write_until_error(sock, what):
    for n in range(1, 11):
        try:
            sock.send(b"x" * 100)
        except OSError as e:
            print(f"{what}: write {n}: {type(e).__name__} {errno.errorcode[e.errno]}")
            return
        time.sleep(0.05)  # on loopback the peer's RST is back long before this
    print(f"{what}: 10 writes succeeded")

def tcp_pair(on_accept):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    t = threading.Thread(target=lambda: on_accept(srv.accept()[0]))
    t.start()
    cli = socket.create_connection(srv.getsockname())
    return srv, cli, t

# 1. The server accepts and closes; the client sees EOF, its first write is answered
#    by an RST, and the next one fails with EPIPE.
srv, cli, t = tcp_pair(lambda conn: conn.close())
t.join()
print("tcp, peer closed: recv", outcome(lambda: cli.recv(100)))
write_until_error(cli, "tcp, peer closed")
print("tcp, after EPIPE: send", outcome(lambda: cli.send(b"y")))
print("tcp, after EPIPE: recv", outcome(lambda: cli.recv(100)))
cli.close(); srv.close()

# 2. The server closes with unread data: an RST instead of a FIN, so recv fails with
#    ECONNRESET, once; then EOF, and writes fail with EPIPE.
def close_unread(conn):
    select.select([conn], [], [], 10)  # the client's bytes have arrived, unread
    conn.close()
srv, cli, t = tcp_pair(close_unread)
cli.sendall(b"unread data")
t.join()
print("tcp, peer closed with unread data: recv", outcome(lambda: cli.recv(100)))
print("tcp, peer closed with unread data: recv again", outcome(lambda: cli.recv(100)))
print("tcp, peer closed with unread data: send", outcome(lambda: cli.send(b"y")))
cli.close(); srv.close()

# 3. The same over a unix socketpair: no RST, the first write fails.
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
a.close()
write_until_error(b, "unix, peer closed")
print("unix, peer closed: recv", outcome(lambda: b.recv(100)))
b.close()
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
b.sendall(b"unread data")
a.close()
print("unix, peer closed with unread data: recv", outcome(lambda: b.recv(100)))
print("unix, peer closed with unread data: recv again", outcome(lambda: b.recv(100)))
print("unix, peer closed with unread data: send", outcome(lambda: b.send(b"y")))
b.close()

# 4. Python ignores SIGPIPE; a child with the default action dies of it, unless the
#    write says MSG_NOSIGNAL.
print("SIGPIPE ignored by python:", signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN)
for flags, name in ((0, "send"), (socket.MSG_NOSIGNAL, "send(MSG_NOSIGNAL)")):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a.close()
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        try:
            b.send(b"x", flags)
            os._exit(0)
        except BrokenPipeError:
            os._exit(32)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        print(f"SIG_DFL child, {name} to a closed peer: killed by", signal.Signals(os.WTERMSIG(status)).name)
    else:
        print(f"SIG_DFL child, {name} to a closed peer: exit", os.WEXITSTATUS(status))
    b.close()
]=])
# Echo servers of python's standard library over TCP (IPv4 and IPv6), UDP and unix
# sockets: socketserver with a thread per connection, asyncio streams with half-close.
add_test(NAME diff_python_socketserver COMMAND ${DIFFTEST} ${SENTRY_TEST_PYTHON3} -c [=[
import asyncio, os, socket, socketserver, tempfile, threading

class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(b"echo: " + line)

class UdpEcho(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(b"echo: " + data, self.client_address)

def serve(server):
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    t.start()
    return t

# socketserver: a thread per connection over TCP, two clients at once.
with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo) as srv:
    t = serve(srv)
    c1 = socket.create_connection(srv.server_address)
    c2 = socket.create_connection(srv.server_address)
    f1, f2 = c1.makefile("rwb"), c2.makefile("rwb")
    for i in range(3):
        for f, name in ((f1, b"one"), (f2, b"two")):
            f.write(b"%s %d\n" % (name, i))
            f.flush()
            print("socketserver tcp:", f.readline())
    for f, c in ((f1, c1), (f2, c2)):
        f.close()
        c.shutdown(socket.SHUT_WR)
        print("socketserver tcp: after shutdown", c.recv(10))
        c.close()
    srv.shutdown()
    t.join()

# socketserver over UDP.
with socketserver.UDPServer(("127.0.0.1", 0), UdpEcho) as srv:
    t = serve(srv)
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for msg in (b"datagram 1", b"datagram 2", b""):
        c.sendto(msg, srv.server_address)
        data, addr = c.recvfrom(100)
        print("socketserver udp:", data, addr == srv.server_address)
    c.close()
    srv.shutdown()
    t.join()

# asyncio: one echo server per family; the client sends lines and a half-close.
async def handle(reader, writer):
    while line := await reader.readline():
        writer.write(b"echo: " + line)
        await writer.drain()
    writer.write(b"bye\n")
    writer.close()
    await writer.wait_closed()

async def client(name, reader, writer):
    for i in range(3):
        writer.write(b"%s %d\n" % (name.encode(), i))
        print(f"asyncio {name}:", await reader.readline())
    big = os.urandom(1 << 20).hex().encode() + b"\n"  # 2 MiB in one line
    writer.write(big)
    back = await reader.readline()
    print(f"asyncio {name}: 2 MiB line echoed intact:", back == b"echo: " + big)
    writer.write_eof()
    print(f"asyncio {name}: after write_eof", await reader.read())
    writer.close()
    await writer.wait_closed()

async def main():
    limit = 4 << 20
    for host, name in (("127.0.0.1", "tcp4"), ("::1", "tcp6")):
        server = await asyncio.start_server(handle, host, 0, limit=limit)
        port = server.sockets[0].getsockname()[1]
        await client(name, *await asyncio.open_connection(host, port, limit=limit))
        server.close()
        await server.wait_closed()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "echo.sock")
        server = await asyncio.start_unix_server(handle, path, limit=limit)
        conns = [await asyncio.open_unix_connection(path, limit=limit) for _ in range(2)]
        for i, conn in enumerate(conns):  # both connected before either is served
            await client(f"unix{i}", *conn)
        server.close()
        await server.wait_closed()

asyncio.run(main())
print("done")
]=])

set(SENTRY_NET_REAL_PENDING)
