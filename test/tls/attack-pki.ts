// Test helper: certificates for the TLS attacks of issue 10, made with the openssl CLI: a broker CA and leaf, an
// intermediate-issued leaf, and an attacker's self-signed leaf naming the broker's host (the forged chain is that
// leaf followed by the genuine broker certificate, which every client receives). RSA and EC variants.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { X509Certificate } from "node:crypto";
import { findOpenssl } from "./certs";

export interface PemDer {
  readonly pem: string;
  readonly der: Uint8Array;
  readonly keyPem: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface AttackPki {
  readonly dir: string;
  readonly ca: PemDer;
  /** Leaf for IP:127.0.0.1 and DNS:localhost, signed by `ca`. */
  readonly broker: PemDer;
  /** A CA (cA=true) signed by `ca`, and a leaf for 127.0.0.1/localhost signed by it. */
  readonly intermediate: PemDer;
  readonly viaIntermediate: PemDer;
  /** Self-signed leaf naming 127.0.0.1/localhost, with the attacker's own key. */
  readonly attacker: PemDer;
  /** Leaf signed by `ca` for broker.example only. */
  readonly otherHost: PemDer;
  /** A CA nobody trusts and a leaf for 127.0.0.1 it signed. */
  readonly rogueCa: PemDer;
  readonly rogueLeaf: PemDer;
  /** A self-signed leaf for 127.0.0.1/localhost (a broker with no CA, for pinning). */
  readonly selfSigned: PemDer;
  /** SHA-256 (hex) of a certificate's SubjectPublicKeyInfo, as `openssl pkey -pubin -outform der | openssl dgst -sha256`. */
  spkiSha256(cert: PemDer): string;
  dispose(): void;
}

const LEAF_EXT = ["subjectAltName=IP:127.0.0.1,DNS:localhost", "basicConstraints=CA:FALSE", "keyUsage=digitalSignature,keyEncipherment", "extendedKeyUsage=serverAuth", ""];

export function makeAttackPki(kind: "rsa" | "ec" = "ec"): AttackPki {
  const openssl = findOpenssl();
  if (!openssl) throw new Error("openssl not found: install it (apt-get install openssl) or set OPENSSL to its path");
  const keyArgs = kind === "ec" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"] : ["-newkey", "rsa:2048", "-nodes"];
  const dir = mkdtempSync(path.join(os.tmpdir(), "xs-mqtt-attack-"));
  const file = (name: string) => path.join(dir, name);
  const run = (args: string[]) => {
    try {
      return execFileSync(openssl, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
      throw new Error(`openssl ${args.join(" ")} failed: ${stderr || (error as Error).message}`);
    }
  };
  const load = (name: string): PemDer => {
    const pem = readFileSync(file(`${name}.crt`), "utf8");
    return { pem, der: new Uint8Array(new X509Certificate(pem).raw), keyPem: readFileSync(file(`${name}.key`), "utf8"), certFile: file(`${name}.crt`), keyFile: file(`${name}.key`) };
  };
  const selfSigned = (name: string, subject: string, ext: string[]) => {
    writeFileSync(file(`${name}.ext`), ext.join("\n"));
    run(["req", "-x509", ...keyArgs, "-keyout", file(`${name}.key`), "-out", file(`${name}.crt`), "-days", "2", "-subj", subject,
      "-extensions", "v3", "-config", writeConfig(name, ext)]);
  };
  const writeConfig = (name: string, ext: string[]) => {
    const config = file(`${name}.cnf`);
    writeFileSync(config, ["[req]", "distinguished_name=dn", "[dn]", "[v3]", ...ext.filter((l) => l !== "")].join("\n") + "\n");
    return config;
  };
  const signed = (name: string, subject: string, issuer: string, ext: string[]) => {
    run(["req", ...keyArgs, "-keyout", file(`${name}.key`), "-out", file(`${name}.csr`), "-subj", subject]);
    writeFileSync(file(`${name}.ext`), ext.join("\n"));
    run(["x509", "-req", "-in", file(`${name}.csr`), "-CA", file(`${issuer}.crt`), "-CAkey", file(`${issuer}.key`), "-CAcreateserial",
      "-out", file(`${name}.crt`), "-days", "2", "-extfile", file(`${name}.ext`)]);
  };
  const caExt = ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign", "subjectKeyIdentifier=hash", ""];
  selfSigned("ca", "/CN=xs-mqtt broker CA", caExt);
  signed("broker", "/CN=broker", "ca", LEAF_EXT);
  signed("intermediate", "/CN=xs-mqtt intermediate CA", "ca", ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign", "authorityKeyIdentifier=keyid", ""]);
  signed("via-intermediate", "/CN=broker via intermediate", "intermediate", LEAF_EXT);
  selfSigned("attacker", "/CN=broker", ["subjectAltName=IP:127.0.0.1,DNS:localhost", "basicConstraints=CA:FALSE", ""]);
  signed("other-host", "/CN=broker.example", "ca", ["subjectAltName=DNS:broker.example", "basicConstraints=CA:FALSE", ""]);
  selfSigned("rogue-ca", "/CN=xs-mqtt broker CA", caExt);
  signed("rogue-leaf", "/CN=broker", "rogue-ca", LEAF_EXT);
  selfSigned("self-signed", "/CN=broker", ["subjectAltName=IP:127.0.0.1,DNS:localhost", "basicConstraints=CA:FALSE", ""]);
  const spkiSha256 = (cert: PemDer) => {
    const pub = run(["x509", "-in", cert.certFile, "-pubkey", "-noout"]);
    writeFileSync(file("pub.pem"), pub);
    const der = run(["pkey", "-pubin", "-in", file("pub.pem"), "-outform", "der"]);
    writeFileSync(file("pub.der"), der);
    return run(["dgst", "-sha256", "-r", file("pub.der")]).toString().split(" ")[0];
  };
  return {
    dir,
    ca: load("ca"),
    broker: load("broker"),
    intermediate: load("intermediate"),
    viaIntermediate: load("via-intermediate"),
    attacker: load("attacker"),
    otherHost: load("other-host"),
    rogueCa: load("rogue-ca"),
    rogueLeaf: load("rogue-leaf"),
    selfSigned: load("self-signed"),
    spkiSha256,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
