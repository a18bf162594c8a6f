// Test helper: a throwaway PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1/localhost, and an unrelated CA.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TestPki {
  readonly dir: string;
  /** PEM of the CA that signed the server certificate, and its file. */
  readonly ca: string;
  readonly caFile: string;
  /** PEM of a CA that signed nothing the broker presents. */
  readonly otherCa: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** Names in the server certificate's subjectAltName. */
  readonly names: readonly string[];
  dispose(): void;
}

/** The openssl binary (OPENSSL env overrides), or undefined when it does not run. */
export function findOpenssl(): string | undefined {
  const binary = process.env.OPENSSL ?? "openssl";
  const probe = spawnSync(binary, ["version"], { encoding: "utf8" });
  return probe.status === 0 ? binary : undefined;
}

/** EC P-256 keys: fast to generate, accepted by mosquitto's OpenSSL and by Node. */
const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/**
 * Generates the PKI in a fresh temp dir. mosquitto 2.0 started as root switches to user "mosquitto" before it
 * loads certificates, so the dir and the (throwaway) key are made world-readable: the broker can read them
 * whether or not its config says `user root`.
 */
export function makeTestPki(): TestPki {
  const openssl = findOpenssl();
  if (!openssl) throw new Error("openssl not found: install it (apt-get install openssl) or set OPENSSL to its path");
  const dir = mkdtempSync(path.join(os.tmpdir(), "xs-mqtt-tls-"));
  const file = (name: string) => path.join(dir, name);
  const run = (args: string[]) => {
    try {
      execFileSync(openssl, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
      throw new Error(`openssl ${args.join(" ")} failed: ${stderr || (error as Error).message}`);
    }
  };
  const names = ["127.0.0.1", "localhost"];
  run(["req", "-x509", ...EC_KEY, "-keyout", file("ca.key"), "-out", file("ca.crt"), "-days", "2", "-subj", "/CN=xs-mqtt test CA"]);
  run(["req", "-x509", ...EC_KEY, "-keyout", file("other-ca.key"), "-out", file("other-ca.crt"), "-days", "2", "-subj", "/CN=xs-mqtt untrusted CA"]);
  run(["req", ...EC_KEY, "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=localhost"]);
  writeFileSync(
    file("server.ext"),
    ["subjectAltName=IP:127.0.0.1,DNS:localhost", "basicConstraints=CA:FALSE", "keyUsage=digitalSignature", "extendedKeyUsage=serverAuth", ""].join("\n"),
  );
  run(["x509", "-req", "-in", file("server.csr"), "-CA", file("ca.crt"), "-CAkey", file("ca.key"), "-CAcreateserial",
    "-out", file("server.crt"), "-days", "2", "-extfile", file("server.ext")]);
  chmodSync(dir, 0o755);
  chmodSync(file("server.key"), 0o644);
  return {
    dir,
    ca: readFileSync(file("ca.crt"), "utf8"),
    caFile: file("ca.crt"),
    otherCa: readFileSync(file("other-ca.crt"), "utf8"),
    serverCertFile: file("server.crt"),
    serverKeyFile: file("server.key"),
    names,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
