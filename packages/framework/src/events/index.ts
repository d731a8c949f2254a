export { transitionsBetween, type ForgeEvent, type ForgeEventReason } from './transitions.js';
export {
  createEventRecorder,
  DEFAULT_EVENT_RECORDER_OPTIONS,
  type EventRecorder,
  type EventRecorderOptions,
  type EventSink,
} from './recorder.js';
export { createKubeEventSink, type KubeEventSinkOptions } from './kube.js';
