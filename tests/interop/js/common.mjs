/*
 * Shared plumbing for the interop scripts: read one JSON value from stdin, write
 * one to stdout, and offline document loaders (bundled contexts only; did:key
 * resolved locally). Nothing here ever touches the network.
 */
import * as DidKey from '@digitalbazaar/did-method-key';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';

export async function readInput() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export function writeOutput(value) {
  // let the stream drain on its own; never call process.exit() here
  process.stdout.write(JSON.stringify(value));
}

// A script's input is one job object, or {"contexts": {...}, "jobs": [job, ...]}
// (one node start-up for many documents). Each job result is the object `run`
// returns, or {"error": "..."} if it threw.
export async function main(run) {
  try {
    const input = await readInput();
    if(Array.isArray(input.jobs)) {
      const results = [];
      for(const job of input.jobs) {
        try {
          results.push(await run({contexts: input.contexts, ...job}));
        } catch(e) {
          results.push({error: describe(e)});
        }
      }
      writeOutput({results});
    } else {
      writeOutput(await run(input));
    }
  } catch(e) {
    writeOutput({error: describe(e)});
    process.exitCode = 1;
  }
}

export function describe(error) {
  if(!error) {
    return String(error);
  }
  if(typeof error !== 'object') {
    return String(error);
  }
  const parts = [];
  const seen = new Set();
  const visit = e => {
    if(!e || typeof e !== 'object' || seen.has(e)) {
      return;
    }
    seen.add(e);
    const text = e.message || e.name || JSON.stringify(e);
    if(text && !parts.includes(text)) {
      parts.push(text);
    }
    for(const sub of Array.isArray(e.errors) ? e.errors : []) {
      visit(sub);
    }
    visit(e.cause);
    visit(e.details?.cause);
  };
  visit(error);
  return parts.join('; ');
}

// A loader that serves exactly `contexts` ({url: document}) and refuses
// everything else.
export function contextLoader(contexts = {}) {
  return async url => {
    if(Object.prototype.hasOwnProperty.call(contexts, url)) {
      return {contextUrl: null, documentUrl: url,
        document: structuredClone(contexts[url])};
    }
    throw new Error(`refusing to load ${url}: not one of the given contexts`);
  };
}

const didKeyDriver = DidKey.driver();
didKeyDriver.use({
  multibaseMultikeyHeader: 'z6Mk',
  fromMultibase: Ed25519Multikey.from
});

// `contexts` plus did:key DIDs and verification methods, resolved offline.
export function securityLoader(contexts = {}) {
  const base = contextLoader(contexts);
  return async url => {
    if(typeof url === 'string' && url.startsWith('did:key:')) {
      const document = await didKeyDriver.get({url});
      return {contextUrl: null, documentUrl: url, document};
    }
    return base(url);
  };
}
