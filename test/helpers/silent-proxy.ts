import net from 'node:net';

/**
 * A TCP proxy whose connections can go silent without closing, as on a network that drops every
 * packet: while silenced, nothing is forwarded either way and new connections are accepted but
 * never answered. `restore()` forwards again; what was sent meanwhile is lost, as on a real network.
 */
export async function startSilentProxy(target: URL) {
  let silent = false;
  const pairs = new Set<net.Socket[]>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    const pair = [client, upstream];
    pairs.add(pair);
    client.on('data', (d) => silent || upstream.write(d));
    upstream.on('data', (d) => silent || client.write(d));
    for (const socket of pair) {
      socket.on('error', () => {});
      socket.on('close', () => {
        pairs.delete(pair);
        for (const s of pair) s.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    silence: () => {
      silent = true;
    },
    restore: () => {
      silent = false;
    },
    close: async () => {
      for (const pair of pairs) for (const s of pair) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
