// The harness's webhook receiver, on its own thread. On the main thread it shared an event loop with the
// load client and the Kafka observer, and answered each POST in 90-270 ms under load: the harness, not
// notifier, then set the webhook rate. Here it answers at once and records the receive time; the records
// go to the main thread in small batches.
import { createServer } from 'node:http';
import { parentPort } from 'node:worker_threads';

export type ReceivedHook = [reference: string | null, status: string | null, receivedAt: number];
export type ReceiverMessage = { type: 'listening'; port: number } | { type: 'hooks'; hooks: ReceivedHook[] };

if (!parentPort) throw new Error('receiver-worker runs as a worker thread');
const port = parentPort;
let buffer: ReceivedHook[] = [];

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const receivedAt = Date.now();
    res.statusCode = 204;
    res.end();
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: { reference?: string | null; status?: string | null } };
      buffer.push([body.data?.reference ?? null, body.data?.status ?? null, receivedAt]);
    } catch {
      buffer.push([null, null, receivedAt]);
    }
  });
});
server.keepAliveTimeout = 60_000;

const flush = () => {
  if (buffer.length === 0) return;
  port.postMessage({ type: 'hooks', hooks: buffer } satisfies ReceiverMessage);
  buffer = [];
};
const timer = setInterval(flush, 50);

port.on('message', (message: { type: 'stop' }) => {
  if (message.type !== 'stop') return;
  clearInterval(timer);
  flush();
  server.closeAllConnections();
  server.close(() => port.close());
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  port.postMessage({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 } satisfies ReceiverMessage);
});
