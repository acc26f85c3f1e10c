// A stand-in for `undici` in our bundles. undici's index loads every part it has (fetch,
// WebSocket, the cache and cookie APIs, mock agents, the SQLite cache store…): ~9 MB of memory in
// a process that uses three of them. The bridge imports only what is exported here; each export
// is undici's own (the test in test/unit/bundle-split.test.ts checks they are the same objects),
// and `request` is built the way undici's index builds it.
'use strict';
const Dispatcher = require('undici/lib/dispatcher/dispatcher');
const Agent = require('undici/lib/dispatcher/agent');
const EnvHttpProxyAgent = require('undici/lib/dispatcher/env-http-proxy-agent');
const api = require('undici/lib/api');
const util = require('undici/lib/core/util');
const errors = require('undici/lib/core/errors');
const { getGlobalDispatcher, setGlobalDispatcher } = require('undici/lib/global');

Object.assign(Dispatcher.prototype, api);

/** undici's makeDispatcher (index.js): `request(url, options)` on the options' dispatcher. */
function makeDispatcher(fn) {
  return (url, opts, handler) => {
    if (typeof opts === 'function') {
      handler = opts;
      opts = null;
    }
    if (!url || (typeof url !== 'string' && typeof url !== 'object' && !(url instanceof URL))) {
      throw new errors.InvalidArgumentError('invalid url');
    }
    if (opts != null && typeof opts !== 'object') {
      throw new errors.InvalidArgumentError('invalid opts');
    }
    if (opts && opts.path != null) {
      if (typeof opts.path !== 'string') {
        throw new errors.InvalidArgumentError('invalid opts.path');
      }
      const path = opts.path.startsWith('/') ? opts.path : `/${opts.path}`;
      url = new URL(util.parseOrigin(url).origin + path);
    } else {
      if (!opts) {
        opts = typeof url === 'object' ? url : {};
      }
      url = util.parseURL(url);
    }
    const { agent, dispatcher = getGlobalDispatcher() } = opts;
    if (agent) {
      throw new errors.InvalidArgumentError('unsupported opts.agent. Did you mean opts.client?');
    }
    return fn.call(
      dispatcher,
      { ...opts, origin: url.origin, path: url.search ? `${url.pathname}${url.search}` : url.pathname, method: opts.method || (opts.body ? 'PUT' : 'GET') },
      handler,
    );
  };
}

module.exports = {
  Dispatcher,
  Agent,
  EnvHttpProxyAgent,
  errors,
  getGlobalDispatcher,
  setGlobalDispatcher,
  request: makeDispatcher(api.request),
};
