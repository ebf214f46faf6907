export { type Duration, toMillis, toPositiveMillis } from './duration.js';
export { type Clock, SystemClock, ManualClock } from './clock.js';
export { type WatermarkGenerator, type WatermarkOutput, BoundedOutOfOrdernessGenerator } from './watermark-generator.js';
export { WatermarkStrategy, type TimestampAssigner } from './watermark-strategy.js';
