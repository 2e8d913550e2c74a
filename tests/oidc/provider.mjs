// A real OpenID Connect provider for Robocore's sign-in tests: panva's oidc-provider (OpenID
// certified), on loopback. Started by tests/integration/test_oidc.py; prints "ready <issuer>".
//
// Environment: PORT (listen on 127.0.0.1:PORT), REDIRECT_URI and POST_LOGOUT_URI (the Robocore
// server's), CLIENT_ID and CLIENT_SECRET. People sign in on the library's development login
// page with any password; the accounts below carry Robocore roles and groups (the roles claim
// goes out in the userinfo answer, as the `profile` scope's claims do by default), and any other
// login is a person known to the provider with no Robocore role. Consent is granted to this
// first-party client without a page. PKCE is required: a client that does not send it fails.
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const port = Number(env('PORT'));
const issuer = `http://127.0.0.1:${port}`;

const ACCOUNTS = {
  alice: { name: 'Alice Martin', email: 'alice@ddets.gouv.fr', roles: ['manager'], groups: ['ddets-31'] },
  bruno: { name: 'Bruno Petit', email: 'bruno@ddets.gouv.fr', roles: ['agent', 'engineer'], groups: ['ddets-31', 'lab'] },
  chef: { name: 'Chef Admin', email: 'chef@prefecture.gouv.fr', roles: 'admin', groups: [] },
  // known to the provider, but with no Robocore role (or only roles Robocore does not know)
  zoe: { name: 'Zoé Sans-Rôle', email: 'zoe@mairie.fr', roles: ['viewer'], groups: ['ddets-31'] },
};

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signing = { ...(await exportJWK(privateKey)), kid: 'test-key-1', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: env('CLIENT_ID'),
    client_secret: env('CLIENT_SECRET'),
    redirect_uris: [env('REDIRECT_URI')],
    post_logout_redirect_uris: [env('POST_LOGOUT_URI')],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signing] },
  cookies: { keys: ['robocore-test-provider-cookie-key'] },
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'roles', 'groups'],
  },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(_ctx, id) {
    const known = ACCOUNTS[id] ?? { name: id, email: `${id}@exemple.fr`, groups: [] };
    return {
      accountId: id,
      async claims() {
        return { sub: id, email_verified: true, ...known };
      },
    };
  },
  // first-party client: the scopes it asks for are granted without a consent page
  async loadExistingGrant(ctx) {
    const existing = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (existing) return ctx.oidc.provider.Grant.find(existing);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});
provider.proxy = false;

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
