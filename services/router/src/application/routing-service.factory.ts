import type { DataSource } from 'typeorm';
import type { EventPublisher } from '@sms/kafka';
import type { CarrierHealthView, RouteTable } from '@sms/routing';
import type { RoutingPolicy } from '../config/routing-policy.js';
import type { ComplianceRepository } from '../infra/compliance.repository.js';
import { HeldMessagesRepository } from '../infra/held-messages.repository.js';
import { RoutedMessagesRepository } from '../infra/routed-messages.repository.js';
import { RoutingService } from './routing.service.js';

/** A RoutingService on its repositories: the main thread's (Nest provider) and every routing thread's. */
export function createRoutingService(deps: {
  dataSource: DataSource;
  publisher: EventPublisher;
  routes: () => RouteTable;
  health: CarrierHealthView;
  policy: RoutingPolicy;
  compliance: ComplianceRepository;
}): RoutingService {
  const { dataSource, policy } = deps;
  return new RoutingService(
    deps.routes,
    new RoutedMessagesRepository(dataSource),
    deps.publisher,
    deps.health,
    { repository: deps.compliance, optOutClasses: policy.optOutClasses, senders: policy.senders, templateCountries: policy.templateCountries },
    policy.quiet && { ...policy.quiet, held: new HeldMessagesRepository(dataSource) },
  );
}
