import { RouterInit1764000000000 } from './1764000000000-router-init.js';
import { RouterAttempts1764300000000 } from './1764300000000-router-attempts.js';
import { RouterCompliance1764300000001 } from './1764300000001-router-compliance.js';
import { RouterHeld1764300000002 } from './1764300000002-router-held.js';
import { RouterTemplates1764300000003 } from './1764300000003-router-templates.js';

export const routerMigrations = [RouterInit1764000000000, RouterAttempts1764300000000, RouterCompliance1764300000001, RouterHeld1764300000002, RouterTemplates1764300000003];
