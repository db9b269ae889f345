import { readFileSync } from 'node:fs';
import net from 'node:net';

export const LOCALHOST = '127.0.0.1';

/**
 * The kernel's range for the local ports of outgoing connections (Linux; elsewhere the IANA range). A port
 * handed out from it could be taken by any client's connection (a Kafka or PostgreSQL client of the very
 * services about to start) before the service listens on it.
 */
export function ephemeralPortRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! > 0 && high! >= low!) return { low: low!, high: high! };
  } catch {
    // not Linux
  }
  return { low: 49152, high: 65535 };
}

const LOWEST_TEST_PORT = 10000;
const handedOut = new Set<number>();

/**
 * A port that is free right now on 127.0.0.1, below the ephemeral range and never handed out twice by this
 * process. The OS's own pick (port 0) comes from the ephemeral range: a test stack once lost its router
 * because an outgoing connection took the port between this check and the router's listen (EADDRINUSE).
 * Still a check-then-use race against other listeners, which is fine for tests.
 */
export async function freePort(): Promise<number> {
  const { low } = ephemeralPortRange();
  const top = Math.min(low, 65536) - 1;
  if (top - LOWEST_TEST_PORT >= 1000) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const port = LOWEST_TEST_PORT + Math.floor(Math.random() * (top - LOWEST_TEST_PORT + 1));
      if (handedOut.has(port)) continue;
      if (await canListen(port)) {
        handedOut.add(port);
        return port;
      }
    }
  }
  // An ephemeral range starting below 11000 leaves no room: let the OS pick.
  return osPickedPort();
}

function canListen(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, LOCALHOST, () => server.close(() => resolve(true)));
  });
}

async function osPickedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOCALHOST, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not read the free port');
  handedOut.add(address.port);
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
