import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { carrierSchema } from './carrier-schema.js';
import { routesSchema } from './route-schema.js';

export * from './carrier-schema.js';
export * from './route-schema.js';

/**
 * The carriers-and-routes file (YAML or JSON). The same file is mounted from a Helm ConfigMap in
 * Kubernetes; router reads the routes, carrier-dispatch the carriers. Validated at start with errors that
 * name the key and line.
 */
export const gatewayFileSchema = z
  .strictObject({
    carriers: z.array(carrierSchema).min(1),
    routes: routesSchema,
  })
  .superRefine((file, ctx) => {
    const ids = new Set<string>();
    file.carriers.forEach((c, i) => {
      if (ids.has(c.id)) ctx.addIssue({ code: 'custom', path: ['carriers', i, 'id'], message: `duplicate carrier id ${c.id}` });
      ids.add(c.id);
    });
    const routeIds = new Set<string>();
    file.routes.forEach((r, i) => {
      if (routeIds.has(r.id)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'id'], message: `duplicate route id ${r.id}` });
      routeIds.add(r.id);
      r.carriers.forEach((c, j) => {
        if (!ids.has(c)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'carriers', j], message: `unknown carrier ${c}` });
      });
    });
  });

export type GatewayFile = z.infer<typeof gatewayFileSchema>;

export class GatewayFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid gateway config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'GatewayFileError';
  }
}

/** Parses and validates the file text; problems name the key path and, where known, the line. */
export function parseGatewayFile(text: string, file = '<gateway config>'): GatewayFile {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new GatewayFileError(file, doc.errors.map((e) => e.message));
  const result = gatewayFileSchema.safeParse(doc.toJS());
  if (!result.success) {
    const lineOf = (path: PropertyKey[]): string => {
      const node = doc.getIn(path as (string | number)[], true) as { range?: [number, number, number] } | undefined;
      if (!node?.range) return '';
      const line = text.slice(0, node.range[0]).split('\n').length;
      return ` (line ${line})`;
    };
    throw new GatewayFileError(
      file,
      result.error.issues.map((i) => `${i.path.join('.') || '<root>'}${lineOf(i.path)}: ${i.message}`),
    );
  }
  return result.data;
}

export function loadGatewayFile(path: string): GatewayFile {
  return parseGatewayFile(readFileSync(path, 'utf8'), path);
}
