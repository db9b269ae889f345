// ESME-side helpers for the integration tests: a real `smpp` client session, promisified, with
// every wait bounded so a misbehaving simulator fails a test instead of hanging the run.
import smpp, { type PDU, type PduOptions, type Session } from 'smpp';
import { startSimulator, type SimulatorOptions, type SmscSimulator } from './simulator.js';

export const SYSTEM_ID = 'gateway';
export const PASSWORD = 'secret';
export const CREDENTIALS = [{ systemId: SYSTEM_ID, password: PASSWORD }];

export type ClientBindType = 'transceiver' | 'transmitter' | 'receiver';

export class TimeoutError extends Error {}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new TimeoutError(`timed out after ${ms} ms waiting for ${what}`)),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A connected ESME session that keeps every deliver_sm it receives and acknowledges it. */
export class TestEsme {
  readonly delivered: PDU[] = [];
  closed = false;
  /** deliver_sm_resp status to answer with, or null to never answer (a hung DLR handler). */
  ackStatus: number | null = 0;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly session: Session) {
    session.on('deliver_sm', (pdu) => {
      if (this.ackStatus !== null) session.send(pdu.response({ command_status: this.ackStatus }));
      this.delivered.push(pdu);
      for (const waiter of this.waiters) waiter();
    });
    session.on('close', () => {
      this.closed = true;
      for (const waiter of this.waiters) waiter();
    });
    // Resets are expected in the disconnect tests; 'close' is what the tests look at.
    session.on('error', () => undefined);
  }

  static connect(port: number): Promise<TestEsme> {
    return withTimeout(
      new Promise<TestEsme>((resolve, reject) => {
        const session = smpp.connect({ host: '127.0.0.1', port });
        session.once('connect', () => resolve(new TestEsme(session)));
        session.once('error', reject);
      }),
      2000,
      'TCP connect',
    );
  }

  /** Connects and binds; rejects if the bind response carries an error. */
  static async bound(
    port: number,
    bindType: ClientBindType = 'transceiver',
    credentials: { systemId: string; password: string } = { systemId: SYSTEM_ID, password: PASSWORD },
  ): Promise<TestEsme> {
    const esme = await TestEsme.connect(port);
    const resp = await esme.bind(bindType, credentials);
    if (resp.command_status !== 0) {
      esme.destroy();
      throw new Error(`bind failed with status ${resp.command_status}`);
    }
    return esme;
  }

  bind(
    bindType: ClientBindType,
    credentials: { systemId: string; password: string } = { systemId: SYSTEM_ID, password: PASSWORD },
  ): Promise<PDU> {
    return this.request(`bind_${bindType}`, {
      system_id: credentials.systemId,
      password: credentials.password,
    });
  }

  /** Sends a request PDU and resolves with its response. */
  request(
    command:
      | 'bind_transceiver'
      | 'bind_transmitter'
      | 'bind_receiver'
      | 'submit_sm'
      | 'enquire_link'
      | 'unbind'
      | 'query_sm',
    options: PduOptions = {},
    timeoutMs = 1500,
  ): Promise<PDU> {
    return withTimeout(
      new Promise<PDU>((resolve, reject) => {
        const written = this.session.send(new smpp.PDU(command, options), resolve);
        if (!written) reject(new Error(`${command}: socket not writable`));
      }),
      timeoutMs,
      `${command} response`,
    );
  }

  submit(options: PduOptions, timeoutMs = 1500): Promise<PDU> {
    return this.request('submit_sm', { source_addr: 'ACME', data_coding: 0, ...options }, timeoutMs);
  }

  /** Resolves with the response or null when none arrives within `ms`. */
  async submitExpectingSilence(options: PduOptions, ms: number): Promise<PDU | null> {
    try {
      return await this.submit(options, ms);
    } catch (err) {
      if (err instanceof TimeoutError) return null;
      throw err;
    }
  }

  /** Re-checks on every deliver_sm / close, and every 10 ms for conditions on the simulator side. */
  waitFor(predicate: () => boolean, ms: number, what: string): Promise<void> {
    if (predicate()) return Promise.resolve();
    let waiter: () => void = () => undefined;
    let poll: NodeJS.Timeout | undefined;
    return withTimeout(
      new Promise<void>((resolve) => {
        waiter = () => {
          if (predicate()) resolve();
        };
        this.waiters.add(waiter);
        poll = setInterval(waiter, 10);
      }),
      ms,
      what,
    ).finally(() => {
      clearInterval(poll);
      this.waiters.delete(waiter);
    });
  }

  async deliveries(count: number, ms = 2000): Promise<PDU[]> {
    await this.waitFor(() => this.delivered.length >= count, ms, `${count} deliver_sm`);
    return this.delivered.slice(0, count);
  }

  waitClosed(ms = 2000): Promise<void> {
    return this.waitFor(() => this.closed, ms, 'socket close');
  }

  destroy(): void {
    this.session.destroy();
  }
}

/** The receipt's short_message text as the smpp package decodes it (data_coding 0). */
export function messageText(pdu: PDU): string {
  const sm = pdu.short_message;
  if (sm === undefined) return '';
  return typeof sm.message === 'string' ? sm.message : sm.message.toString('latin1');
}

export const RECEIPT_PATTERN =
  /^id:([0-9a-f]{10}) sub:001 dlvrd:(\d{3}) submit date:(\d{10}) done date:(\d{10}) stat:([A-Z]{7}) err:(\d{3}) text:(.*)$/;

export interface Scenario {
  sim: SmscSimulator;
  /** Connects and binds an ESME that is destroyed when the scenario ends. */
  bound(bindType?: ClientBindType, credentials?: { systemId: string; password: string }): Promise<TestEsme>;
  /** Connects without binding; destroyed when the scenario ends. */
  connect(): Promise<TestEsme>;
}

/** Runs `fn` against a fresh simulator on an ephemeral port and tears everything down afterwards. */
export async function withSimulator(
  options: SimulatorOptions,
  fn: (scenario: Scenario) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({ credentials: CREDENTIALS, receiptDelayMs: 20, ...options });
  const esmes: TestEsme[] = [];
  const track = (esme: TestEsme): TestEsme => {
    esmes.push(esme);
    return esme;
  };
  try {
    await fn({
      sim,
      bound: async (bindType, credentials) => track(await TestEsme.bound(sim.port, bindType, credentials)),
      connect: async () => track(await TestEsme.connect(sim.port)),
    });
  } finally {
    for (const esme of esmes) esme.destroy();
    await sim.stop();
  }
}
