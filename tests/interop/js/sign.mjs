/*
 * {"credential": {...}, "contexts": {...}, "cryptosuite": "eddsa-rdfc-2022" |
 *  "eddsa-jcs-2022", "privateKeyMultibase": "z3u2...", "publicKeyMultibase":
 *  "z6Mk...", "created": "2025-01-01T00:00:00Z" (optional)}
 * -> the credential signed by the JS stack (@digitalbazaar/vc issue), with the
 * verification method did:key:<pub>#<pub> and proofPurpose assertionMethod.
 * Batch form: {"contexts": {...}, "jobs": [{...}, ...]} -> {"results": [...]}.
 */
import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {createSignCryptosuite as eddsaJcs2022} from
  '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {main, securityLoader} from './common.mjs';

const CRYPTOSUITES = {
  'eddsa-rdfc-2022': () => eddsaRdfc2022,
  'eddsa-jcs-2022': () => eddsaJcs2022()
};

await main(async ({
  credential, contexts, cryptosuite, privateKeyMultibase, publicKeyMultibase,
  created
}) => {
  const make = CRYPTOSUITES[cryptosuite];
  if(!make) {
    throw new Error(`unknown cryptosuite ${JSON.stringify(cryptosuite)}`);
  }
  const controller = `did:key:${publicKeyMultibase}`;
  const key = await Ed25519Multikey.from({
    type: 'Multikey',
    id: `${controller}#${publicKeyMultibase}`,
    controller,
    publicKeyMultibase,
    secretKeyMultibase: privateKeyMultibase
  });
  const suite = new DataIntegrityProof({
    signer: key.signer(), cryptosuite: make(), ...(created ? {date: created} : {})
  });
  return vc.issue({
    credential: structuredClone(credential),
    suite,
    documentLoader: securityLoader(contexts),
    ...(created ? {now: created} : {})
  });
});
