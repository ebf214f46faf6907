/**
 * The built-in triggers. A custom trigger is any object implementing {@link Trigger}.
 *
 * @module
 */
export { eventTimeTrigger } from './event-time.js';
export { processingTimeTrigger } from './processing-time.js';
export { countTrigger, COUNT_TRIGGER_STATE } from './count.js';
export {
  continuousEventTimeTrigger,
  continuousProcessingTimeTrigger,
  CONTINUOUS_EVENT_TIME_STATE,
  CONTINUOUS_PROCESSING_TIME_STATE,
} from './continuous.js';
export { purging } from './purging.js';
export { neverTrigger } from './never.js';
