import net from 'node:net';

export const LOCALHOST = '127.0.0.1';

/** A port that is free right now on 127.0.0.1 (the OS picks it). Racy by nature, fine for tests. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOCALHOST, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not read the free port');
  return address.port;
}

/**
 * Fails with a message naming the service and the port when something already listens there.
 * Checked before spawning because Kafka and PostgreSQL only say so deep in their own logs.
 */
export async function assertPortFree(port: number, what: string): Promise<void> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, LOCALHOST, resolve);
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new Error(
        `${what}: port ${port} on ${LOCALHOST} is already in use (another ${what} still running? ` +
          `find it with: ss -ltnp 'sport = :${port}'), or choose another port`,
      );
    }
    throw err;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Resolves true once a TCP connection to host:port succeeds, false if it is refused or times out. */
export function canConnect(port: number, host = LOCALHOST, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
