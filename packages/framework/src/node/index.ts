export { createNodeController, nodeControllerOptionsSchema, SIGHUP_SIGNALS_METRIC } from './controller.js';
export type { NodeControllerDeps, NodeControllerOptions } from './controller.js';
export { probeUnixSocket } from './socket-probe.js';
export type { SocketProbe } from './socket-probe.js';
export {
  FORGING_ENABLED_METRIC,
  SLOT_NUMBER_METRIC,
  parseMetricSamples,
  scrapeNodeMetrics,
} from './node-metrics.js';
export type { NodeMetricsScrape } from './node-metrics.js';
export { KNOWN_SLOT_REFERENCES, slotReferenceFor, wallClockSlot, type SlotReference } from './slot-clock.js';
export { createNodeOs, type NodeOs } from './os.js';
