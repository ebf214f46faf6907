export { type Duration, toMillis, toPositiveMillis } from './duration.js';
export { type Clock, SystemClock, ManualClock } from './clock.js';
