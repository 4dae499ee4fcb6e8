/*
 * A real, certified OpenID Provider (panva's oidc-provider) on loopback, for the issuer's
 * sign-in tests (tests/issuer/access/test_oidc_flow.py).
 *
 *   node oidc_provider.mjs < config.json
 *
 * config: {"port": 0, "clients": [{"client_id", "client_secret", "redirect_uris": [...]}],
 *          "accounts": {"<login>": {"email": "...", "email_verified": true, "name": "..."}}}
 *
 * Prints one line, {"issuer": "http://127.0.0.1:PORT"}, once it listens; stops when its standard
 * input closes (so it never outlives the test process). Logins are devInteractions' forms: any
 * password, and the login names the account (an unknown login ends in an error at the provider).
 * The signing key is made at start-up and published at the provider's jwks_uri.
 */
import {generateKeyPairSync, randomBytes} from 'node:crypto';
import {createServer} from 'node:http';
import {createInterface} from 'node:readline';
import Provider from 'oidc-provider';

// the config is the first line of stdin; stdin then stays open as the lifeline: when it closes, we stop
const lines = createInterface({input: process.stdin});
lines.on('close', () => process.exit(0));

function readConfig() {
  return new Promise(resolve => lines.once('line', line => resolve(JSON.parse(line))));
}

function signingKey() {
  const {privateKey} = generateKeyPairSync('rsa', {modulusLength: 2048});
  return {...privateKey.export({format: 'jwk'}), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256'};
}

const config = await readConfig();
const accounts = config.accounts || {};
const host = '127.0.0.1';

// the port must be known before the issuer URL: bind first, then build the provider on it
const server = createServer();
await new Promise(resolve => server.listen(config.port || 0, host, resolve));
const issuer = `http://${host}:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: config.clients.map(client => ({
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...client,
  })),
  jwks: {keys: [signingKey()]},
  cookies: {keys: [randomBytes(32).toString('hex')]},
  claims: {openid: ['sub'], email: ['email', 'email_verified'], profile: ['name']},
  features: {devInteractions: {enabled: true}},
  pkce: {required: () => true},
  async findAccount(ctx, id) {
    if(!Object.hasOwn(accounts, id)) {
      return undefined;
    }
    return {accountId: id, async claims() {
      return {sub: id, ...accounts[id]};
    }};
  },
});
provider.on('server_error', (ctx, error) => process.stderr.write(`server_error: ${error.stack}\n`));

server.on('request', provider.callback());
process.stdout.write(JSON.stringify({issuer}) + '\n');
