import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import smpp from 'smpp';
import {
  SmppClientSession,
  SmppCommandError,
  SmppSessionError,
  type SmppClientSessionOptions,
  type SmppDeliver,
  type SmppMalformedPdu,
  type SmppSessionState,
  type SubmitSmRequest,
} from './index.js';

const ESME_RINVPASWD = 0x0e;
const ESME_RTHROTTLED = 0x58;

/** A real SMPP server on 127.0.0.1:0 whose behaviour each test scripts per session. */
interface TestSmsc {
  port: number;
  server: smpp.Server;
  /** Server-side sessions in connection order. */
  sessions: smpp.Session[];
  binds: number[];
  bindPdus: smpp.PDU[];
  close(): Promise<void>;
}

async function startSmsc(
  t: TestContext,
  onSession: (session: smpp.Session, smsc: TestSmsc) => void,
  port = 0,
  serverOptions: smpp.ServerOptions = {},
): Promise<TestSmsc> {
  const server = smpp.createServer(serverOptions);
  const smsc: TestSmsc = {
    port: 0,
    server,
    sessions: [],
    binds: [],
    bindPdus: [],
    close: async () => {
      for (const session of [...server.sessions]) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('session', (session: smpp.Session) => {
    // Our client destroys sockets on purpose; an unhandled 'error' would crash the test process.
    session.on('error', () => undefined);
    smsc.sessions.push(session);
    onSession(session, smsc);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  smsc.port = (server.address() as AddressInfo).port;
  t.after(() => smsc.close());
  return smsc;
}

function acceptBind(session: smpp.Session, smsc: TestSmsc, status = 0): void {
  session.on('bind_transceiver', (pdu) => {
    smsc.binds.push(Date.now());
    smsc.bindPdus.push(pdu);
    session.send(pdu.response(status ? { command_status: status } : { system_id: 'test-smsc' }));
  });
}

function answerEnquireLink(session: smpp.Session): void {
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
}

function answerUnbind(session: smpp.Session): void {
  session.on('unbind', (pdu) => {
    session.send(pdu.response());
    session.close();
  });
}

/** The usual well-behaved SMSC, answering submits through `onSubmit`. */
function standardSession(onSubmit?: (pdu: smpp.PDU, session: smpp.Session) => void) {
  return (session: smpp.Session, smsc: TestSmsc): void => {
    acceptBind(session, smsc);
    answerEnquireLink(session);
    answerUnbind(session);
    if (onSubmit) session.on('submit_sm', (pdu) => onSubmit(pdu, session));
  };
}

function client(
  t: TestContext,
  port: number,
  overrides: Partial<SmppClientSessionOptions> = {},
): SmppClientSession {
  const session = new SmppClientSession({
    name: 'test',
    host: '127.0.0.1',
    port,
    systemId: 'esme',
    password: 'secret',
    bindType: 'transceiver',
    window: 10,
    responseTimeoutMs: 1000,
    enquireLinkIntervalMs: 5000,
    deadLinkTimeoutMs: 1000,
    reconnect: { initialDelayMs: 50, maxDelayMs: 400, jitter: 0 },
    sourceTon: 5,
    sourceNpi: 0,
    destTon: 1,
    destNpi: 1,
    ...overrides,
  });
  t.after(() => session.stop());
  return session;
}

function submit(text = 'hi'): SubmitSmRequest {
  return {
    sourceAddr: 'ACME',
    destinationAddr: '447700900123',
    shortMessage: Buffer.from(text, 'latin1'),
    esmClass: 0,
    dataCoding: 0,
    registeredDelivery: 1,
  };
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function recordStates(session: SmppClientSession): SmppSessionState[] {
  const states: SmppSessionState[] = [];
  session.on('state', (state) => states.push(state));
  return states;
}

function isSessionError(code: SmppSessionError['code']) {
  return (error: unknown): boolean => error instanceof SmppSessionError && error.code === code;
}

void test('binds, submits the exact bytes and fields, and unbinds gracefully', async (t) => {
  const received: smpp.PDU[] = [];
  let unbinds = 0;
  const smsc = await startSmsc(t, (session, s) => {
    standardSession((pdu) => {
      received.push(pdu);
      session.send(pdu.response({ message_id: `msg-${received.length}` }));
    })(session, s);
    session.on('unbind', () => unbinds++);
  });
  const session = client(t, smsc.port);
  const states = recordStates(session);
  await session.start();
  assert.equal(session.state, 'bound');
  const [bind] = smsc.bindPdus;
  assert.equal(bind!.system_id, 'esme');
  assert.equal(bind!.password, 'secret');
  assert.equal(bind!.interface_version, 0x34);

  const gsm = await session.submit({
    ...submit(),
    shortMessage: Uint8Array.of(0x00, 0x68, 0x69),
    validityPeriod: '000001000000000R',
  });
  assert.deepEqual(gsm, { messageId: 'msg-1' });
  const ucs2 = await session.submit({
    ...submit(),
    shortMessage: Buffer.from([0x04, 0x36]),
    dataCoding: 8,
    sar: { refNum: 0x1234, totalSegments: 2, seqNum: 1 },
    sourceTon: 1,
    sourceNpi: 1,
    sourceAddr: '447700900001',
  });
  assert.deepEqual(ucs2, { messageId: 'msg-2' });

  const [first, second] = received;
  assert.equal(first!.source_addr, 'ACME');
  assert.equal(first!.source_addr_ton, 5);
  assert.equal(first!.dest_addr_ton, 1);
  assert.equal(first!.destination_addr, '447700900123');
  assert.equal(first!.registered_delivery, 1);
  assert.equal(first!.data_coding, 0);
  // The package decodes GSM septets on the server side: 0x00 is '@'.
  assert.deepEqual(first!.short_message, { message: '@hi' });
  assert.equal(second!.data_coding, 8);
  assert.deepEqual(second!.short_message, { message: 'ж' });
  assert.equal(second!.source_addr_ton, 1);
  assert.equal(second!.sar_msg_ref_num, 0x1234);
  assert.equal(second!.sar_total_segments, 2);
  assert.equal(second!.sar_segment_seqnum, 1);
  assert.deepEqual(session.counters, { inFlight: 0, queued: 0, submitted: 2, errors: 0, reconnects: 0 });

  await session.stop();
  assert.equal(unbinds, 1);
  assert.equal(session.state, 'closed');
  assert.deepEqual(states, ['connecting', 'bound', 'closed']);
  await assert.rejects(session.submit(submit()), isSessionError('not_bound'));
});

void test('a refused bind backs off exponentially instead of hammering', async (t) => {
  const smsc = await startSmsc(t, (session, s) => acceptBind(session, s, ESME_RINVPASWD));
  const session = client(t, smsc.port, { reconnect: { initialDelayMs: 50, maxDelayMs: 200, jitter: 0 } });
  const states = recordStates(session);
  const started = session.start();
  started.catch(() => undefined);
  await waitFor(() => smsc.binds.length >= 4, 2000, 'four bind attempts');
  await assert.rejects(session.submit(submit()), isSessionError('not_bound'));
  await session.stop();
  await assert.rejects(started, isSessionError('session_closed'));

  const gaps = smsc.binds.slice(1).map((at, i) => at - smsc.binds[i]!);
  // 50, 100, 200 ms (plus connect time): growing, never below the schedule.
  assert.ok(gaps[0]! >= 45 && gaps[1]! >= 95 && gaps[2]! >= 195, `gaps ${gaps.join(',')}`);
  assert.ok(states.includes('backoff'));
  assert.ok(!states.includes('bound'));
  assert.equal(session.state, 'closed');
});

void test('never more than `window` submits are outstanding, the rest queue in order', async (t) => {
  let outstanding = 0;
  let maxOutstanding = 0;
  const order: string[] = [];
  const smsc = await startSmsc(
    t,
    standardSession((pdu, s) => {
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      order.push((pdu.short_message as smpp.DecodedMessage).message.toString());
      setTimeout(() => {
        outstanding--;
        s.send(pdu.response({ message_id: 'ok' }));
      }, 20);
    }),
  );
  const session = client(t, smsc.port, { window: 4, maxQueued: 100 });
  await session.start();
  let maxInFlight = 0;
  const submits = Array.from({ length: 30 }, (_, i) => session.submit(submit(`m${i}`)));
  const watcher = setInterval(() => (maxInFlight = Math.max(maxInFlight, session.counters.inFlight)), 1);
  assert.equal(session.counters.inFlight, 4);
  assert.equal(session.counters.queued, 26);
  const results = await Promise.all(submits);
  clearInterval(watcher);
  assert.equal(results.length, 30);
  assert.equal(maxOutstanding, 4);
  assert.ok(maxInFlight <= 4);
  assert.deepEqual(
    order,
    Array.from({ length: 30 }, (_, i) => `m${i}`),
  );
  assert.deepEqual(session.counters, { inFlight: 0, queued: 0, submitted: 30, errors: 0, reconnects: 0 });
});

void test('a full queue refuses at once with queue_full', async (t) => {
  const smsc = await startSmsc(
    t,
    standardSession(() => undefined),
  );
  const session = client(t, smsc.port, { window: 2, maxQueued: 3, responseTimeoutMs: 300 });
  await session.start();
  const accepted = Array.from({ length: 5 }, () => session.submit(submit()));
  for (const p of accepted) p.catch(() => undefined);
  await assert.rejects(session.submit(submit()), isSessionError('queue_full'));
  assert.deepEqual(
    { inFlight: session.counters.inFlight, queued: session.counters.queued },
    { inFlight: 2, queued: 3 },
  );
});

void test('a missing submit_sm_resp times out and frees its window slot; a late one is ignored', async (t) => {
  let count = 0;
  const smsc = await startSmsc(
    t,
    standardSession((pdu, s) => {
      count++;
      if (count === 1) setTimeout(() => s.send(pdu.response({ message_id: 'late' })), 250);
      else s.send(pdu.response({ message_id: 'second' }));
    }),
  );
  const session = client(t, smsc.port, { window: 1, responseTimeoutMs: 150 });
  await session.start();
  const started = Date.now();
  const first = session.submit(submit());
  const second = session.submit(submit());
  await assert.rejects(first, (error: unknown) => {
    assert.ok(isSessionError('response_timeout')(error));
    assert.equal((error as SmppSessionError).maybeAccepted, true);
    return true;
  });
  assert.ok(Date.now() - started >= 140);
  assert.deepEqual(await second, { messageId: 'second' });
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(session.state, 'bound');
  assert.deepEqual(session.counters, { inFlight: 0, queued: 0, submitted: 1, errors: 1, reconnects: 0 });
});

void test('a non-zero command_status rejects with SmppCommandError carrying the spec name', async (t) => {
  const smsc = await startSmsc(
    t,
    standardSession((pdu, s) => s.send(pdu.response({ command_status: ESME_RTHROTTLED }))),
  );
  const session = client(t, smsc.port);
  await session.start();
  await assert.rejects(session.submit(submit()), (error: unknown) => {
    assert.ok(error instanceof SmppCommandError);
    assert.equal(error.commandStatus, ESME_RTHROTTLED);
    assert.equal(error.name, 'ESME_RTHROTTLED');
    assert.equal(error.retryable, true);
    return true;
  });
  assert.equal(session.state, 'bound');
});

void test('when the SMSC drops the connection, in-flight submits fail as connection_lost and the session rebinds', async (t) => {
  const smsc = await startSmsc(t, (session, s) => {
    standardSession((pdu, server) => {
      // The first connection dies with a submit in flight; later ones answer.
      if (s.sessions.length === 1) server.destroy();
      else server.send(pdu.response({ message_id: 'after-reconnect' }));
    })(session, s);
  });
  const session = client(t, smsc.port);
  const states = recordStates(session);
  await session.start();
  await assert.rejects(session.submit(submit()), (error: unknown) => {
    assert.ok(isSessionError('connection_lost')(error));
    assert.equal((error as SmppSessionError).retryable, true);
    assert.equal((error as SmppSessionError).maybeAccepted, true);
    return true;
  });
  assert.equal(session.state, 'backoff');
  await assert.rejects(session.submit(submit()), isSessionError('not_bound'));
  await waitFor(() => session.state === 'bound', 2000, 'rebind');
  assert.deepEqual(await session.submit(submit()), { messageId: 'after-reconnect' });
  assert.deepEqual(states, ['connecting', 'bound', 'backoff', 'connecting', 'bound']);
  assert.equal(smsc.binds.length, 2);
  assert.equal(session.counters.reconnects, 1);
});

void test('an unanswered enquire_link is a dead link: the session drops it and reconnects', async (t) => {
  let enquireLinks = 0;
  const smsc = await startSmsc(t, (session, s) => {
    acceptBind(session, s);
    answerUnbind(session);
    // The first connection goes silent (a half-dead NAT entry); later ones answer.
    session.on('enquire_link', (pdu) => {
      enquireLinks++;
      if (s.sessions.indexOf(session) > 0) session.send(pdu.response());
    });
    session.on('submit_sm', (pdu) => {
      if (s.sessions.indexOf(session) === 0) return;
      session.send(pdu.response({ message_id: 'x' }));
    });
  });
  // 400 ms, not less: on the healthy second link an answer held up by a busy moment (GC, a loaded CI machine)
  // must not read as a dead link.
  const session = client(t, smsc.port, {
    enquireLinkIntervalMs: 50,
    deadLinkTimeoutMs: 400,
    responseTimeoutMs: 2000,
  });
  const states = recordStates(session);
  await session.start();
  const inFlight = session.submit(submit());
  await assert.rejects(inFlight, isSessionError('connection_lost'));
  await waitFor(() => session.state === 'bound' && smsc.binds.length === 2, 2000, 'rebind after dead link');
  // The healthy link keeps answering: no further reconnect over several intervals.
  const linksBefore = enquireLinks;
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.ok(enquireLinks > linksBefore);
  assert.equal(smsc.binds.length, 2);
  assert.deepEqual(states.slice(0, 4), ['connecting', 'bound', 'backoff', 'connecting']);
});

void test('deliver_sm is acknowledged at once and emitted with its exact bytes and receipt TLVs', async (t) => {
  const responses: smpp.PDU[] = [];
  let serverSession: smpp.Session | undefined;
  const smsc = await startSmsc(t, (session, s) => {
    standardSession()(session, s);
    serverSession = session;
    session.on('deliver_sm_resp', (pdu) => responses.push(pdu));
  });
  const session = client(t, smsc.port);
  const delivered: SmppDeliver[] = [];
  session.on('deliver', (d) => delivered.push(d));
  await session.start();

  const receiptText = Buffer.from(
    'id:abc_1 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:',
    'latin1',
  );
  serverSession!.deliver_sm({
    source_addr: '447700900123',
    destination_addr: 'ACME',
    esm_class: 0x04,
    data_coding: 0,
    short_message: receiptText,
    receipted_message_id: 'abc_1',
    message_state: 2,
    network_error_code: Buffer.from([3, 0, 0]),
  });
  // A mobile-originated part with a UDH and bytes the package would have rewritten when decoding.
  const moBytes = Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01, 0x00, 0x11, 0x80, 0xff]);
  serverSession!.deliver_sm({
    source_addr: '447700900123',
    destination_addr: '12345',
    esm_class: 0x40,
    data_coding: 0,
    short_message: moBytes,
  });
  await waitFor(
    () => delivered.length === 2 && responses.length === 2,
    1000,
    'two delivers and their responses',
  );

  const [receipt, mo] = delivered;
  assert.equal(receipt!.isReceipt, true);
  assert.deepEqual(receipt!.shortMessage, receiptText);
  assert.equal(receipt!.receiptedMessageId, 'abc_1');
  assert.equal(receipt!.messageState, 2);
  assert.deepEqual(receipt!.networkErrorCode, { networkType: 3, errorCode: 0 });
  assert.equal(receipt!.receipt?.id, 'abc_1');
  assert.equal(receipt!.receipt?.stat, 'DELIVRD');
  assert.ok(receipt!.receivedAt instanceof Date);
  assert.equal(mo!.isReceipt, false);
  assert.equal(mo!.esmClass, 0x40);
  assert.deepEqual(mo!.shortMessage, moBytes);
  assert.equal(mo!.destinationAddr, '12345');
  assert.ok(responses.every((r) => r.command_status === 0));
  assert.deepEqual(
    responses.map((r) => r.sequence_number),
    delivered.map((d) => d.sequenceNumber),
  );
});

/** A PDU as raw bytes: `base` (a whole PDU, or only a header) with `extra` octets appended and its length fixed. */
function rawPdu(base: Buffer, extra: number[], header?: { commandId: number; status: number; sequence: number }): Buffer {
  const head = header ? Buffer.alloc(16) : base;
  if (header) {
    head.writeUInt32BE(header.commandId, 4);
    head.writeUInt32BE(header.status, 8);
    head.writeUInt32BE(header.sequence, 12);
  }
  const pdu = Buffer.concat([header ? Buffer.concat([head, base]) : head, Buffer.from(extra)]);
  pdu.writeUInt32BE(pdu.length, 0);
  return pdu;
}

void test('a PDU the smpp package cannot decode does not take the bind down: read by our parser, or refused so it is not sent again', async (t) => {
  const responses: smpp.PDU[] = [];
  const nacks: smpp.PDU[] = [];
  let serverSession: smpp.Session | undefined;
  const smsc = await startSmsc(t, (session, s) => {
    standardSession()(session, s);
    serverSession = session;
    session.on('deliver_sm_resp', (pdu) => responses.push(pdu));
    session.on('generic_nack', (pdu) => nacks.push(pdu));
  });
  const session = client(t, smsc.port);
  const states = recordStates(session);
  const delivered: SmppDeliver[] = [];
  const malformed: SmppMalformedPdu[] = [];
  session.on('deliver', (d) => delivered.push(d));
  session.on('malformed', (m) => malformed.push(m));
  await session.start();

  const receipt = (sequence: number, id: string) =>
    new smpp.PDU('deliver_sm', {
      sequence_number: sequence,
      source_addr: '447700900123',
      destination_addr: 'ACME',
      esm_class: 0x04,
      short_message: Buffer.from(`id:${id} stat:DELIVRD err:000`, 'latin1'),
    }).toBuffer();
  // message_state (0x0427) declared with length 0 as the last TLV: the package reads its octet past the end and
  // throws; this library's parser reads it (no state).
  serverSession!.socket.write(rawPdu(receipt(901, 'r1'), [0x04, 0x27, 0x00, 0x00]));
  // A TLV cut short (length 5, two octets follow): nobody can read it.
  serverSession!.socket.write(rawPdu(receipt(902, 'r2'), [0x00, 0x1e, 0x00, 0x05, 0x61, 0x62]));
  // A request other than deliver_sm with a TLV cut short.
  serverSession!.socket.write(rawPdu(Buffer.alloc(0), [0x04, 0x27, 0x00, 0x01], { commandId: 0x15, status: 0, sequence: 903 }));
  // A well-formed receipt after them is still read.
  serverSession!.socket.write(receipt(904, 'r3'));
  await waitFor(() => responses.length === 3 && nacks.length === 1 && delivered.length === 2, 2000, 'answers to all four');

  assert.deepEqual(
    responses.map((r) => [r.sequence_number, r.command_status]),
    [
      [901, 0],
      [902, 0x65],
      [904, 0],
    ],
    'read ones acknowledged; the unreadable one refused with ESME_RX_P_APPN (permanent: not sent again)',
  );
  assert.deepEqual([nacks[0]!.sequence_number, nacks[0]!.command_status], [903, 0x02]);
  assert.deepEqual(delivered.map((d) => [d.sequenceNumber, d.receipt?.id, d.messageState]), [
    [901, 'r1', undefined],
    [904, 'r3', undefined],
  ]);
  assert.deepEqual(
    malformed.map((m) => [m.command, m.sequenceNumber, m.action]),
    [
      ['deliver_sm', 902, 'refused'],
      ['enquire_link', 903, 'nacked'],
    ],
  );
  // Only the 16-octet header is logged: the body holds addresses and text.
  assert.equal(malformed[0]!.head.length, 32);
  assert.equal(malformed[0]!.head.slice(8, 16), '00000005');
  assert.deepEqual(states, ['connecting', 'bound'], 'the bind never dropped');
  assert.equal(session.counters.reconnects, 0);
  serverSession!.on('submit_sm', (pdu) => serverSession!.send(pdu.response({ message_id: 'after' })));
  assert.deepEqual(await session.submit(submit()), { messageId: 'after' });
});

void test('an undecodable submit_sm_resp still settles its submit by its header, keeping a whole message_id', async (t) => {
  let answer = 0;
  const smsc = await startSmsc(t, (session, s) => {
    standardSession((pdu, server) => {
      answer++;
      // Each answer ends in a message_state TLV cut short (the package throws reading it).
      const truncated = [0x04, 0x27, 0x00, 0x01];
      const header = { commandId: 0x80000004, sequence: pdu.sequence_number };
      if (answer === 1) server.socket.write(rawPdu(Buffer.from('A1B2\0', 'latin1'), truncated, { ...header, status: 0 }));
      else if (answer === 2) server.socket.write(rawPdu(Buffer.from('\0', 'latin1'), truncated, { ...header, status: 0 }));
      else server.socket.write(rawPdu(Buffer.from('\0', 'latin1'), truncated, { ...header, status: ESME_RTHROTTLED }));
    })(session, s);
  });
  const session = client(t, smsc.port);
  const malformed: SmppMalformedPdu[] = [];
  session.on('malformed', (m) => malformed.push(m));
  await session.start();
  assert.deepEqual(await session.submit(submit()), { messageId: 'A1B2' });
  // Accepted, but no id to read: resolved with an empty one (carrier-dispatch records it as unidentified).
  assert.deepEqual(await session.submit(submit()), { messageId: '' });
  await assert.rejects(session.submit(submit()), (e) => e instanceof SmppCommandError && e.commandStatus === ESME_RTHROTTLED);
  assert.deepEqual(malformed.map((m) => [m.command, m.action]), [
    ['submit_sm_resp', 'settled_pending'],
    ['submit_sm_resp', 'settled_pending'],
    ['submit_sm_resp', 'settled_pending'],
  ]);
  assert.equal(session.counters.inFlight, 0);
  assert.equal(session.counters.reconnects, 0);
});

void test('a throwing deliver listener does not break the session', async (t) => {
  const responses: smpp.PDU[] = [];
  let serverSession: smpp.Session | undefined;
  const smsc = await startSmsc(t, (session, s) => {
    standardSession((pdu, server) => server.send(pdu.response({ message_id: 'ok' })))(session, s);
    serverSession = session;
    session.on('deliver_sm_resp', (pdu) => responses.push(pdu));
  });
  const session = client(t, smsc.port);
  session.on('deliver', () => {
    throw new Error('listener bug');
  });
  await session.start();
  serverSession!.deliver_sm({ source_addr: '1', destination_addr: '2', short_message: Buffer.from('x') });
  await waitFor(() => responses.length === 1, 1000, 'deliver_sm_resp');
  assert.deepEqual(await session.submit(submit()), { messageId: 'ok' });
});

void test('stop() lets in-flight responses land before unbind_resp, then fails the rest as session_closed', async (t) => {
  let submits = 0;
  const smsc = await startSmsc(t, (session, s) => {
    acceptBind(session, s);
    answerEnquireLink(session);
    session.on('submit_sm', (pdu) => {
      submits++;
      // The first is answered while the unbind is pending; the second never.
      if (submits === 1) setTimeout(() => session.send(pdu.response({ message_id: 'during-unbind' })), 30);
    });
    session.on('unbind', (pdu) => setTimeout(() => session.send(pdu.response()), 80));
  });
  const session = client(t, smsc.port, { window: 1, maxQueued: 5 });
  await session.start();
  const first = session.submit(submit());
  const queued = session.submit(submit());
  const queuedResult = assert.rejects(queued, isSessionError('session_closed'));
  await waitFor(() => submits === 1, 1000, 'first submit at the SMSC');
  const stopped = session.stop();
  await assert.rejects(session.submit(submit()), isSessionError('session_closed'));
  assert.deepEqual(await first, { messageId: 'during-unbind' });
  await queuedResult;
  await stopped;
  assert.equal(session.state, 'closed');
  assert.equal(submits, 1);
});

void test('stop() gives up on a missing unbind_resp and fails in-flight submits as session_closed', async (t) => {
  const smsc = await startSmsc(t, (session, s) => {
    acceptBind(session, s);
    session.on('submit_sm', () => undefined);
    session.on('unbind', () => undefined);
  });
  const session = client(t, smsc.port, { unbindTimeoutMs: 100 });
  await session.start();
  const inFlight = session.submit(submit());
  const result = assert.rejects(inFlight, (error: unknown) => {
    assert.ok(isSessionError('session_closed')(error));
    assert.equal((error as SmppSessionError).maybeAccepted, true);
    return true;
  });
  const started = Date.now();
  await session.stop();
  await result;
  assert.ok(Date.now() - started < 1000);
  assert.equal(session.state, 'closed');
});

void test('an unbind from the SMSC is answered and followed by a rebind', async (t) => {
  const unbindResponses: smpp.PDU[] = [];
  const smsc = await startSmsc(t, (session, s) => {
    standardSession()(session, s);
    session.on('unbind_resp', (pdu) => unbindResponses.push(pdu));
    if (s.sessions.length === 1) {
      setTimeout(() => session.unbind(), 50);
    }
  });
  const session = client(t, smsc.port);
  await session.start();
  await waitFor(() => smsc.binds.length === 2 && session.state === 'bound', 2000, 'rebind after SMSC unbind');
  assert.equal(unbindResponses.length, 1);
  assert.equal(unbindResponses[0]!.command_status, 0);
});

void test('connection refused backs off and binds once the SMSC comes up', async (t) => {
  // Reserve a free port, then leave it closed for a while.
  const probe = await startSmsc(t, () => undefined);
  const port = probe.port;
  await probe.close();
  const session = client(t, port, { reconnect: { initialDelayMs: 30, maxDelayMs: 60, jitter: 0.5 } });
  const states = recordStates(session);
  const started = session.start();
  await waitFor(() => states.filter((s) => s === 'backoff').length >= 2, 2000, 'two failed connects');
  assert.notEqual(session.state, 'bound');
  const smsc = await startSmsc(t, standardSession(), port);
  await started;
  assert.equal(session.state, 'bound');
  assert.equal(smsc.binds.length, 1);
});

/** A self-signed certificate for 127.0.0.1, made with the openssl CLI; undefined when openssl is missing. */
function selfSignedCertificate(): { key: string; cert: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'smpp-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void test('binds and submits over TLS, verifying the SMSC certificate', async (t) => {
  const certificate = selfSignedCertificate();
  if (!certificate) {
    t.skip('openssl not available');
    return;
  }
  const smsc = await startSmsc(
    t,
    standardSession((pdu, s) => s.send(pdu.response({ message_id: 'tls-ok' }))),
    0,
    certificate,
  );
  const session = client(t, smsc.port, { tls: { ca: certificate.cert } });
  await session.start();
  assert.deepEqual(await session.submit(submit()), { messageId: 'tls-ok' });
  await session.stop();

  // An unknown certificate is a failed connect (and backoff), never a bind.
  const untrusted = client(t, smsc.port, { name: 'untrusted', tls: true });
  const states = recordStates(untrusted);
  const started = untrusted.start();
  started.catch(() => undefined);
  await waitFor(() => states.includes('backoff'), 2000, 'TLS failure');
  assert.equal(smsc.binds.length, 1);
});
