/*
 * {"credential": {...}, "contexts": {url: doc}} -> {"verified": bool, "error": "..."}
 * @digitalbazaar/vc verifyCredential with DataIntegrityProof for eddsa-rdfc-2022
 * and eddsa-jcs-2022, the default CredentialIssuancePurpose (the issuer must
 * control the verification method), did:key resolved offline, the given contexts
 * only. Optional "now" (ISO date-time) fixes the clock for validFrom/validUntil.
 * credentialStatus is not under test: a no-op checkStatus accepts it.
 * Batch form: {"contexts": {...}, "jobs": [{"credential": ...}, ...]}.
 */
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {createVerifyCryptosuite as eddsaJcs2022} from
  '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {describe, main, securityLoader} from './common.mjs';

await main(async ({credential, contexts, now}) => {
  const suite = [
    new DataIntegrityProof({cryptosuite: eddsaRdfc2022}),
    new DataIntegrityProof({cryptosuite: eddsaJcs2022()})
  ];
  const result = await vc.verifyCredential({
    credential,
    suite,
    documentLoader: securityLoader(contexts),
    checkStatus: async () => ({verified: true}),
    ...(now ? {now} : {})
  });
  const out = {verified: result.verified === true};
  if(!out.verified) {
    const errors = [result.error,
      ...(result.results || []).map(r => r.error)].filter(Boolean);
    out.error = errors.map(describe).join('; ') || 'not verified';
  }
  return out;
});
