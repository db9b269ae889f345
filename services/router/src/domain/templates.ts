/**
 * Approved message templates. `{{name}}` is a placeholder for 1 to 200 characters of anything except a
 * line break; everything else must match literally (after trimming the body and the template).
 */
export function templatePattern(template: string): RegExp {
  const parts = template.trim().split(/\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\}/);
  const escaped = parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('[^\\n]{1,200}?')}$`, 's');
}

export function matchesTemplate(body: string, templates: readonly RegExp[]): boolean {
  const text = body.trim();
  return templates.some((t) => t.test(text));
}

export function validTemplate(template: string): string | undefined {
  if (template.trim().length === 0) return 'a template is not empty';
  if (/\{\{(?!\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\})/.test(template)) return 'placeholders look like {{name}}';
  return undefined;
}
