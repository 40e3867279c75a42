// Issue (sign) a hand-made Open Badges 3.0 OpenBadgeCredential with an Ed25519 did:key,
// using the Digital Credentials Consortium libraries (eddsa-rdfc-2022 Data Integrity proof).
// A test fixture for the validator harness (tests/badges/test_validators_harness.py), not the
// tool's signer: the tool signs in Python.
//
//   node tests/validators/ob3_issue.mjs > cred.json
//   node ob3_issue.mjs --issuer did:web:127.0.0.1%3A8799 > didweb.json   (issuer that must be resolved)
//   node ob3_issue.mjs --issuer https://unreachable.invalid/issuer > https.json
//   node ob3_issue.mjs --status-url https://127.0.0.1:8799/status/1 --status-index 7 > withstatus.json
//   node ob3_issue.mjs --status-list https://127.0.0.1:8799/status/1 --revoke 7 > statuslist.json
//   node ob3_issue.mjs --issuer did:web:127.0.0.1%3A8799 --did-doc > did.json   (DID document to serve)
//   node ob3_issue.mjs --seed-hex <64 hex>   (deterministic key; default is a fixed test seed)
//
// Packages are resolved from $OB3_JS_DIR, else $MICROCRED_VALIDATORS_DIR/ob3js, else
// <repository>/.validators/ob3js (where `make validators` installs them).
import {createRequire} from 'node:module';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {randomUUID} from 'node:crypto';
import path from 'node:path';
import zlib from 'node:zlib';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const base = process.env.OB3_JS_DIR ||
  path.join(process.env.MICROCRED_VALIDATORS_DIR || path.join(repo, '.validators'), 'ob3js');
const req = createRequire(path.join(base, 'package.json'));
const load = async name => import(pathToFileURL(req.resolve(name)).href);

const Ed25519Multikey = await load('@digitalcredentials/ed25519-multikey');
const {DataIntegrityProof} = await load('@digitalcredentials/data-integrity');
const {cryptosuite: eddsaRdfc2022} = await load('@digitalcredentials/eddsa-rdfc-2022-cryptosuite');
const vc = await load('@digitalcredentials/vc');
const {securityLoader} = await load('@digitalcredentials/security-document-loader');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
}

// Fixed test seed so runs are reproducible. Never use a fixed seed for real issuing.
const seedHex = arg('--seed-hex', '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
const seed = Uint8Array.from(Buffer.from(seedHex, 'hex'));
const key = await Ed25519Multikey.generate({seed});
const didKey = `did:key:${key.publicKeyMultibase}`;
const issuerId = arg('--issuer', didKey);
// The verification method must live under the issuer's DID (did:key => did:key#fingerprint).
const vmId = issuerId.startsWith('did:')
  ? `${issuerId}#${issuerId === didKey ? key.publicKeyMultibase : 'key-1'}`
  : `${issuerId}#key-1`;
const signingKey = await Ed25519Multikey.from({
  ...(await key.export({secretKey: true, includeContext: true})),
  id: vmId, controller: issuerId
});

if (process.argv.includes('--did-doc')) {
  // Print the DID document to publish at https://<host>/.well-known/did.json for a did:web issuer.
  const vm = {id: vmId, type: 'Multikey', controller: issuerId,
    publicKeyMultibase: key.publicKeyMultibase};
  process.stdout.write(JSON.stringify({
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: issuerId, verificationMethod: [vm], assertionMethod: [vmId], authentication: [vmId]
  }, null, 2) + '\n');
  process.exit(0);
}

const documentLoader = securityLoader().build();   // bundled contexts only, no fetching
const suite = new DataIntegrityProof({signer: signingKey.signer(), cryptosuite: eddsaRdfc2022});

const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
let credential;

if (arg('--status-list')) {
  // A BitstringStatusListCredential (revocation) with the bits given by --revoke i,j,...
  const size = 131072;                      // 16 KB of bits, the spec's minimum length
  const bits = Buffer.alloc(size / 8);
  for (const s of (arg('--revoke', '') || '').split(',').filter(Boolean)) {
    const i = Number(s);
    bits[i >> 3] |= (0x80 >> (i & 7));    // left-most bit is index 0
  }
  const encodedList = 'u' + zlib.gzipSync(bits).toString('base64url');
  credential = {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: arg('--status-list'),
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: issuerId,
    validFrom: now,
    credentialSubject: {
      id: arg('--status-list') + '#list',
      type: 'BitstringStatusList',
      statusPurpose: 'revocation',
      encodedList
    }
  };
} else {
  credential = {
    '@context': [
      'https://www.w3.org/ns/credentials/v2',
      'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'
    ],
    id: `urn:uuid:${randomUUID()}`,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: {id: issuerId, type: ['Profile'], name: 'Example District PD Office'},
    validFrom: now,
    name: 'Formative Assessment: Questioning',
    credentialSubject: {
      type: ['AchievementSubject'],
      identifier: [{
        type: 'IdentityObject',
        identityHash: 'teacher@example.org',
        identityType: 'emailAddress',
        hashed: false
      }],
      achievement: {
        id: 'https://example.org/microcredentials/formative-questioning',
        type: ['Achievement'],
        name: 'Formative Assessment: Questioning',
        description: 'Educator uses higher-order questioning to elicit evidence of learning.',
        criteria: {narrative: 'Lesson plan, classroom video and reflection; every rubric criterion met.'},
        achievementType: 'Badge'
      }
    }
  };
  if (arg('--status-url')) {
    credential.credentialStatus = {
      id: `${arg('--status-url')}#${arg('--status-index', '0')}`,
      type: 'BitstringStatusListEntry',
      statusPurpose: 'revocation',
      statusListIndex: String(arg('--status-index', '0')),
      statusListCredential: arg('--status-url')
    };
  }
}

const signed = await vc.issue({credential, suite, documentLoader});
process.stdout.write(JSON.stringify(signed, null, 2) + '\n');
process.stderr.write(`issuer ${issuerId}\nverificationMethod ${vmId}\n`);
