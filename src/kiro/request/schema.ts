// Tool input schemas, cleaned into the object schemas Kiro takes.
//
// Kiro rejects the whole request for schemas with null or ill-typed fields
// (docs/kiro-protocol.md#conversation-rules), and the original kiro2api drops `$schema`, `$id`,
// `$ref`, `definitions`, `$defs` from OpenAI tools. Dropping a `$ref` outright would lose what it points at, so local
// references (`#/$defs/X`, `#/definitions/X`, any `#/…` pointer) are inlined first; only
// recursive or unresolvable ones are dropped. What carries meaning for the model — types,
// properties, required, descriptions, enums, anyOf/oneOf/allOf, items, bounds — is kept. The
// real Kiro IDE sends `anyOf`, `not` and `additionalProperties:false`, so those are known to pass.
//
// The top level is always `{type:"object", properties:{…}, required:[…]}`: tool input is a JSON
// object (the IDE captures always carry all three).

export interface NormalizedSchema {
  schema: Record<string, unknown>;
  /** What was changed, in words, without duplicates (empty when the schema was already clean). */
  changes: string[];
  /** Every change only removed tooling metadata or inlined a reference: the model is told the same. */
  routine: boolean;
}

type Json = Record<string, unknown>;

const MAX_DEPTH = 64;

/** Keywords that only serve schema tooling or are resolved here. */
const DROPPED_KEYWORDS = new Set(['$schema', '$id', '$defs', 'definitions', '$comment', '$anchor', '$dynamicAnchor', '$dynamicRef', '$vocabulary']);
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'dependentSchemas']);
const SCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);
const SINGLE_SCHEMAS = new Set(['not', 'if', 'then', 'else', 'contains', 'propertyNames', 'additionalItems', 'unevaluatedItems', 'unevaluatedProperties']);
const STRING_KEYWORDS = new Set(['description', 'title', 'format', 'pattern', 'contentMediaType', 'contentEncoding']);
const NUMBER_KEYWORDS = new Set([
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minContains',
  'maxContains',
]);

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class Normalizer {
  readonly changes = new Set<string>();
  /** Set by any change that alters what the schema says (dropped fields, refs that could not be inlined). */
  substantive = false;

  /** Records a change that alters what the schema says. */
  change(text: string): void {
    this.changes.add(text);
    this.substantive = true;
  }

  constructor(private readonly root: Json) {}

  /** A cleaned schema, or undefined when the value is not a schema at all. */
  schema(value: unknown, path: string, depth: number, refs: readonly string[]): Json | undefined {
    if (value === true) return {};
    if (value === false) return { not: {} };
    if (!isObject(value)) return undefined;
    if (depth > MAX_DEPTH) {
      this.change(`replaced a schema nested deeper than ${MAX_DEPTH} levels at ${path} with {}`);
      return {};
    }
    let node = value;
    const ref = node.$ref;
    if (ref !== undefined) {
      const { $ref: _ref, ...siblings } = node;
      node = siblings;
      if (typeof ref === 'string') {
        const target = ref.startsWith('#') && !refs.includes(ref) ? resolvePointer(this.root, ref) : undefined;
        if (isObject(target) || typeof target === 'boolean') {
          this.changes.add(`inlined $ref ${ref}`);
          const inlined = this.schema(target, path, depth + 1, [...refs, ref]) ?? {};
          return { ...inlined, ...this.keywords(siblings, path, depth, refs) };
        }
        this.change(refs.includes(ref) ? `dropped recursive $ref ${ref}` : `dropped unresolvable $ref ${ref}`);
      } else {
        this.change(`dropped a non-string $ref at ${path}`);
      }
    }
    return this.keywords(node, path, depth, refs);
  }

  private keywords(node: Json, path: string, depth: number, refs: readonly string[]): Json {
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      if (DROPPED_KEYWORDS.has(key)) {
        this.changes.add(`dropped ${key}`);
        continue;
      }
      if (value === null || value === undefined) {
        this.change(`dropped null ${key}`);
        continue;
      }
      const at = `${path}.${key}`;
      const kept = this.keyword(key, value, at, depth, refs);
      if (kept === undefined) this.change(`dropped ill-typed ${key} at ${path}`);
      else out[key] = kept;
    }
    return out;
  }

  private keyword(key: string, value: unknown, at: string, depth: number, refs: readonly string[]): unknown {
    if (key === 'type') {
      if (typeof value === 'string' && value !== '') return value;
      if (Array.isArray(value)) {
        const types = value.filter((t): t is string => typeof t === 'string' && t !== '');
        return types.length > 0 ? types : undefined;
      }
      return undefined;
    }
    if (SCHEMA_MAPS.has(key)) {
      if (!isObject(value)) return undefined;
      const map: Json = {};
      for (const [name, sub] of Object.entries(value)) {
        const cleaned = this.schema(sub, `${at}.${name}`, depth + 1, refs);
        if (cleaned === undefined) this.change(`replaced the ill-typed schema of ${at}.${name} with {}`);
        map[name] = cleaned ?? {};
      }
      return map;
    }
    if (SCHEMA_LISTS.has(key)) {
      if (!Array.isArray(value)) return undefined;
      const list = value.map((sub, i) => this.schema(sub, `${at}[${i}]`, depth + 1, refs)).filter((s): s is Json => s !== undefined);
      if (list.length !== value.length) this.change(`dropped ill-typed entries of ${at}`);
      return list.length > 0 ? list : undefined;
    }
    if (key === 'items') {
      if (Array.isArray(value)) {
        return value.map((sub, i) => this.schema(sub, `${at}[${i}]`, depth + 1, refs) ?? {});
      }
      return this.schema(value, at, depth + 1, refs);
    }
    if (key === 'additionalProperties') {
      return typeof value === 'boolean' ? value : this.schema(value, at, depth + 1, refs);
    }
    if (SINGLE_SCHEMAS.has(key)) return this.schema(value, at, depth + 1, refs);
    if (key === 'required') {
      if (!Array.isArray(value)) return undefined;
      const names = [...new Set(value.filter((n): n is string => typeof n === 'string'))];
      if (names.length !== value.length) this.change(`dropped non-string or repeated entries of ${at}`);
      return names;
    }
    if (key === 'enum') return Array.isArray(value) ? structuredClone(value) : undefined;
    if (STRING_KEYWORDS.has(key)) return typeof value === 'string' ? value : undefined;
    if (NUMBER_KEYWORDS.has(key)) return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    // Anything else (default, examples, const, vendor keywords) is data: keep a copy.
    return structuredClone(value);
  }
}

/** Resolves a local JSON pointer (`#/a/b~1c`) against the root schema. */
function resolvePointer(root: Json, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
    if (node === undefined) return undefined;
  }
  return node;
}

/** Cleans a tool's input schema into an object schema Kiro accepts. Never mutates the input. */
export function normalizeToolSchema(input: unknown): NormalizedSchema {
  if (!isObject(input)) {
    return {
      schema: { type: 'object', properties: {}, required: [] },
      changes: [`replaced a ${input === null ? 'null' : Array.isArray(input) ? 'list' : typeof input} schema with an empty object schema`],
      routine: false,
    };
  }
  const normalizer = new Normalizer(input);
  // Mark the root as being expanded so `#` self-references count as recursive.
  const cleaned = normalizer.schema(input, '$', 0, ['#']) ?? {};
  if (cleaned.type === undefined) normalizer.changes.add('added type "object"');
  else if (cleaned.type !== 'object') normalizer.change(`changed top-level type ${JSON.stringify(cleaned.type)} to "object"`);
  cleaned.type = 'object';
  if (!isObject(cleaned.properties)) {
    if (cleaned.properties !== undefined) normalizer.change('replaced ill-typed properties with {}');
    cleaned.properties = {};
  }
  const properties = cleaned.properties as Json;
  const required = Array.isArray(cleaned.required) ? (cleaned.required as string[]) : [];
  // A required name with no property schema is asked for without saying what it is; the upstream
  // validates schemas strictly enough that we do not risk it.
  const declared = required.filter((name) => Object.hasOwn(properties, name));
  if (declared.length !== required.length) {
    normalizer.change(`dropped required names with no property: ${required.filter((n) => !declared.includes(n)).join(', ')}`);
  }
  cleaned.required = declared;
  return { schema: orderTopLevel(cleaned), changes: [...normalizer.changes], routine: !normalizer.substantive };
}

/** type, properties, required first (as the IDE sends them), then everything else. */
function orderTopLevel(schema: Json): Json {
  const { type, properties, required, ...rest } = schema;
  return { type, properties, required, ...rest };
}
