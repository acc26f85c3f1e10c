import { expect } from 'vitest';

/** The error a call fails with, checked to be a `type` (a call that succeeds fails the check). */
export async function failureOf<T extends abstract new (...args: never[]) => unknown>(promise: Promise<unknown>, type: T): Promise<InstanceType<T>> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as InstanceType<T>;
}
