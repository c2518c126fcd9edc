// Calls to alertd's JSON APIs. Paths are relative to the page, so the UI
// works under a path prefix.

// request sends one call and returns the decoded body; an error names the
// call and carries the server's message.
async function request(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' }, cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    throw new Error(`${method} ${path}: ${e.message}`);
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!resp.ok) {
    const msg = typeof data === 'string' ? data : (data && (data.error || data.message)) || resp.statusText;
    throw new Error(`${method} ${path}: ${resp.status}: ${msg}`.trim());
  }
  return data;
}

// get returns the body of a GET.
export function get(path) {
  return request('GET', path);
}

// v1 returns the data of one of alertd's /api/v1 endpoints, which answer
// in Prometheus's {"status", "data"} envelope.
export async function v1(path) {
  const body = await request('GET', path);
  if (!body || body.status !== 'success') throw new Error(`GET ${path}: ${body && body.error ? body.error : 'unexpected answer'}`);
  return body.data;
}

export function post(path, body) {
  return request('POST', path, body);
}

export function del(path) {
  return request('DELETE', path);
}
