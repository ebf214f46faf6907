import protobuf from 'protobufjs';
import { SluiceError } from '../errors/index.js';
import { confluentFormat, type ConfluentOptions } from './confluent.js';

/** Options of {@link confluentProtobufFormat}: the registry, and to encode, the subject, the `.proto` text and the message type. */
export interface ConfluentProtobufOptions extends ConfluentOptions<string> {
  /** The fully qualified message type the writer writes (`shop.Order`); needed to encode. */
  type?: string;
}

/** The message types of a `.proto` file in declaration order (its package's, or the root's without one), nested ones under theirs. */
function messagesOf(ns: protobuf.NamespaceBase): protobuf.Type[] {
  return ns.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
}

/** The index path of a message type in its file: its place among its namespace's (or enclosing message's) message types, outermost first. */
function pathOf(t: protobuf.Type): number[] {
  const path: number[] = [];
  for (let cur: protobuf.ReflectionObject = t; cur instanceof protobuf.Type; cur = cur.parent!) path.unshift(messagesOf(cur.parent as protobuf.NamespaceBase).indexOf(cur));
  return path;
}

function parse(text: string): { root: protobuf.Root; top: protobuf.Type[] } {
  const parsed = protobuf.parse(text, { keepCase: true });
  const pkg = parsed.package ? parsed.root.lookup(parsed.package) : parsed.root;
  return { root: parsed.root, top: messagesOf(pkg as protobuf.NamespaceBase) };
}

/** Confluent's message indexes: the path of a message type in its file (zigzag varints, the count first; `[0]` as one byte 0). */
function writeIndexes(path: number[]): Uint8Array {
  if (path.length === 1 && path[0] === 0) return new Uint8Array([0]);
  const w = protobuf.Writer.create();
  w.sint32(path.length);
  for (const i of path) w.sint32(i);
  return w.finish();
}

function readIndexes(payload: Uint8Array): { path: number[]; rest: Uint8Array } {
  const r = protobuf.Reader.create(payload);
  const count = r.sint32();
  const path = count === 0 ? [0] : Array.from({ length: count }, () => r.sint32());
  return { path, rest: payload.subarray(r.pos) };
}

/**
 * Protocol Buffers in the Confluent wire format (magic byte 0 + schema id + message
 * indexes + protobuf binary), with a schema registry: see `confluentFormat`. The reader
 * finds the message type by the indexes each message carries in the schema its id names.
 * Decoded values are plain objects, as `protobufFormat` gives them.
 *
 * @example
 * const f = confluentProtobufFormat<Order>({ registry, subject: 'orders-value', schema: orderProto, type: 'shop.Order' });
 */
export function confluentProtobufFormat<T extends object>(opts: ConfluentProtobufOptions): ReturnType<typeof confluentFormat<T, string>> {
  if (opts.schema !== undefined && opts.type === undefined) throw new SluiceError('INVALID_ARGUMENT', 'confluentProtobufFormat: a writer `schema` needs its message `type`');
  return confluentFormat<T, string>(opts, {
    name: 'confluent-protobuf',
    schemaType: 'PROTOBUF',
    text: (schema) => schema,
    compile(text) {
      const { root, top } = parse(text);
      const byPath = (path: number[]): protobuf.Type => {
        let list = top;
        let t: protobuf.Type | undefined;
        for (const i of path) {
          t = list[i];
          if (!t) throw new Error(`no message type at index path [${path.join(', ')}]`);
          list = messagesOf(t);
        }
        return t!;
      };
      return {
        encode(value) {
          const message = root.lookupType(opts.type!);
          const problem = message.verify(value as Record<string, unknown>);
          if (problem) throw new Error(`protobuf ${opts.type}: ${problem}`);
          const body = message.encode(message.fromObject(value as Record<string, unknown>)).finish();
          const indexes = writeIndexes(pathOf(message));
          const out = new Uint8Array(indexes.byteLength + body.byteLength);
          out.set(indexes);
          out.set(body, indexes.byteLength);
          return out;
        },
        decode(payload) {
          const { path, rest } = readIndexes(payload);
          const message = byPath(path);
          return message.toObject(message.decode(rest), { longs: Number, enums: String, defaults: true }) as T;
        },
      };
    },
  });
}
