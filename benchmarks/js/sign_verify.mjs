/*
 * eddsa-rdfc-2022 sign and verify timed with Digital Bazaar's stack (jsonld.js,
 * rdf-canonize, @digitalbazaar/vc), driven by benchmarks/bench_sign_verify.py.
 *
 * The packages are the interop tests' (tests/interop/node_modules, `npm ci --prefix
 * tests/interop`); MICROCRED_INTEROP_DIR overrides where they are. Nothing touches the
 * network: the given contexts are served as they are (the same objects on every call,
 * no copies, as the Python baselines do), did:key documents are made locally.
 *
 * Protocol: one JSON command per line on stdin, one JSON answer per line on stdout,
 * so the Python side can alternate batches of its own rounds with batches of ours.
 *   {"op": "setup", "contexts": {url: doc}, "cases": {name: {"credential", "signed"}},
 *    "privateKeyMultibase", "publicKeyMultibase", "created", "now"}
 *     -> {"versions", "proofValues": {name: "z..."}, "verified": {name: bool}}
 *   {"op": "run", "rounds": n, "cases": [name, ...] (default: all)}
 *     -> {"times": {name: {"sign": [s, ...], "verify": [s, ...]}}, "proofValues", "verified"}
 * A failure answers {"error": "..."}.
 */
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {createInterface} from 'node:readline';

const HERE = dirname(fileURLToPath(import.meta.url));
const INTEROP = process.env.MICROCRED_INTEROP_DIR ||
  join(HERE, '..', '..', 'tests', 'interop');
const require = createRequire(join(INTEROP, 'package.json'));

async function load(name) {
  return import(pathToFileURL(require.resolve(name)).href);
}

function version(name) {
  const file = join(INTEROP, 'node_modules', ...name.split('/'), 'package.json');
  return JSON.parse(readFileSync(file, 'utf8')).version;
}

const vc = await load('@digitalbazaar/vc');
const {DataIntegrityProof} = await load('@digitalbazaar/data-integrity');
const {cryptosuite: eddsaRdfc2022} =
  await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
const Ed25519Multikey = await load('@digitalbazaar/ed25519-multikey');
const DidKey = await load('@digitalbazaar/did-method-key');

const didKeyDriver = DidKey.driver();
didKeyDriver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});

let state = null;

function loader(contexts) {
  return async url => {
    if(Object.prototype.hasOwnProperty.call(contexts, url)) {
      return {contextUrl: null, documentUrl: url, document: contexts[url]};
    }
    if(typeof url === 'string' && url.startsWith('did:key:')) {
      return {contextUrl: null, documentUrl: url, document: await didKeyDriver.get({url})};
    }
    throw new Error(`refusing to load ${url}: not one of the given contexts`);
  };
}

async function sign(credential) {
  const suite = new DataIntegrityProof({
    signer: state.signer, cryptosuite: eddsaRdfc2022, date: state.created
  });
  return vc.issue({credential: structuredClone(credential), suite,
    documentLoader: state.documentLoader, now: state.created});
}

async function verify(signed) {
  const result = await vc.verifyCredential({
    credential: signed,
    suite: [new DataIntegrityProof({cryptosuite: eddsaRdfc2022})],
    documentLoader: state.documentLoader,
    checkStatus: async () => ({verified: true}),
    now: state.now
  });
  return result.verified === true;
}

async function check(names) {
  const proofValues = {};
  const verified = {};
  for(const name of names) {
    const {credential, signed} = state.cases[name];
    proofValues[name] = (await sign(credential)).proof.proofValue;
    verified[name] = await verify(signed);
  }
  return {proofValues, verified};
}

async function setup(command) {
  const controller = `did:key:${command.publicKeyMultibase}`;
  const key = await Ed25519Multikey.from({
    type: 'Multikey',
    id: `${controller}#${command.publicKeyMultibase}`,
    controller,
    publicKeyMultibase: command.publicKeyMultibase,
    secretKeyMultibase: command.privateKeyMultibase
  });
  state = {
    cases: command.cases, created: command.created, now: command.now,
    signer: key.signer(), documentLoader: loader(command.contexts)
  };
  const versions = {node: process.version};
  for(const name of ['jsonld', 'rdf-canonize', '@digitalbazaar/vc',
    '@digitalbazaar/eddsa-rdfc-2022-cryptosuite']) {
    versions[name] = version(name);
  }
  return {versions, ...await check(Object.keys(state.cases))};
}

async function run({rounds, cases}) {
  const names = cases || Object.keys(state.cases);
  const times = {};
  for(const name of names) {
    times[name] = {sign: [], verify: []};
  }
  for(let i = 0; i < rounds; i++) {
    for(const name of names) {
      const {credential, signed} = state.cases[name];
      let start = performance.now();
      await sign(credential);
      times[name].sign.push((performance.now() - start) / 1000);
      start = performance.now();
      await verify(signed);
      times[name].verify.push((performance.now() - start) / 1000);
    }
  }
  return {times, ...await check(names)};
}

const COMMANDS = {setup, run};

for await (const line of createInterface({input: process.stdin})) {
  if(!line.trim()) {
    continue;
  }
  let answer;
  try {
    const command = JSON.parse(line);
    const handler = COMMANDS[command.op];
    if(!handler) {
      throw new Error(`unknown op ${JSON.stringify(command.op)}`);
    }
    answer = await handler(command);
  } catch(e) {
    answer = {error: String(e && e.stack || e)};
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
