import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the server, to drop every connection at once as a broken network would,
 * without the server noticing first (the clients see 1006, or a failed fetch).
 */
export async function startTcpProxy(targetPort: number) {
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    track(client);
    track(upstream);
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    /** Drops every open connection, both ways, without a close handshake. */
    cut() {
      for (const socket of sockets) socket.destroy();
    },
    /**
     * Ends every WebSocket with a close frame of this code, as the server (or a proxy before it)
     * would send it, then drops the connections. For a quiet moment: the frame is not interleaved.
     */
    closeWebSockets(code: number) {
      for (const client of clients) client.write(Buffer.from([0x88, 2, code >> 8, code & 0xff]));
      setTimeout(() => this.cut(), 50);
    },
    /** While refusing, new connections are dropped at once, as by a network that is down. */
    refuse(on: boolean) {
      refusing = on;
      if (on) this.cut();
    },
    async close() {
      this.cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
