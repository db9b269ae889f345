import type { HttpCarrierConfig } from '@sms/config';
import { classifyHttpFailure, type FailureClass } from './error-map.js';

export type HttpCarrierSettings = HttpCarrierConfig['http'];

/** One message as an HTTP carrier takes it: the whole text (the carrier splits long messages itself). */
export interface HttpSubmitMessage {
  from: string;
  to: string;
  text: string;
  /** Our message id, so the carrier's own records can be matched to ours. */
  reference: string;
  validUntil: string;
}

export interface HttpSubmitRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export type HttpAnswer = { ok: true; messageId: string } | { ok: false; failure: FailureClass; carrierCode: string };

/** Builds the carrier's submit request from the config's mapping (field names, format, auth, constants). */
export function buildHttpSubmit(settings: HttpCarrierSettings, message: HttpSubmitMessage): HttpSubmitRequest {
  const { fields, stripPlus, format } = settings.request;
  const number = (n: string) => (stripPlus ? n.replace(/^\+/, '') : n);
  const values: Record<string, string | number | boolean> = { ...settings.request.static };
  values[fields.to] = number(message.to);
  values[fields.from] = /^\+?\d+$/.test(message.from) ? number(message.from) : message.from;
  values[fields.text] = message.text;
  if (fields.reference) values[fields.reference] = message.reference;
  if (fields.validUntil) values[fields.validUntil] = message.validUntil;
  const headers: Record<string, string> = { accept: 'application/json' };
  const auth = settings.auth;
  if (auth.type === 'bearer') headers.authorization = `Bearer ${auth.token}`;
  else if (auth.type === 'basic') headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  else if (auth.type === 'header') headers[auth.name.toLowerCase()] = auth.value;
  if (format === 'form') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(values)) form.set(key, String(value));
    return { url: settings.url, headers, body: form.toString() };
  }
  headers['content-type'] = 'application/json';
  return { url: settings.url, headers, body: JSON.stringify(values) };
}

/** The value at a dot path (`data.id`, `messages.0.id`) of a parsed JSON answer. */
export function readPath(json: unknown, path: string): unknown {
  let at: unknown = json;
  for (const key of path.split('.')) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const scalar = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : undefined);

/**
 * What the carrier's answer means. A 2xx must carry a message id where the config says: without one no
 * receipt could ever be matched, so it is treated as a broken carrier (fail over), not as a success.
 * The raw code kept with a failure is the carrier's own error code when it sent one, else `HTTP <status>`.
 */
export function interpretHttpAnswer(settings: HttpCarrierSettings, status: number, bodyText: string): HttpAnswer {
  const json = parseJson(bodyText);
  if (status >= 200 && status < 300) {
    const messageId = scalar(readPath(json, settings.response.messageIdPath));
    if (messageId && messageId.length <= 128 && !/\s/.test(messageId)) return { ok: true, messageId };
    return {
      ok: false,
      failure: { disposition: 'failover', reason: 'carrier_protocol_error', finalStatus: 'failed' },
      carrierCode: `HTTP ${status} without ${settings.response.messageIdPath}`,
    };
  }
  const errorCode = settings.response.errorCodePath ? scalar(readPath(json, settings.response.errorCodePath))?.slice(0, 64) : undefined;
  return { ok: false, failure: classifyHttpFailure(status, errorCode, settings.errors), carrierCode: errorCode ?? `HTTP ${status}` };
}
