/**
 * MQTT: {@link mqttSource} subscribes to topics on a broker (IoT devices, sensors). Not
 * replayable, so jobs reading it run with `delivery: 'none'` (at-most-once end to end).
 *
 * @module
 */
export { mqttSource, type MqttSource, type MqttSourceOptions } from './source.js';
export { type TlsOptions } from '../../net/tls.js';
