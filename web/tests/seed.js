// Creates the users the browser tests log in as (password "pw"), with the admin credential:
//   node tests/seed.js BASE_URL APP_KEY CLIENT_ID CLIENT_SECRET user…
const [base, appKey, clientId, clientSecret, ...users] = process.argv.slice(2);
const rest = `${base}/${appKey.replace('#', '/')}`;

async function call(path, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${rest}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const { access_token: token } = await call('/token', { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
await call('/users', users.map((username) => ({ username, password: 'pw' })), token);
console.log(`seeded ${users.join(', ')}`);
