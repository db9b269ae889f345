import { MoReceivedV1, type MoReceivedPayload } from '@sms/contracts';
import type { ConsumedEvent } from '@sms/kafka';
import type { Logger } from '@sms/platform';
import { Counter, type Registry } from '@sms/telemetry';
import { moCommand, normalizeMsisdn, normalizeSender } from '../domain/opt-out.js';
import type { ComplianceRepository } from '../infra/compliance.repository.js';

/**
 * STOP / START keywords from recipients. An MO's `to` is the sender number the recipient replied to; the
 * sender registry says which tenant(s) own it, and the opt-out applies to those tenants only.
 */
export class ComplianceService {
  private readonly moCounter: Counter<'outcome'>;

  constructor(
    private readonly repository: ComplianceRepository,
    private readonly logger: Logger,
    metrics: Registry,
  ) {
    this.moCounter = new Counter({
      name: 'router_mo_commands_total',
      help: 'MO messages seen by the router, by outcome (opt_out, opt_in, not_a_command, unknown_sender, bad_number)',
      labelNames: ['outcome'],
      registers: [metrics],
    });
  }

  /** In partition order (keyed by the recipient's number), so STOP then START from one phone stays in order. */
  async handleMo(batch: ConsumedEvent<MoReceivedPayload>[]): Promise<void> {
    for (const event of batch) {
      const mo = event.envelope.payload;
      const command = moCommand(mo.text);
      if (!command) {
        this.moCounter.inc({ outcome: 'not_a_command' });
        continue;
      }
      const msisdn = normalizeMsisdn(mo.from);
      if (!msisdn) {
        this.moCounter.inc({ outcome: 'bad_number' });
        continue;
      }
      const tenants = await this.repository.tenantsOfSender(normalizeSender(mo.to));
      if (tenants.length === 0) {
        this.moCounter.inc({ outcome: 'unknown_sender' });
        this.logger.warn({ carrier: mo.carrierId, keyword: command.keyword }, 'MO keyword to a sender no tenant registered: ignored');
        continue;
      }
      for (const tenantId of tenants) {
        if (command.action === 'opt_out') await this.repository.addOptOut(tenantId, msisdn, 'mo', command.keyword);
        else await this.repository.removeOptOut(tenantId, msisdn);
      }
      event.span.setAttributes({ 'sms.mo.command': command.action, 'sms.tenants': tenants.join(',') });
      this.moCounter.inc({ outcome: command.action });
    }
  }
}

export const complianceContracts = [MoReceivedV1];
