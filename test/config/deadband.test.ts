// The deadband text parser (config key, board files and cmd/deadband share it) and the report-on-change rule, at
// their edges: the longest text, 100%, each character class of the hand-written decimal reader, zero-wide bands.
import { describe, expect, it } from "vitest";
import { NO_DEADBAND, formatDeadband, parseDeadband, passesDeadband } from "../../src/config/deadband";

const notANumber = (text: string) => `expected a non-negative number ("0.2", absolute in the channel's unit) or a percentage ("1%"), got "${text}"`;

describe("parseDeadband", () => {
  it("reads absolute and percent bands, with blanks around the number and the sign", () => {
    expect(parseDeadband("0.2")).toEqual({ kind: "abs", value: 0.2 });
    expect(parseDeadband("1.5%")).toEqual({ kind: "pct", value: 1.5 });
    expect(parseDeadband(" 2 % ")).toEqual({ kind: "pct", value: 2 });
    expect(parseDeadband("\t3\n")).toEqual({ kind: "abs", value: 3 });
    expect(parseDeadband("0")).toEqual({ kind: "abs", value: 0 });
    expect(parseDeadband("9")).toEqual({ kind: "abs", value: 9 });
    expect(parseDeadband("5.")).toEqual({ kind: "abs", value: 5 });
    expect(parseDeadband(".5")).toEqual({ kind: "abs", value: 0.5 });
    expect(parseDeadband("0%")).toEqual({ kind: "pct", value: 0 });
    // An absolute band has no upper bound: the unit is the channel's.
    expect(parseDeadband("250")).toEqual({ kind: "abs", value: 250 });
  });

  it("takes 100% and refuses anything above it", () => {
    expect(parseDeadband("100%")).toEqual({ kind: "pct", value: 100 });
    expect(parseDeadband("100.5%")).toBe('a percentage deadband must be at most 100%, got "100.5%"');
    expect(parseDeadband(" 101 %")).toBe('a percentage deadband must be at most 100%, got " 101 %"');
  });

  it("takes 24 characters and refuses 25 before looking at them", () => {
    expect(parseDeadband(`${"0".repeat(23)}7`)).toEqual({ kind: "abs", value: 7 });
    expect(parseDeadband(`${" ".repeat(22)}1%`)).toEqual({ kind: "pct", value: 1 });
    expect(parseDeadband("0".repeat(25))).toBe('expected a deadband such as "0.2" or "1%" (at most 24 characters), got 25 characters');
    expect(parseDeadband("x".repeat(40))).toBe('expected a deadband such as "0.2" or "1%" (at most 24 characters), got 40 characters');
  });

  it("refuses signs, exponents, a second dot, a lone dot and other characters, quoting the text as given", () => {
    for (const text of ["", " ", "%", ".", ".%", "-1", "+1", "1e3", "1..2", "1.2.3", "..5", "/", ":", "1/2", "1:2", "0x1", "a", "1 2", "1%%", "%1", "1 %%"]) {
      expect(parseDeadband(text)).toBe(notANumber(text));
    }
  });
});

describe("formatDeadband", () => {
  it("writes what parseDeadband reads", () => {
    expect(formatDeadband({ kind: "pct", value: 1.5 })).toBe("1.5%");
    expect(formatDeadband({ kind: "abs", value: 0.2 })).toBe("0.2");
    expect(formatDeadband(NO_DEADBAND)).toBe("0");
    expect(NO_DEADBAND).toEqual({ kind: "abs", value: 0 });
  });
});

describe("passesDeadband", () => {
  it("passes the first reading and, with no band, every reading including an unchanged one", () => {
    expect(passesDeadband({ kind: "abs", value: 5 }, undefined, 1)).toBe(true);
    expect(passesDeadband(NO_DEADBAND, 5, 5)).toBe(true);
    expect(passesDeadband({ kind: "pct", value: 0 }, 5, 5)).toBe(true);
  });

  it("absolute: a change of at least the band, up or down", () => {
    const band = { kind: "abs", value: 0.5 } as const;
    expect(passesDeadband(band, 10, 10.5)).toBe(true);
    expect(passesDeadband(band, 10, 9.5)).toBe(true);
    expect(passesDeadband(band, 10, 10.25)).toBe(false);
    expect(passesDeadband(band, 10, 9.75)).toBe(false);
    expect(passesDeadband(band, -10, -10.5)).toBe(true);
    expect(passesDeadband(band, -10, -10.25)).toBe(false);
  });

  it("percent: a change of at least the band's share of the last value's size", () => {
    const band = { kind: "pct", value: 10 } as const;
    expect(passesDeadband(band, 20, 22)).toBe(true);
    expect(passesDeadband(band, 20, 18)).toBe(true);
    expect(passesDeadband(band, 20, 21.5)).toBe(false);
    expect(passesDeadband(band, -20, -18)).toBe(true);
    expect(passesDeadband(band, -20, -18.5)).toBe(false);
    expect(passesDeadband(band, -20, -21.5)).toBe(false);
    // Around zero the band is zero wide: any change passes, no change does not.
    expect(passesDeadband(band, 0, 0)).toBe(false);
    expect(passesDeadband(band, 0, 0.001)).toBe(true);
    expect(passesDeadband(band, 0, -0.001)).toBe(true);
  });
});
