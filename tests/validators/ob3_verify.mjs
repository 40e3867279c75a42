// Verify an Open Badges 3.0 / W3C VC (JSON file, or - for stdin) with the Digital Credentials
// Consortium's @digitalcredentials/verifier-core (the verifier behind the Learner Credential
// Wallet), installed by `make validators` from tests/validators/ob3js/package-lock.json.
//
//   node tests/validators/ob3_verify.mjs cred.json [--full]
//   NODE_EXTRA_CA_CERTS=ca.pem node tests/validators/ob3_verify.mjs cred.json   (did:web on https)
//
// The tests call it through tests/support/validators.py (verify_ob3).
//
// Prints one line per verification step ("ok   <id>", "FAIL <id> (...)", "n/a  <id>", or
// "FATAL <name>: <message>" when verification could not run) and a last line "RESULT: verified"
// or "RESULT: NOT verified". Exits 0 only when the signature is valid and every step in the
// log (expiration, revocation_status if present) is valid; 1 otherwise; 2 on a usage error.
//
// Known gaps (verifier-core 1.0.0-beta.11, offline; credential-anchors.md 3.2 and 3.5):
//  * registered_issuer is reported but ignored ("n/a"): no issuer registries are passed.
//  * The 1EdTech JSON schema check is reported but ignored ("info schema_check: ..."):
//    verifier-core fetches the schema from purl.imsglobal.org, impossible offline.
//  * did:web is always resolved over https (the driver refuses http): serve the issuer over
//    TLS and name its CA in NODE_EXTRA_CA_CERTS. A did:web (or https issuer) that cannot be
//    fetched (DNS, connection refused, untrusted certificate) is reported as
//    "FATAL invalid_signature: The signature is not valid." -- misleading, the cause is the
//    fetch; an HTTP 404 on did.json gives "FATAL http_error_with_signature_check".
//  * A term not defined by any context makes "FATAL jsonld.ValidationError: Safe mode
//    validation error." (JSON-LD safe mode), not a signature failure.
//  * A status list that cannot be fetched gives "FAIL revocation_status (status_list_not_found".
//
// Packages are resolved from $OB3_JS_DIR, else $MICROCRED_VALIDATORS_DIR/ob3js, else
// <repository>/.validators/ob3js.
import {createRequire} from 'node:module';
import {fileURLToPath, pathToFileURL} from 'node:url';
import fs from 'node:fs';
import path from 'node:path';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const base = process.env.OB3_JS_DIR ||
  path.join(process.env.MICROCRED_VALIDATORS_DIR || path.join(repo, '.validators'), 'ob3js');
const req = createRequire(path.join(base, 'package.json'));
const {verifyCredential} = await import(
  pathToFileURL(req.resolve('@digitalcredentials/verifier-core')).href);

const file = process.argv[2];
if (!file) {
  console.error('usage: node ob3_verify.mjs credential.json|- [--full]');
  process.exit(2);
}
const credential = JSON.parse(fs.readFileSync(file === '-' ? 0 : file, 'utf8'));
// verifier-core logs schema-fetch failures with console.error/console.log; keep stdout clean.
const origLog = console.log, origErr = console.error;
const noise = [];
console.log = (...a) => noise.push(a.join(' '));
console.error = (...a) => noise.push(a.join(' '));
const result = await verifyCredential({credential, knownDIDRegistries: []});
console.log = origLog; console.error = origErr;

if (process.argv.includes('--full')) {
  const {credential: _c, ...rest} = result;
  console.log(JSON.stringify(rest, (k, v) => (k === 'stackTrace' ? undefined : v), 2));
}
let ok = true;
if (result.errors) {
  ok = false;
  for (const e of result.errors) console.log(`FATAL ${e.name}: ${e.message}`);
}
for (const step of result.log || []) {
  const ignored = step.id === 'registered_issuer';
  console.log(`${step.valid ? 'ok  ' : (ignored ? 'n/a ' : 'FAIL')} ${step.id}` +
    (step.error ? ` (${step.error.name}: ${step.error.message})` : ''));
  if (!step.valid && !ignored) ok = false;
}
for (const info of result.additionalInformation || []) {
  const r = info.results;
  const summary = typeof r === 'string' ? r
    : (r || []).map(x => `${x.schema.split('/').pop()} valid=${x.result?.valid}`).join('; ');
  console.log(`info ${info.id}: ${summary}`);
}
if (!result.log && !result.errors) ok = false;
console.log(ok ? 'RESULT: verified' : 'RESULT: NOT verified');
process.exit(ok ? 0 : 1);
