import type { TrafficClass } from '@sms/contracts';
import { parseQuietWindow, type QuietWindow } from '../domain/quiet-hours.js';
import type { SenderPolicy } from '../domain/sender-policy.js';
import type { RouterConfig } from './router.config.js';

/** The compliance and quiet-hours settings routing applies, as the main thread and every routing thread read them. */
export interface RoutingPolicy {
  optOutClasses: ReadonlySet<TrafficClass>;
  senders: SenderPolicy;
  templateCountries: ReadonlySet<string>;
  quiet?: { window: QuietWindow; text: string; classes: ReadonlySet<TrafficClass> };
}

export function routingPolicyOf(config: RouterConfig): RoutingPolicy {
  return {
    optOutClasses: new Set(config.ROUTER_OPT_OUT_CLASSES),
    templateCountries: new Set(config.ROUTER_TEMPLATE_COUNTRIES),
    senders: {
      registrationRequired: new Set(config.ROUTER_SENDER_REGISTRATION_COUNTRIES),
      alphanumericUnsupported: new Set(config.ROUTER_ALPHANUMERIC_UNSUPPORTED_COUNTRIES),
    },
    quiet: config.ROUTER_QUIET_HOURS
      ? { window: parseQuietWindow(config.ROUTER_QUIET_HOURS), text: config.ROUTER_QUIET_HOURS, classes: new Set(config.ROUTER_QUIET_HOURS_CLASSES) }
      : undefined,
  };
}
