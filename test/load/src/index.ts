// @sms/load: the end-to-end load harness (`npm run bench`), usable from tests as a library.
export { runLoad } from './run.js';
export type { RunOptions } from './run.js';
export { resolveProfile, plannedMessages, parseWeights, scenariosDir } from './profile.js';
export type { LoadProfile, Phase, ProfileFlags, EntryPoint, TrafficClass } from './profile.js';
export { renderTerminal, renderMarkdown, renderComparison } from './report.js';
export type { LoadReport } from './report.js';
export { topSelfTime } from './cpuprofile.js';
