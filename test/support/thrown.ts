// The error a call throws, failing the test unless it throws one of `errorClass`: tests then compare its message or
// fields exactly, which `toThrow` cannot do together with the class.
import { expect } from "vitest";

export function thrown<E extends Error>(errorClass: abstract new (...args: never[]) => E, run: () => unknown): E {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(errorClass);
  return caught as E;
}
