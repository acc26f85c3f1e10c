// A stand-in for `iconv-lite` in our bundles. express pulls it in (through body-parser and
// raw-body) for request-body charsets, and its code-page tables are ~480 KB of the bundle. The
// bridge reads and decodes request bodies itself (JSON is UTF-8), so only this subset is ever
// reachable; it covers every charset Node decodes natively and rejects the rest the way
// iconv-lite does (raw-body turns that into a 415 "unsupported charset").
'use strict';
const { StringDecoder } = require('node:string_decoder');

function nodeEncoding(encoding) {
  const name = String(encoding)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
  // Only charsets where Node's codec and iconv-lite agree byte for byte.
  const map = { utf8: 'utf8', utf16le: 'utf16le', ucs2: 'utf16le', latin1: 'latin1', iso88591: 'latin1', binary: 'latin1' };
  return map[name];
}

function requireEncoding(encoding) {
  const found = nodeEncoding(encoding);
  if (!found) {
    const error = new Error(`Encoding not recognized: '${encoding}' (searched as: '${String(encoding).toLowerCase()}')`);
    throw error;
  }
  return found;
}

module.exports = {
  encodingExists: (encoding) => nodeEncoding(encoding) !== undefined,
  decode: (buffer, encoding) => Buffer.from(buffer).toString(requireEncoding(encoding)),
  encode: (text, encoding) => Buffer.from(String(text), requireEncoding(encoding)),
  getDecoder: (encoding) => {
    const decoder = new StringDecoder(requireEncoding(encoding));
    return { write: (chunk) => decoder.write(chunk), end: () => decoder.end() };
  },
};
