/*
 * {"document": {...}, "contexts": {url: doc}} -> {"nquads": "..."}
 * jsonld.js canonize: RDFC-1.0, safe mode, no base IRI, only the given contexts.
 * Optional "rdfDirection" (e.g. "i18n-datatype", as eddsa-rdfc-2022 uses).
 * Batch form: {"contexts": {...}, "jobs": [{"document": ...}, ...]} -> {"results": [...]}.
 */
import jsonld from 'jsonld';
import {contextLoader, main} from './common.mjs';

await main(async ({document, contexts, rdfDirection}) => {
  const options = {
    algorithm: 'RDFC-1.0',
    format: 'application/n-quads',
    safe: true,
    base: null,
    documentLoader: contextLoader(contexts)
  };
  if(rdfDirection) {
    options.rdfDirection = rdfDirection;
  }
  return {nquads: await jsonld.canonize(document, options)};
});
