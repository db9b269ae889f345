// Entry of a routing thread (see RoutingThreads): runs runRoutingThread with the data the main thread gave it.
import { parentPort, workerData } from 'node:worker_threads';
import { runRoutingThread } from './routing-thread.js';
import type { RoutingThreadData } from './protocol.js';

if (!parentPort) throw new Error('routing.worker.js runs only as a worker thread');
await runRoutingThread(parentPort, workerData as RoutingThreadData);
