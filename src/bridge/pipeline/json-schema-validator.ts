// JSON Schema validation of emulated structured output, with Ajv (the most used and best kept
// validator for JavaScript; it compiles each schema to a function) and ajv-formats (its companion
// for `format`: date-time, email, uuid, uri… the formats the providers' own structured outputs
// guarantee). Both load on the first request that asks for structured output, not at start.
//
// Dialect: the schema's `$schema` picks draft-07 or 2020-12; without one, 2020-12 (what OpenAI
// and Anthropic describe their schemas in), falling back to draft-07 for a schema that only
// compiles there (array-form `items`). Unknown keywords and formats are ignored, not errors:
// clients send vendor keywords, and a format we cannot check is an annotation, as in the spec.
// Compiled validators are kept in a small LRU keyed by the schema's digest; Ajv's own cache is
// emptied after each compile, so one-off schemas do not pile up in it.
import { createHash } from 'node:crypto';
import type Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';

/** The schema itself is not valid JSON Schema: the client's request is at fault. */
export class SchemaCompileError extends Error {
  override readonly name = 'SchemaCompileError';
}

export interface SchemaValidator {
  /** The problems with `value`, one line each (empty when it matches). */
  validate(value: unknown): string[];
}

const CACHE_LIMIT = 64;
const MAX_ERRORS = 12;
const MAX_ERROR_LENGTH = 300;

interface Engines {
  draft2020: Ajv;
  draft07: Ajv;
}

let loading: Promise<Engines> | undefined;
const cache = new Map<string, SchemaValidator>();

function loadEngines(): Promise<Engines> {
  loading ??= Promise.all([import('ajv/dist/2020'), import('ajv'), import('ajv-formats')]).then(([draft2020Module, draft07Module, formatsModule]) => {
    const options = { strict: false, allErrors: true, logger: false as const };
    const draft2020 = new draft2020Module.default(options);
    const draft07 = new draft07Module.default(options);
    formatsModule.default(draft2020);
    formatsModule.default(draft07);
    return { draft2020, draft07 };
  });
  return loading;
}

/** One line per error: where (a JSON pointer, or "(root)") and what. */
function describeErrors(errors: readonly ErrorObject[]): string[] {
  const lines = errors.slice(0, MAX_ERRORS).map((error) => {
    let line = `${error.instancePath || '(root)'}: ${error.message ?? 'is invalid'}`;
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'additionalProperties') line += ` (${JSON.stringify(params.additionalProperty)})`;
    else if (error.keyword === 'enum') line += ` (${JSON.stringify(params.allowedValues)})`;
    else if (error.keyword === 'const') line += ` (${JSON.stringify(params.allowedValue)})`;
    return line.length > MAX_ERROR_LENGTH ? `${line.slice(0, MAX_ERROR_LENGTH)}…` : line;
  });
  if (errors.length > MAX_ERRORS) lines.push(`… and ${errors.length - MAX_ERRORS} more`);
  return lines;
}

function compileWith(ajv: Ajv, schema: Record<string, unknown>): ValidateFunction {
  try {
    return ajv.compile(schema);
  } finally {
    // The validator is self-contained once compiled; keeping the schema in Ajv would grow forever
    // and make a second schema with the same $id fail to compile.
    ajv.removeSchema(schema);
  }
}

function compile(engines: Engines, schema: Record<string, unknown>): ValidateFunction {
  // The dialect is chosen here; Ajv would also insist on holding the named meta-schema.
  const { $schema: dialect, ...rest } = schema;
  const named = typeof dialect === 'string' ? dialect : '';
  // Draft-04/06 differ from 07 in little a model's answer would show; Ajv 8 has only 07's meta-schema.
  if (/draft-0[4-7]/.test(named)) return compileWith(engines.draft07, rest);
  try {
    return compileWith(engines.draft2020, rest);
  } catch (error) {
    if (/2020-12/.test(named)) throw error;
    return compileWith(engines.draft07, rest);
  }
}

/**
 * The validator for `schema` (compiled once, then from the cache). Throws SchemaCompileError when
 * the schema is not valid JSON Schema.
 */
export async function schemaValidator(schema: Record<string, unknown>): Promise<SchemaValidator> {
  const key = createHash('sha256').update(JSON.stringify(schema)).digest('base64url');
  const cached = cache.get(key);
  if (cached) {
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  const engines = await loadEngines();
  let validate: ValidateFunction;
  try {
    validate = compile(engines, schema);
  } catch (error) {
    throw new SchemaCompileError(`the schema is not valid JSON Schema: ${error instanceof Error ? error.message : String(error)}`);
  }
  const validator: SchemaValidator = {
    validate: (value) => (validate(value) ? [] : describeErrors(validate.errors ?? [])),
  };
  cache.set(key, validator);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return validator;
}

/** Whether Ajv has been loaded (for tests of the lazy loading). */
export function validatorLoaded(): boolean {
  return loading !== undefined;
}
